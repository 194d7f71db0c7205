#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace proxima {

// A pool of database connections handed out first come, first served. A
// released connection goes straight to the thread that has waited longest,
// so under load no request starves while others barge ahead (which is what
// a plain mutex and condition variable do, and what long tail latencies
// look like). Thread-safe.
template <typename Connection>
class FairPool {
 public:
  void Add(std::unique_ptr<Connection> c) { Release(std::move(c)); }

  std::unique_ptr<Connection> Acquire() {
    std::unique_lock lock(mu_);
    if (waiters_.empty() && !idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    Waiter w;
    waiters_.push_back(&w);
    w.cv.wait(lock, [&] { return w.connection != nullptr; });
    return std::move(w.connection);
  }

  void Release(std::unique_ptr<Connection> c) {
    std::lock_guard lock(mu_);
    if (waiters_.empty()) {
      idle_.push_back(std::move(c));
      return;
    }
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->connection = std::move(c);
    w->cv.notify_one();
  }

  // Borrows a connection for a scope.
  class Lease {
   public:
    explicit Lease(FairPool* pool) : pool_(pool), c_(pool->Acquire()) {}
    ~Lease() { pool_->Release(std::move(c_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection* operator->() { return c_.get(); }
    Connection& operator*() { return *c_; }

   private:
    FairPool* pool_;
    std::unique_ptr<Connection> c_;
  };

 private:
  struct Waiter {
    std::condition_variable cv;
    std::unique_ptr<Connection> connection;
  };
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::deque<Waiter*> waiters_;
};

}  // namespace proxima
