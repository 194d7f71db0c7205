#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "proxima/base/result.h"
#include "proxima/ports/catalog.h"
#include "proxima/ports/clock.h"
#include "proxima/ports/executor.h"
#include "proxima/ports/object_store.h"

namespace proxima {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;            // 0: any free port (see HubServer::port())
  std::string tls_cert_file;  // PEM; both set: HTTPS
  std::string tls_key_file;
  size_t max_object_bytes = 256ull << 20;  // PUT of one object
  size_t max_json_bytes = 1 << 20;         // any JSON request body
  size_t max_page_size = 1000;             // ?limit= above this is refused
  int threads = 64;                        // connections served at once
  // How uploaded packs are checked (docs/api.md, "Objects"): every blob
  // before the upload returns; every blob after it, by a verifier thread,
  // while no other writer may deduplicate against the pack (the default); or
  // only the trailer, for hubs whose writers are trusted.
  enum class VerifyUploads { kBlobs, kBehind, kTrailers };
  VerifyUploads verify_uploads = VerifyUploads::kBehind;
  // Tests pause the verifier and run it with HubServer::VerifyUploadsNow().
  bool verifier_thread = true;
  // How often the cache janitor passes over the volumes this machine
  // mounts (docs/caches.md); 0: never.
  int64_t janitor_interval_ns = int64_t{600} * 1'000'000'000;
  // The meta-scheduler (docs/scheduler.md): the executor of a resource
  // (nullptr: none on this hub), where jobs keep private clones, and how
  // long the scheduler sleeps when nothing is moving (it wakes at once on
  // a submission). No executor_for: the hub schedules nothing.
  std::function<Executor*(const ResourceRecord&)> executor_for;
  std::string jobs_dir;
  // The machine's shape, for the default "local" resource a fresh catalog
  // gets (core/scheduler.h, EnsureDefaultCompute).
  Shape local_capacity{1000, 0, 0};
  int64_t scheduler_idle_ns = int64_t{1'000'000'000};
  // Where request log lines go ("" : nowhere). Called from many threads.
  std::function<void(const std::string& line)> log;
};

// The hub: the REST API of docs/api.md over a catalog and an object store.
// Owns nothing it is given; they must outlive it.
class HubServer {
 public:
  HubServer(Catalog* catalog, ObjectStore* store, Clock* clock, ServerOptions options);
  ~HubServer();
  HubServer(const HubServer&) = delete;
  HubServer& operator=(const HubServer&) = delete;

  // Opens the store (creating its config if new), binds the port, and
  // creates the first administrator when the catalog has no user:
  // `admin_secret` when given (PROXIMA_ADMIN_TOKEN), otherwise a new token
  // returned in `*new_admin_secret` to be shown once.
  Status Start(const std::string& admin_secret, std::string* new_admin_secret);
  int port() const;
  // Serves until Stop(); in-flight requests finish before it returns.
  Status Serve();
  // Thread-safe and async-signal-unsafe: call from a normal thread.
  void Stop();
  // Asks the scheduler for a pass now (an executor saw an attempt end).
  // Thread-safe; does nothing before Serve() or without a scheduler.
  void WakeScheduler();
  // Verifies every upload stored unverified, now (the verifier thread does
  // it on its own); the first error.
  Status VerifyUploadsNow();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs `server` until SIGTERM or SIGINT, then stops it gracefully. Blocks
// those signals in the calling thread (and the threads it starts later).
Status ServeUntilSignalled(HubServer& server);

}  // namespace proxima
