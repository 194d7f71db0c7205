#include "proxima/adapters/retrying_object_store.h"
#include "proxima/ports/forwarding_object_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "proxima/adapters/fault_injecting_object_store.h"
#include "proxima/adapters/memory_object_store.h"

namespace proxima {
namespace {

class RetryingTest : public ::testing::Test {
 protected:
  void Make(FaultInjectingObjectStore::Faults faults, RetryPolicy policy = {}) {
    // The retrying store owns its inner store; the fault injector stays the test's.
    faults_ = std::make_unique<FaultInjectingObjectStore>(&memory_, std::move(faults));
    store_ = std::make_unique<RetryingObjectStore>(
        std::make_unique<ForwardingObjectStore>(faults_.get()), policy, &clock_,
        [this](const Status&, int attempt, int64_t delay) { delays_.push_back(delay); });
  }
  ManualClock clock_;
  MemoryObjectStore memory_;
  std::unique_ptr<FaultInjectingObjectStore> faults_;
  std::unique_ptr<RetryingObjectStore> store_;
  std::vector<int64_t> delays_;
};

TEST_F(RetryingTest, ThrottlingIsRetriedUntilItPasses) {
  Make({.transient_failures = 4});
  int64_t before = clock_.MonotonicNanos();
  ASSERT_TRUE(store_->Put("k", "v").ok());
  EXPECT_EQ(faults_->calls(), 5);
  EXPECT_EQ(store_->retries(), 4);
  EXPECT_EQ(*memory_.Get("k"), "v");
  ASSERT_EQ(delays_.size(), 4u);
  // Full jitter: each delay is at most the exponential cap of its attempt.
  int64_t cap = RetryPolicy{}.initial_backoff_ns;
  for (int64_t d : delays_) {
    EXPECT_GE(d, 0);
    EXPECT_LE(d, cap);
    cap *= 2;
  }
  EXPECT_GT(clock_.MonotonicNanos(), before);  // it slept, on the fake clock
}

TEST_F(RetryingTest, PermanentErrorsFailAtOnce) {
  Make({.transient_failures = 3,
        .transient = Status::PermissionDenied("403 AccessDenied on bucket 'b'")});
  Status s = store_->Put("k", "v");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(faults_->calls(), 1);
  EXPECT_EQ(store_->retries(), 0);
  Make({});
  EXPECT_TRUE(store_->Get("missing").status().IsNotFound());
  EXPECT_EQ(faults_->calls(), 1);
}

TEST_F(RetryingTest, GivesUpAfterTheAttemptLimitAndSaysSo) {
  Make({.transient_failures = 100}, RetryPolicy{.max_attempts = 3});
  auto r = store_->Get("k");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("gave up after 3 attempts"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(faults_->calls(), 3);
}

TEST_F(RetryingTest, GivesUpWhenTheTimeBoundIsReached) {
  // A server that takes 5 s to fail each call, and a 20 s bound.
  Make({.transient_failures = 100, .delay_ns = 5'000'000'000, .clock = &clock_},
       RetryPolicy{.max_attempts = 100, .total_time_limit_ns = 20'000'000'000});
  int64_t start = clock_.MonotonicNanos();
  Status s = store_->Put("k", "v");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("gave up"), std::string::npos);
  EXPECT_LE(clock_.MonotonicNanos() - start, 20'000'000'000 + 5'000'000'000);
  EXPECT_LT(faults_->calls(), 6);
}

TEST_F(RetryingTest, AListThatFailsMidwayDeliversEachKeyOnce) {
  for (const char* k : {"a/1", "a/2", "a/3"}) ASSERT_TRUE(memory_.Put(k, k).ok());
  Make({});
  // The first listing fails after two keys, as a connection reset would.
  int listings = 0;
  class FlakyList : public ForwardingObjectStore {
   public:
    FlakyList(ObjectStore* s, int* n) : ForwardingObjectStore(s), n_(n) {}
    Status List(std::string_view p, const std::function<Status(const ObjectInfo&)>& fn) override {
      int seen = 0;
      bool first = (*n_)++ == 0;
      return ForwardingObjectStore::List(p, [&](const ObjectInfo& info) -> Status {
        if (first && seen++ == 2) return Status::Unavailable("connection reset");
        return fn(info);
      });
    }
    int* n_;
  };
  RetryingObjectStore store(std::make_unique<FlakyList>(&memory_, &listings), {}, &clock_);
  std::vector<std::string> keys;
  ASSERT_TRUE(store
                  .List("a/",
                        [&](const ObjectInfo& info) {
                          keys.push_back(info.key);
                          return Status::Ok();
                        })
                  .ok());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"a/1", "a/2", "a/3"}));
  EXPECT_EQ(listings, 2);
}

TEST_F(RetryingTest, TheCallersOwnListErrorIsNotRetried) {
  ASSERT_TRUE(memory_.Put("a/1", "x").ok());
  Make({});
  int calls = 0;
  Status s = store_->List("a/", [&](const ObjectInfo&) {
    ++calls;
    return Status::Unavailable("the caller's own retryable error");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "the caller's own retryable error");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace proxima
