#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "proxima/core/folder_lock.h"
#include "proxima/core/scheduler.h"

namespace proxima {

// Runs the scheduler's passes on a thread of its own: again at once after a
// Wake(), every 50 ms while jobs stage or run, and every `idle_ns` otherwise.
// Only the process holding <jobs_dir>/.scheduler.lock schedules, so a hub
// and a `proxima run` on the same machine never both launch a job; the
// other one waits for the lock.
class SchedulerThread {
 public:
  SchedulerThread(SchedulerServices services, SchedulerOptions options, int64_t idle_ns);
  ~SchedulerThread();  // stops it after the pass in progress
  SchedulerThread(const SchedulerThread&) = delete;
  SchedulerThread& operator=(const SchedulerThread&) = delete;

  void Wake();

 private:
  void Loop();
  std::function<void(const std::string&)> log_;
  std::string lock_path_;
  int64_t idle_ns_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<FileLock> lock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace proxima
