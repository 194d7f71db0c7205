#pragma once

// Uploads checked after they are stored (`verify_uploads: behind`,
// docs/api.md, "Objects").
//
// Verifying a pack means hashing every byte of it again (SHA-256 of each
// blob against its id): a second hashing of everything synced, which on a
// hub that shares cores with its clients doubles the CPU of a sync. The hub
// checks a pack's trailer (its id) at once, stores the pack under an
// incoming key, and answers; a verifier thread, at idle priority, hashes the
// blobs afterwards and moves the pack into place, or drops it and every
// index that lists it.
//
// Until then the pack is *pending*:
// - reads of its key are served from the incoming copy (PendingPackStore;
//   readers verify each blob anyway), so the uploader's commit is readable
//   at once, through the hub or from the store directly;
// - an index that lists it is marked `pending` in the listings of every
//   other user, whose clients then do not deduplicate against its blobs:
//   a writer that lies about a blob cannot make anyone else's commit point
//   at its bytes;
// - the pending rows live in the catalog, so a restarted hub (or another
//   hub on the same catalog) finishes the work.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "proxima/base/aligned_buffer.h"
#include "proxima/model/keys.h"
#include "proxima/ports/catalog.h"
#include "proxima/ports/clock.h"
#include "proxima/ports/object_store.h"

namespace proxima {

// Where one upload of `pack` waits for its verification:
// IncomingPackPrefix (model/keys.h) and a suffix of its own.
std::string IncomingKey(const ObjectId& pack);

class UploadVerifier {
 public:
  UploadVerifier(Catalog* catalog, ObjectStore* store, Clock* clock,
                 std::function<void(const std::string&)> log);
  ~UploadVerifier();  // stops the thread
  UploadVerifier(const UploadVerifier&) = delete;
  UploadVerifier& operator=(const UploadVerifier&) = delete;

  // Starts the thread. It hashes at idle priority (SCHED_IDLE: only CPU
  // that nothing else wants), and starts once uploads pause for a second, or
  // a minute after the first it has not verified, CPU permitting. It also
  // looks every few seconds for rows that another hub on the same catalog
  // added.
  void Start();
  // Something was uploaded.
  void Wake();
  // Verifies every pending upload now; the first error (the rows of an
  // upload that could not be read stay for the next pass).
  Status RunOnce();

 private:
  void Loop();
  // Verifies one pending pack: moves it into place, or drops it. `done`:
  // its row may go once the store is synced.
  Status VerifyPack(const UnverifiedRecord& row, bool* done);
  // Whether a row is old enough that its upload has finished or failed.
  bool Settled(const UnverifiedRecord& row) const;
  AlignedBuffer buffer_;  // a pack at a time, reused

  Catalog* catalog_;
  ObjectStore* store_;
  Clock* clock_;
  std::function<void(const std::string&)> log_;
  std::mutex run_mu_;  // one pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::chrono::steady_clock::time_point first_wake_, last_wake_;  // of the unserved wakes
  std::thread thread_;
};

}  // namespace proxima
