#include "proxima/server/upload_verifier.h"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <set>
#include <sstream>
#include <vector>

#include "proxima/base/file_util.h"
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

std::vector<std::string> SplitSpaces(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

}  // namespace

std::string IncomingKey(std::string_view pack_key) {
  std::optional<ObjectId> id = IdFromKey(ObjectKind::kPack, pack_key);
  return (id ? IncomingPackPrefix(*id) : std::string(kIncomingPrefix) + "unknown.") +
         UniqueTempSuffix();
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
  thread_ = std::thread([this] {
    sched_param param{};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);  // best effort
    Loop();
  });
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

Status UploadVerifier::VerifyPack(const UnverifiedRecord& row, bool* rejected, bool* done) {
  *rejected = false;
  *done = false;
  auto id = IdFromKey(ObjectKind::kPack, row.object);
  // Read straight into a reused buffer (a local store reads it with
  // O_DIRECT: the incoming copy was written that way, not into the cache).
  Result<uint64_t> size = store_->Size(row.key);
  Result<std::string_view> bytes =
      size.ok() ? store_->GetRangeInto(row.key, 0, *size, &buffer_) : size.status();
  if (!bytes.ok()) {
    // Gone: the hub stopped between the row and the bytes (the upload never
    // succeeded), or another hub verified it first.
    *done = bytes.status().IsNotFound();
    return *done ? Status::Ok() : bytes.status();
  }
  Status check = id ? ::proxima::VerifyPack(*bytes, *id, row.object).status()
                    : Status::Corruption("'" + row.object + "' is not a pack key");
  if (check.ok()) {
    Status moved = store_->Rename(row.key, row.object);
    if (!moved.ok() && !moved.IsNotFound()) return moved;
    *done = true;
    return Status::Ok();
  }
  if (!check.IsCorruption()) return check;
  *rejected = true;
  PROXIMA_RETURN_IF_ERROR(store_->Delete(row.key));
  PROXIMA_RETURN_IF_ERROR(
      catalog_->AppendAudit({0, clock_->NowUnixNanos(), row.uploader, "object.reject",
                             "object:" + row.object, check.message()}));
  if (log_) {
    log_("rejected an upload of " + row.object + " by " + row.uploader + ": " + check.message());
  }
  *done = true;
  return Status::Ok();
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
    bool rejected = false, done = false;
    note(VerifyPack(row, &rejected, &done));
    if (done) settled.push_back(row.key);
    ++packs;
  }
  // One sync for every move of the pass, then the rows: a row goes only
  // once its pack is durably in place (or durably gone).
  if (!settled.empty()) {
    Status synced = store_->Sync();
    if (!synced.ok()) return synced;
    for (const std::string& key : settled) note(catalog_->RemoveUnverified(key));
  }
  if (log_ && packs > 0) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log_("upload verifier: " + std::to_string(packs) + " packs in " + std::to_string(seconds) +
         " s");
  }
  // Indexes: settled once each pack they list is in place; dropped when one
  // of them was rejected and no copy of it is left.
  for (const UnverifiedRecord& row : rows) {
    if (!row.object.empty()) continue;
    bool waiting = false, missing = false;
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
        missing = true;
        lost = pack;
      }
    }
    if (missing) {
      Status s = store_->Delete(row.key);
      if (s.ok()) {
        s = catalog_->AppendAudit({0, clock_->NowUnixNanos(), row.uploader, "object.reject",
                                   "object:" + row.key,
                                   "lists " + lost + ", which failed its verification"});
      }
      if (s.ok()) s = catalog_->RemoveUnverified(row.key);
      note(s);
    } else if (!waiting) {
      note(catalog_->RemoveUnverified(row.key));
    }
  }
  return first;
}

}  // namespace proxima
