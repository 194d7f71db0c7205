// The ObjectStore contract (ports/object_store.h), run against every adapter.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "proxima/adapters/local_object_store.h"
#include "proxima/adapters/memory_object_store.h"
#include "proxima/core/pending_pack_store.h"
#include "proxima/model/keys.h"
#include "proxima/model/pack.h"
#include "s3_test_util.h"
#include "test_util.h"

namespace proxima {
namespace {

class MemoryFactory {
 public:
  std::unique_ptr<ObjectStore> Make() { return std::make_unique<MemoryObjectStore>(); }
};

class LocalFactory {
 public:
  std::unique_ptr<ObjectStore> Make() {
    auto store = LocalObjectStore::Open(dir_.path() + "/store");
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  }

 private:
  testing::TempDir dir_;
};

// The real S3 server of the test run (Ceph RGW); skipped without one.
class S3Factory {
 public:
  std::unique_ptr<ObjectStore> Make() {
    auto config = testing::S3TestConfig("conformance");
    if (!config) return nullptr;
    config->multipart_threshold = 6 << 20;  // exercise multipart with small objects
    config->part_size = 5 << 20;
    return std::make_unique<S3ObjectStore>(*config, testing::TestSystemClock());
  }
};

template <typename Factory>
class ObjectStoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.Make();
    if (store_ == nullptr) GTEST_SKIP() << "no S3 server (see scripts/services/rgw-start)";
  }
  Factory factory_;
  std::unique_ptr<ObjectStore> store_;
};

struct FactoryNames {
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryFactory>) return "Memory";
    if (std::is_same_v<T, LocalFactory>) return "Local";
    return "S3";
  }
};

using Factories = ::testing::Types<MemoryFactory, LocalFactory, S3Factory>;
TYPED_TEST_SUITE(ObjectStoreConformance, Factories, FactoryNames);

std::vector<std::string> ListKeys(ObjectStore& store, std::string_view prefix) {
  std::vector<std::string> keys;
  Status s = store.List(prefix, [&](const ObjectInfo& info) {
    keys.push_back(info.key);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::sort(keys.begin(), keys.end());
  return keys;
}

TYPED_TEST(ObjectStoreConformance, PutThenGetReturnsTheBytes) {
  std::string data = testing::RandomBytes(100000, 1);
  ASSERT_TRUE(this->store_->Put("data/ab/abc", data).ok());
  auto got = this->store_->Get("data/ab/abc");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, data);
  auto size = this->store_->Size("data/ab/abc");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, data.size());
}

TYPED_TEST(ObjectStoreConformance, EmptyObjectsAreObjects) {
  ASSERT_TRUE(this->store_->Put("empty", "").ok());
  auto got = this->store_->Get("empty");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "");
}

TYPED_TEST(ObjectStoreConformance, MissingKeyIsNotFoundAndNamesTheKey) {
  auto got = this->store_->Get("commits/nothere");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsNotFound());
  EXPECT_NE(got.status().message().find("commits/nothere"), std::string::npos);
  EXPECT_TRUE(this->store_->Size("commits/nothere").status().IsNotFound());
  EXPECT_TRUE(this->store_->GetRange("commits/nothere", 0, 1).status().IsNotFound());
}

TYPED_TEST(ObjectStoreConformance, PutReplaces) {
  ASSERT_TRUE(this->store_->Put("k", "one").ok());
  ASSERT_TRUE(this->store_->Put("k", "two").ok());
  EXPECT_EQ(*this->store_->Get("k"), "two");
}

TYPED_TEST(ObjectStoreConformance, PutIfAbsentRefusesAnExistingKey) {
  ASSERT_TRUE(this->store_->PutIfAbsent("config", "first").ok());
  Status s = this->store_->PutIfAbsent("config", "second");
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();
  EXPECT_EQ(*this->store_->Get("config"), "first");
}

TYPED_TEST(ObjectStoreConformance, PutIfAbsentHasExactlyOneWinnerUnderRace) {
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (this->store_->PutIfAbsent("race", std::to_string(i)).ok()) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
}

TYPED_TEST(ObjectStoreConformance, GetRangeReadsASliceAndStopsAtTheEnd) {
  ASSERT_TRUE(this->store_->Put("r", "0123456789").ok());
  EXPECT_EQ(*this->store_->GetRange("r", 2, 3), "234");
  EXPECT_EQ(*this->store_->GetRange("r", 8, 10), "89");
  EXPECT_EQ(*this->store_->GetRange("r", 10, 5), "");
  EXPECT_EQ(*this->store_->GetRange("r", 50, 5), "");
}

TYPED_TEST(ObjectStoreConformance, GetRangeIntoReadsUnalignedSlicesIntoAReusedBuffer) {
  // Longer than two blocks of direct I/O, so ranges straddle block edges.
  std::string content;
  for (int i = 0; i < 10000; ++i) content.push_back(static_cast<char>('a' + i % 26));
  ASSERT_TRUE(this->store_->Put("data/aa/r", content).ok());
  AlignedBuffer buffer;
  struct Case {
    uint64_t offset, length;
  };
  for (Case c : std::vector<Case>{{0, 10000},
                                  {1, 5},
                                  {4095, 2},
                                  {4000, 5000},
                                  {9990, 100},
                                  {10000, 5},
                                  {20000, 5},
                                  {8192, 1808}}) {
    auto got = this->store_->GetRangeInto("data/aa/r", c.offset, c.length, &buffer);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::string want = c.offset >= content.size() ? "" : content.substr(c.offset, c.length);
    EXPECT_EQ(std::string(*got), want) << c.offset << "+" << c.length;
  }
  auto missing = this->store_->GetRangeInto("data/aa/nothere", 0, 1, &buffer);
  EXPECT_TRUE(missing.status().IsNotFound());
}

TYPED_TEST(ObjectStoreConformance, ListFiltersByPrefixAcrossFolders) {
  for (const char* k : {"data/aa/aa1", "data/aa/aa2", "data/ab/ab1", "trees/aa/aa9", "commits/c1",
                        "commits/c2", "config"}) {
    ASSERT_TRUE(this->store_->Put(k, k).ok());
  }
  EXPECT_EQ(ListKeys(*this->store_, "data/"),
            (std::vector<std::string>{"data/aa/aa1", "data/aa/aa2", "data/ab/ab1"}));
  EXPECT_EQ(ListKeys(*this->store_, "data/aa/"),
            (std::vector<std::string>{"data/aa/aa1", "data/aa/aa2"}));
  EXPECT_EQ(ListKeys(*this->store_, "commits/c"),
            (std::vector<std::string>{"commits/c1", "commits/c2"}));
  EXPECT_EQ(ListKeys(*this->store_, "commits/c2"), (std::vector<std::string>{"commits/c2"}));
  EXPECT_EQ(ListKeys(*this->store_, "nothing/").size(), 0u);
  EXPECT_EQ(ListKeys(*this->store_, "").size(), 7u);
}

TYPED_TEST(ObjectStoreConformance, ListReportsSizes) {
  ASSERT_TRUE(this->store_->Put("index/x", std::string(1234, 'x')).ok());
  uint64_t size = 0;
  ASSERT_TRUE(this->store_
                  ->List("index/",
                         [&](const ObjectInfo& info) {
                           size = info.size;
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(size, 1234u);
}

TYPED_TEST(ObjectStoreConformance, ListStopsAtTheFirstError) {
  for (const char* k : {"a/1", "a/2", "a/3"}) ASSERT_TRUE(this->store_->Put(k, k).ok());
  int calls = 0;
  Status s = this->store_->List("a/", [&](const ObjectInfo&) {
    ++calls;
    return Status::Cancelled("stop");
  });
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TYPED_TEST(ObjectStoreConformance, DeleteRemovesAndToleratesMissing) {
  ASSERT_TRUE(this->store_->Put("d", "x").ok());
  ASSERT_TRUE(this->store_->Delete("d").ok());
  EXPECT_TRUE(this->store_->Get("d").status().IsNotFound());
  EXPECT_TRUE(this->store_->Delete("d").ok());
}

TYPED_TEST(ObjectStoreConformance, RenameMovesAnObjectOverAnother) {
  ObjectStore& s = *this->store_;
  ASSERT_TRUE(s.Put("incoming/x.1", "new bytes").ok());
  ASSERT_TRUE(s.Put("data/ab/x", "old").ok());
  ASSERT_TRUE(s.Rename("incoming/x.1", "data/ab/x").ok());
  EXPECT_EQ(*s.Get("data/ab/x"), "new bytes");
  EXPECT_TRUE(s.Get("incoming/x.1").status().IsNotFound());
  // Into a folder that does not exist yet, and from a key that is gone.
  ASSERT_TRUE(s.Put("incoming/y.1", "y").ok());
  ASSERT_TRUE(s.Rename("incoming/y.1", "data/cd/y").ok());
  EXPECT_EQ(*s.Get("data/cd/y"), "y");
  Status gone = s.Rename("incoming/y.1", "data/cd/y");
  EXPECT_TRUE(gone.IsNotFound()) << gone.ToString();
}

TYPED_TEST(ObjectStoreConformance, ConcurrentPutsAndGetsAreSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string key = "data/" + std::to_string(t) + "/" + std::to_string(i);
        std::string value = testing::RandomBytes(1000 + i, t * 100 + i);
        EXPECT_TRUE(this->store_->Put(key, value).ok());
        EXPECT_EQ(*this->store_->Get(key), value);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ListKeys(*this->store_, "data/").size(), 200u);
}

TYPED_TEST(ObjectStoreConformance, SyncSucceeds) { EXPECT_TRUE(this->store_->Sync().ok()); }

TYPED_TEST(ObjectStoreConformance, LargeObjectsRoundTripWhole) {
  // 13 MiB: three parts on S3 at the suite's 5 MiB part size.
  std::string data = testing::RandomBytes((13 << 20) + 17, 7);
  ASSERT_TRUE(this->store_->Put("data/big/one", data).ok());
  EXPECT_EQ(*this->store_->Size("data/big/one"), data.size());
  EXPECT_EQ(*this->store_->Get("data/big/one"), data);
  EXPECT_EQ(*this->store_->GetRange("data/big/one", (5 << 20) - 3, 10),
            data.substr((5 << 20) - 3, 10));
}

TYPED_TEST(ObjectStoreConformance, DeleteManyRemovesEveryKey) {
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) {
    keys.push_back("trees/x/" + std::to_string(i));
    ASSERT_TRUE(this->store_->Put(keys.back(), "t").ok());
  }
  ASSERT_TRUE(this->store_->Put("trees/keep", "t").ok());
  keys.push_back("trees/never-existed");
  ASSERT_TRUE(this->store_->DeleteMany(keys).ok());
  EXPECT_EQ(ListKeys(*this->store_, "trees/"), (std::vector<std::string>{"trees/keep"}));
}

TYPED_TEST(ObjectStoreConformance, ListingsLongerThanOnePageAreComplete) {
  // S3 lists at most 1,000 keys a page; 1,100 needs a continuation.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 1100; i += 4) {
        EXPECT_TRUE(this->store_->Put("index/" + std::to_string(i), "i").ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ListKeys(*this->store_, "index/").size(), 1100u);
}

TEST(LocalObjectStore, LeavesNoTemporaryFilesAndRejectsEscapingKeys) {
  testing::TempDir dir;
  auto store = LocalObjectStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put("data/aa/x", "content").ok());
  EXPECT_EQ(ListKeys(**store, "").size(), 1u);
  for (const char* bad : {"../escape", "/abs", "data/../../x"}) {
    EXPECT_EQ((*store)->Put(bad, "x").code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(LocalObjectStore, FullDiskIsResourceExhaustedAndLeavesNoPartialObject) {
  // /dev/full fails every write with ENOSPC; a store whose folder is full
  // behaves the same. Simulate with a tiny file size limit instead.
  testing::TempDir dir;
  auto store = LocalObjectStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  struct rlimit old;
  getrlimit(RLIMIT_FSIZE, &old);
  struct rlimit tiny = {4096, old.rlim_max};
  signal(SIGXFSZ, SIG_IGN);
  setrlimit(RLIMIT_FSIZE, &tiny);
  Status s = (*store)->Put("data/aa/big", std::string(100000, 'x'));
  setrlimit(RLIMIT_FSIZE, &old);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_TRUE((*store)->Get("data/aa/big").status().IsNotFound());
  EXPECT_EQ(ListKeys(**store, "").size(), 0u);
}

}  // namespace
}  // namespace proxima

namespace proxima {
namespace {

TEST(PendingPackStoreTest, APackWaitingForItsVerificationIsReadFromItsIncomingCopy) {
  MemoryObjectStore inner;
  PendingPackStore store(&inner);
  ObjectId pack = Sha256("a pack");
  std::string key = ObjectKey(ObjectKind::kPack, pack);
  ASSERT_TRUE(inner.Put(IncomingPackPrefix(pack) + "0123", "pending bytes").ok());
  EXPECT_EQ(*store.Get(key), "pending bytes");
  EXPECT_EQ(*store.GetRange(key, 8, 5), "bytes");
  EXPECT_EQ(*store.Size(key), 13u);
  AlignedBuffer buffer;
  EXPECT_EQ(*store.GetRangeInto(key, 0, 7, &buffer), "pending");
  // In place, the pack's own key wins.
  ASSERT_TRUE(inner.Put(key, "verified bytes").ok());
  EXPECT_EQ(*store.Get(key), "verified bytes");
  // An index that lists a pack still waiting is listed as pending.
  ObjectId waiting = Sha256("a waiting pack");
  ASSERT_TRUE(inner.Put(IncomingPackPrefix(waiting) + "77", "w").ok());
  std::string lists_it = EncodeIndex({{waiting, {}}});
  std::string lists_other = EncodeIndex({{pack, {}}});
  ASSERT_TRUE(inner.Put(ObjectKey(ObjectKind::kIndex, Sha256(lists_it)), lists_it).ok());
  ASSERT_TRUE(inner.Put(ObjectKey(ObjectKind::kIndex, Sha256(lists_other)), lists_other).ok());
  std::map<std::string, bool> listed;
  ASSERT_TRUE(store
                  .List("index/",
                        [&](const ObjectInfo& info) {
                          listed[info.key] = info.pending;
                          return Status::Ok();
                        })
                  .ok());
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[ObjectKey(ObjectKind::kIndex, Sha256(lists_it))]);
  EXPECT_FALSE(listed[ObjectKey(ObjectKind::kIndex, Sha256(lists_other))]);  // in place
  // Nothing else is looked for elsewhere.
  ObjectId other = Sha256("another pack");
  EXPECT_TRUE(store.Get(ObjectKey(ObjectKind::kPack, other)).status().IsNotFound());
  ASSERT_TRUE(inner.Put(IncomingPackPrefix(other) + "1", "x").ok());
  EXPECT_TRUE(store.Get(ObjectKey(ObjectKind::kTree, other)).status().IsNotFound());
}

}  // namespace
}  // namespace proxima
