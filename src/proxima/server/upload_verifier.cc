#include "proxima/server/upload_verifier.h"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <set>
#include <sstream>
#include <vector>

#include "proxima/base/hash.h"
#include "proxima/model/keys.h"
#include "proxima/model/pack.h"

namespace proxima {

namespace {

// How often the thread looks for rows it was not woken for (another hub's).
constexpr auto kPollInterval = std::chrono::seconds(5);
// Verification waits for a pause this long in the uploads...
constexpr auto kQuiet = std::chrono::milliseconds(1000);
// ...but no longer than this after the first upload it has not verified.
constexpr auto kMaxDelay = std::chrono::seconds(60);
// An upload's row is written before its bytes; a row without bytes is let
// go only once the upload has had time to finish or fail (the server's read
// timeout is one minute).
constexpr int64_t kGraceNs = int64_t{10} * 60 * 1'000'000'000;

std::vector<std::string> SplitSpaces(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// The calling thread at SCHED_IDLE while it lives: only the hashing, so
// that the thread never holds the catalog (SQLite's write lock, a pooled
// connection) while starved. Best effort both ways: an unprivileged thread
// may not be allowed back (RLIMIT_NICE), and then stays idle.
class IdlePriority {
 public:
  IdlePriority() {
    sched_param param{};
    idle_ = pthread_getschedparam(pthread_self(), &policy_, &saved_) == 0 &&
            pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0;
  }
  ~IdlePriority() {
    if (idle_) pthread_setschedparam(pthread_self(), policy_, &saved_);
  }
  IdlePriority(const IdlePriority&) = delete;
  IdlePriority& operator=(const IdlePriority&) = delete;

 private:
  bool idle_ = false;
  int policy_ = SCHED_OTHER;
  sched_param saved_{};
};

}  // namespace

std::string IncomingKey(const ObjectId& pack) {
  // 128 random bits: no two uploads, of any hub or run, share a key.
  return IncomingPackPrefix(pack) + RandomHex(16);
}

UploadVerifier::UploadVerifier(Catalog* catalog, ObjectStore* store, Clock* clock,
                               std::function<void(const std::string&)> log)
    : catalog_(catalog), store_(store), clock_(clock), log_(std::move(log)) {}

UploadVerifier::~UploadVerifier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void UploadVerifier::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void UploadVerifier::Wake() {
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (!woken_) first_wake_ = now;
    woken_ = true;
    last_wake_ = now;
  }
  cv_.notify_all();
}

void UploadVerifier::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    // While packs keep arriving the hub's CPU and disk serve the uploads:
    // verify once they pause, or at the latest kMaxDelay after the first.
    while (!stop_ && woken_) {
      auto until = std::min(last_wake_ + kQuiet, first_wake_ + kMaxDelay);
      if (std::chrono::steady_clock::now() >= until) break;
      cv_.wait_until(lock, until);
    }
    woken_ = false;
    lock.unlock();
    Status s = RunOnce();
    if (!s.ok() && log_) log_("upload verifier: " + s.ToString() + " (will try again)");
    lock.lock();
    cv_.wait_for(lock, kPollInterval, [this] { return stop_ || woken_; });
  }
}

Status UploadVerifier::VerifyPack(const UnverifiedRecord& row, bool* done) {
  *done = false;
  auto id = IdFromKey(ObjectKind::kPack, row.object);
  // Read straight into a reused buffer (a local store reads it with
  // O_DIRECT: the incoming copy was written that way, not into the cache).
  Result<uint64_t> size = store_->Size(row.key);
  Result<std::string_view> bytes =
      size.ok() ? store_->GetRangeInto(row.key, 0, *size, &buffer_) : size.status();
  if (!bytes.ok()) {
    if (!bytes.status().IsNotFound()) return bytes.status();
    // No bytes: the upload may still be on its way (the row comes first).
    // Past the grace period it never succeeded (the hub stopped between the
    // row and the bytes), or another hub on the catalog settled it.
    *done = Settled(row);
    return Status::Ok();
  }
  Status check = Status::Corruption("'" + row.object + "' is not a pack key");
  if (id) {
    IdlePriority idle;  // the hashing takes only CPU that nothing else wants
    check = ::proxima::VerifyPack(*bytes, *id, row.object).status();
  }
  if (check.ok()) {
    Status moved = store_->Rename(row.key, row.object);
    if (!moved.ok() && !moved.IsNotFound()) return moved;
    *done = true;
    return Status::Ok();
  }
  if (!check.IsCorruption()) return check;
  // The record first: a failure after it leaves the row for the next pass.
  PROXIMA_RETURN_IF_ERROR(
      catalog_->AppendAudit({0, clock_->NowUnixNanos(), row.uploader, "object.reject",
                             "object:" + row.object, check.message()}));
  if (log_) {
    log_("rejected an upload of " + row.object + " by " + row.uploader + ": " + check.message());
  }
  PROXIMA_RETURN_IF_ERROR(store_->Delete(row.key));
  *done = true;
  return Status::Ok();
}

bool UploadVerifier::Settled(const UnverifiedRecord& row) const {
  return clock_->NowUnixNanos() - row.unix_ns > kGraceNs;
}

Status UploadVerifier::RunOnce() {
  std::lock_guard run(run_mu_);
  PROXIMA_ASSIGN_OR_RETURN(std::vector<UnverifiedRecord> rows, catalog_->ListUnverified());
  Status first = Status::Ok();
  auto note = [&](Status s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  };
  auto start = std::chrono::steady_clock::now();
  size_t packs = 0;
  std::vector<std::string> settled;
  for (const UnverifiedRecord& row : rows) {
    if (row.object.empty()) continue;
    bool done = false;
    note(VerifyPack(row, &done));
    if (done) settled.push_back(row.key);
    ++packs;
  }
  if (log_ && packs > 0) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log_("upload verifier: " + std::to_string(packs) + " packs in " + std::to_string(seconds) +
         " s");
  }
  // Indexes: settled once each pack they list is in place; dropped when one
  // of them failed and no copy of it is left (after the grace period: the
  // index itself may still be on its way).
  std::vector<std::string> dropped;
  for (const UnverifiedRecord& row : rows) {
    if (!row.object.empty()) continue;
    bool waiting = false;
    std::string lost;
    for (const std::string& pack : SplitSpaces(row.packs)) {
      Result<uint64_t> size = store_->Size(pack);
      if (size.ok()) continue;
      if (!size.status().IsNotFound()) {
        note(size.status());
        waiting = true;
        continue;
      }
      Result<std::vector<UnverifiedRecord>> copies = catalog_->UnverifiedCopies(pack);
      if (!copies.ok()) {
        note(copies.status());
        waiting = true;
      } else if (!copies->empty()) {
        waiting = true;
      } else {
        lost = pack;
      }
    }
    if (!lost.empty()) {
      if (!Settled(row)) continue;
      Status s = catalog_->AppendAudit({0, clock_->NowUnixNanos(), row.uploader, "object.reject",
                                        "object:" + row.key,
                                        "lists " + lost + ", which failed its verification"});
      if (s.ok()) s = store_->Delete(row.key);
      if (s.ok()) {
        dropped.push_back(row.key);
        settled.push_back(row.key);
      }
      note(s);
    } else if (!waiting) {
      settled.push_back(row.key);
    }
  }
  // One sync for every move and deletion of the pass, then the rows: a row
  // goes only once its pack is durably in place, or its pack or index is
  // durably gone.
  if (!settled.empty()) {
    Status synced = store_->Sync();
    if (!synced.ok()) return synced;
    for (const std::string& key : settled) note(catalog_->RemoveUnverified(key));
  }
  return first;
}

}  // namespace proxima
