#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "proxima/core/repository.h"
#include "proxima/ports/catalog.h"
#include "proxima/ports/clock.h"

namespace proxima {

// The hub's cache janitor (docs/caches.md): every `interval_ns` it runs the
// janitor's pass over every volume of the catalog that this machine mounts,
// and logs what it evicted. Volumes it cannot reach are left to the nodes
// that mount them (`proxima cache gc`), and said so once.
class CacheJanitorThread {
 public:
  CacheJanitorThread(Catalog* catalog, Repository* repo, Clock* clock, int64_t interval_ns,
                     std::function<void(const std::string&)> log);
  ~CacheJanitorThread();  // stops it
  CacheJanitorThread(const CacheJanitorThread&) = delete;
  CacheJanitorThread& operator=(const CacheJanitorThread&) = delete;

  // One pass over every volume, now (the thread calls it on schedule).
  void RunOnce();

 private:
  void Loop();
  Catalog* catalog_;
  Repository* repo_;
  Clock* clock_;
  int64_t interval_ns_;
  std::function<void(const std::string&)> log_;
  std::set<std::string> unreachable_;  // volumes already reported
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace proxima
