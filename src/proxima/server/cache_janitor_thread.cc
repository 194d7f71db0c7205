#include "proxima/server/cache_janitor_thread.h"

#include <chrono>

#include "proxima/core/cache_janitor.h"

namespace proxima {

CacheJanitorThread::CacheJanitorThread(Catalog* catalog, Repository* repo, Clock* clock,
                                       int64_t interval_ns,
                                       std::function<void(const std::string&)> log)
    : catalog_(catalog),
      repo_(repo),
      clock_(clock),
      interval_ns_(interval_ns),
      log_(std::move(log)) {
  if (interval_ns_ > 0) thread_ = std::thread([this] { Loop(); });
}

CacheJanitorThread::~CacheJanitorThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CacheJanitorThread::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::nanoseconds(interval_ns_), [this] { return stop_; })) {
    lock.unlock();
    RunOnce();
    lock.lock();
  }
}

void CacheJanitorThread::RunOnce() {
  auto say = [&](const std::string& line) {
    if (log_) log_("janitor: " + line);
  };
  Result<std::vector<VolumeRecord>> volumes = catalog_->ListVolumes();
  if (!volumes.ok()) {
    say("cannot list volumes: " + volumes.status().message());
    return;
  }
  CacheServices services{*repo_, *catalog_, *clock_, 4, nullptr, {}};
  for (const VolumeRecord& v : *volumes) {
    if (!CacheVolume::Open(v).ok()) {
      if (unreachable_.insert(v.name).second) {
        say("volume '" + v.name + "' is not mounted here (" + v.path +
            "); run 'proxima cache gc --volume " + v.name + "' where it is");
      }
      continue;
    }
    unreachable_.erase(v.name);
    Result<GcReport> r = CollectGarbage(services, v, GcOptions{});
    if (!r.ok()) {
      say("volume '" + v.name + "': " + r.status().message());
      continue;
    }
    for (const Eviction& e : r->evictions) {
      say("volume '" + v.name + "': evicted " + e.dataset + "@" + e.commit.ShortHex() + " (" +
          std::to_string(e.bytes) + " bytes): " + e.why);
    }
    if (r->pool_files_removed > 0 || r->leases_expired > 0) {
      say("volume '" + v.name + "': " + std::to_string(r->pool_files_removed) +
          " pool files removed (" + std::to_string(r->pool_bytes_freed) + " bytes), " +
          std::to_string(r->leases_expired) + " expired leases collected");
    }
  }
}

}  // namespace proxima
