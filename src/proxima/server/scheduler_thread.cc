#include "proxima/server/scheduler_thread.h"

#include <chrono>

#include "proxima/base/file_util.h"

namespace proxima {

SchedulerThread::SchedulerThread(SchedulerServices services, SchedulerOptions options,
                                 int64_t idle_ns)
    : log_(services.log), lock_path_(options.jobs_dir + "/.scheduler.lock"), idle_ns_(idle_ns) {
  IgnoreError(MakeDirs(options.jobs_dir));  // a failure shows when the lock is taken
  scheduler_ = std::make_unique<Scheduler>(std::move(services), std::move(options));
  thread_ = std::thread([this] { Loop(); });
}

SchedulerThread::~SchedulerThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SchedulerThread::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void SchedulerThread::Loop() {
  bool said_locked = false;
  std::string last_error;
  std::chrono::steady_clock::time_point last_pass{};
  for (;;) {
    bool busy = false;
    if (lock_ == nullptr) {
      Result<std::unique_ptr<FileLock>> taken =
          FileLock::Take(lock_path_, FileLock::Mode::kExclusive, /*wait=*/false);
      if (taken.ok() && *taken != nullptr) {
        lock_ = std::move(*taken);
        if (said_locked && log_) log_("scheduler: the lock is free again; scheduling");
      } else if (!said_locked && log_) {
        log_("scheduler: another process schedules the jobs of this machine (" + lock_path_ +
             " is locked); waiting for it to stop" +
             (taken.ok() ? "" : ": " + taken.status().message()));
        said_locked = true;
      }
    }
    if (lock_ != nullptr) {
      Result<PassReport> pass = scheduler_->RunOnce();
      last_pass = std::chrono::steady_clock::now();
      if (!pass.ok()) {
        if (log_ && pass.status().message() != last_error) {
          log_("scheduler: " + pass.status().message());
        }
        last_error = pass.status().message();
      } else {
        last_error.clear();
        busy = pass->busy;
      }
    }
    std::unique_lock lock(mu_);
    auto wait = std::chrono::nanoseconds(busy ? 50'000'000 : idle_ns_);
    cv_.wait_for(lock, wait, [this] { return stop_ || woken_; });
    if (stop_) return;
    // At most one pass per 5 ms: wake-ups that come in a burst (many
    // attempts ending, many submissions) share one, since a pass reads
    // every active job. A lone wake-up after a quiet spell passes at once.
    auto since = std::chrono::steady_clock::now() - last_pass;
    if (woken_ && since < std::chrono::milliseconds(5)) {
      cv_.wait_for(lock, std::chrono::milliseconds(5) - since, [this] { return stop_; });
    }
    if (stop_) return;
    woken_ = false;
  }
}

}  // namespace proxima
