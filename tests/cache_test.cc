// Dataset caches (core/cache_fill, core/cache_janitor) on real folders: the
// in-memory store, a SQLite catalog, a manual clock.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "proxima/adapters/memory_object_store.h"
#include "proxima/adapters/sql_catalog.h"
#include "proxima/base/file_util.h"
#include "proxima/core/cache_janitor.h"
#include "proxima/core/cache_volume.h"
#include "proxima/core/fs_ops.h"
#include "proxima/core/sync.h"
#include "proxima/server/cache_janitor_thread.h"
#include "test_util.h"

namespace proxima {
namespace {

using testing::RandomBytes;
using testing::WriteTestFile;

constexpr int64_t kHour = int64_t{3600} * 1'000'000'000;

struct Inode {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const Inode&) const = default;
};

Inode InodeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return {st.st_dev, st.st_ino};
}

std::string Slurp(const std::string& path) {
  auto r = ReadFile(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = std::move(Repository::Open(&store_, true)).value();
    catalog_ = std::move(OpenSqliteCatalog(tmp_ / "catalog.db", 1)).value();
    ASSERT_TRUE(catalog_->CreateDataset("ds", 0).ok());
    src_ = tmp_ / "src";
    WriteTestFile(src_ + "/a/one.bin", RandomBytes(5000, 1));
    WriteTestFile(src_ + "/a/two.bin", RandomBytes(70000, 2));
    WriteTestFile(src_ + "/b/c/big.bin", RandomBytes(3 << 20, 3));  // several chunks
    WriteTestFile(src_ + "/top.csv", "id,label\n1,cat\n");
    WriteTestFile(src_ + "/empty", "");
    WriteTestFile(src_ + "/run.sh", "#!/bin/sh\necho hi\n");
    ASSERT_EQ(::chmod((src_ + "/run.sh").c_str(), 0755), 0);
    ASSERT_EQ(::symlink("a/one.bin", (src_ + "/link").c_str()), 0);
    ASSERT_TRUE(WorkDir::Bind(src_, "ds", ObjectId()).ok());
    c1_ = Sync("first");
    volume_.name = "vol";
    volume_.path = tmp_ / "vol";
    volume_.resource = "local";
    ASSERT_TRUE(MakeDirs(volume_.path).ok());
    ASSERT_TRUE(CacheVolume::Create(volume_).ok());
    ASSERT_TRUE(catalog_->CreateVolume(volume_).ok());
  }

  ObjectId Sync(const std::string& msg) {
    clock_.Advance(5'000'000'000);
    SyncOptions o;
    o.message = msg;
    o.author = "test";
    Syncer syncer(repo_.get(), catalog_.get(), &clock_, nullptr);
    auto r = syncer.Run(std::move(WorkDir::Find(src_)).value(), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->commit : ObjectId();
  }

  CacheServices Services() { return CacheServices{*repo_, *catalog_, clock_, 4, nullptr, {}}; }

  Result<FillReport> FillOn(const VolumeRecord& v, const ObjectId& commit) {
    CacheServices s = Services();
    return FillCache(s, v, "ds", commit);
  }
  Result<FillReport> Fill(const ObjectId& commit) { return FillOn(volume_, commit); }

  CacheRecord Row(const ObjectId& commit) {
    auto r = catalog_->GetCache(volume_.name, "ds", commit);
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : CacheRecord{};
  }

  std::string Tree(const ObjectId& commit) { return volume_.path + "/ds/" + commit.Hex(); }

  testing::TempDir tmp_;
  std::string src_;
  ManualClock clock_;
  MemoryObjectStore store_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<Catalog> catalog_;
  VolumeRecord volume_;
  ObjectId c1_;
};

TEST_F(CacheTest, FillsACommitReadOnlyAndByteForByte) {
  auto r = Fill(c1_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->filled);
  EXPECT_EQ(r->path, Tree(c1_));
  for (const char* f : {"a/one.bin", "a/two.bin", "b/c/big.bin", "top.csv", "empty", "run.sh"}) {
    EXPECT_EQ(Slurp(r->path + "/" + f), Slurp(src_ + "/" + f)) << f;
    struct stat st;
    ASSERT_EQ(::stat((r->path + "/" + f).c_str(), &st), 0);
    EXPECT_GE(st.st_nlink, 2u) << f << " is not a link into the pool";
    EXPECT_EQ(st.st_mode & 0222, 0u) << f << " is writable";
  }
  struct stat st;
  ASSERT_EQ(::stat((r->path + "/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);
  ASSERT_EQ(::stat((r->path + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0222, 0u) << "folders of a cache are read-only";
  char target[64] = {};
  ASSERT_GT(::readlink((r->path + "/link").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "a/one.bin");
  CacheRecord row = Row(c1_);
  EXPECT_EQ(row.state, CacheState::kReady);
  EXPECT_EQ(row.files, 6u);
  EXPECT_EQ(row.bytes, 5000u + 70000 + (3 << 20) + 15 + 0 + 18);
  EXPECT_EQ(row.fetched_bytes, row.bytes);
  EXPECT_EQ(r->files_fetched, 6u);
  // Nothing of the fill is left behind.
  EXPECT_TRUE(IsEmptyDir(volume_.path + "/.proxima/fills"));
  EXPECT_TRUE(IsEmptyDir(volume_.path + "/.proxima/tmp"));
}

TEST_F(CacheTest, ASecondRequestFindsTheCacheReady) {
  ASSERT_TRUE(Fill(c1_).ok());
  clock_.Advance(kHour);
  auto again = Fill(c1_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->filled);
  EXPECT_EQ(again->bytes_fetched, 0u);
  EXPECT_EQ(Row(c1_).last_used_unix_ns, clock_.NowUnixNanos());
}

TEST_F(CacheTest, ANewCommitDownloadsOnlyTheDeltaAndSharesInodes) {
  ASSERT_TRUE(Fill(c1_).ok());
  WriteTestFile(src_ + "/a/two.bin", RandomBytes(70000, 22));
  WriteTestFile(src_ + "/new.txt", "new file\n");
  ObjectId c2 = Sync("second");
  auto r = Fill(c2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bytes_fetched, 70000u + 9);
  EXPECT_EQ(r->files_fetched, 2u);
  EXPECT_EQ(r->files_reused, 5u);
  EXPECT_EQ(InodeOf(Tree(c1_) + "/b/c/big.bin"), InodeOf(Tree(c2) + "/b/c/big.bin"));
  EXPECT_EQ(InodeOf(Tree(c1_) + "/a/one.bin"), InodeOf(Tree(c2) + "/a/one.bin"));
  EXPECT_NE(InodeOf(Tree(c1_) + "/a/two.bin"), InodeOf(Tree(c2) + "/a/two.bin"));
  EXPECT_EQ(Slurp(Tree(c2) + "/a/two.bin"), RandomBytes(70000, 22));
  EXPECT_EQ(Slurp(Tree(c1_) + "/a/two.bin"), RandomBytes(70000, 2));
}

TEST_F(CacheTest, ConcurrentRequestsMakeOneFill) {
  std::vector<Result<FillReport>> results(4, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { results[i] = Fill(c1_); });
  }
  for (auto& t : threads) t.join();
  int filled = 0;
  uint64_t fetched = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    filled += r->filled ? 1 : 0;
    fetched += r->bytes_fetched;
    EXPECT_EQ(r->cache.state, CacheState::kReady);
  }
  EXPECT_EQ(filled, 1);
  EXPECT_EQ(fetched, Row(c1_).bytes);
}

TEST_F(CacheTest, AnInterruptedFillResumesWithoutDownloadingAgain) {
  ASSERT_TRUE(Fill(c1_).ok());
  // As a fill killed after its downloads leaves it: pool files that no tree
  // links, a row still filling, a half-built tree aside.
  ASSERT_TRUE(RemoveTree(Tree(c1_)).ok());
  WriteTestFile(volume_.path + "/.proxima/fills/ds@" + c1_.Hex() + "/a/one.bin", "partial");
  ASSERT_TRUE(UpdateCacheRow(*catalog_, "vol", "ds", c1_, [](CacheRecord& r) {
                r.state = CacheState::kFilling;
                return true;
              }).ok());
  auto r = Fill(c1_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->filled);
  EXPECT_EQ(r->bytes_fetched, 0u);
  EXPECT_EQ(r->bytes_rehashed, Row(c1_).bytes) << "unlinked pool files are verified again";
  EXPECT_EQ(Slurp(Tree(c1_) + "/a/one.bin"), RandomBytes(5000, 1));
}

TEST_F(CacheTest, ADamagedLeftoverInThePoolIsReplaced) {
  // A pool file of the right size and the wrong bytes, as a crash of the
  // machine can leave one.
  CacheVolume vol = std::move(CacheVolume::Open(volume_)).value();
  FileState f;
  f.chunks = {Sha256(RandomBytes(5000, 1))};
  f.mode = 0644;
  WriteTestFile(vol.PoolPath(PoolKeyOf(f)), std::string(5000, 'x'));
  auto r = Fill(c1_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Slurp(Tree(c1_) + "/a/one.bin"), RandomBytes(5000, 1));
  EXPECT_EQ(r->files_fetched, 6u);
}

TEST_F(CacheTest, VerifyFindsATamperedPoolObject) {
  ASSERT_TRUE(Fill(c1_).ok());
  CacheServices s = Services();
  auto clean = VerifyCache(s, volume_, "ds", c1_);
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_TRUE(clean->damaged.empty());
  EXPECT_EQ(clean->files, 6u);
  // Root ignores the read-only mode: tamper with the shared inode in place.
  std::string victim = Tree(c1_) + "/b/c/big.bin";
  ASSERT_EQ(::chmod(victim.c_str(), 0644), 0);
  {
    UniqueFd fd(::open(victim.c_str(), O_WRONLY));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::pwrite(fd.get(), "X", 1, 1 << 20), 1);
  }
  auto dirty = VerifyCache(s, volume_, "ds", c1_);
  ASSERT_TRUE(dirty.ok());
  ASSERT_EQ(dirty->damaged.size(), 1u);
  EXPECT_NE(dirty->damaged[0].find("b/c/big.bin"), std::string::npos) << dirty->damaged[0];
}

TEST_F(CacheTest, IdleCachesGoAfterTheTtlAndSharedContentStays) {
  ASSERT_TRUE(Fill(c1_).ok());
  WriteTestFile(src_ + "/a/two.bin", RandomBytes(70000, 22));
  ObjectId c2 = Sync("second");
  clock_.Advance(2 * kHour);
  ASSERT_TRUE(Fill(c2).ok());
  CacheServices s = Services();
  clock_.Advance(23 * kHour);  // c1 idle 25h, c2 idle 23h
  GcOptions dry;
  dry.dry_run = true;
  auto plan = CollectGarbage(s, volume_, dry);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->evictions.size(), 1u);
  EXPECT_EQ(plan->evictions[0].commit, c1_);
  EXPECT_EQ(plan->evictions[0].bytes, 70000u) << "only what c1 alone uses is freed";
  EXPECT_TRUE(std::filesystem::exists(Tree(c1_))) << "a dry run removes nothing";

  auto done = CollectGarbage(s, volume_, GcOptions{});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->evictions.size(), 1u);
  EXPECT_NE(done->evictions[0].why.find("idle for 25h"), std::string::npos)
      << done->evictions[0].why;
  EXPECT_FALSE(std::filesystem::exists(Tree(c1_)));
  EXPECT_FALSE(catalog_->GetCache("vol", "ds", c1_)->has_value());
  EXPECT_EQ(done->pool_files_removed, 1u);
  EXPECT_EQ(done->pool_bytes_freed, 70000u);
  EXPECT_EQ(Slurp(Tree(c2) + "/b/c/big.bin"), RandomBytes(3 << 20, 3));
  EXPECT_EQ(done->after.pool_bytes, Row(c2).bytes);
}

TEST_F(CacheTest, RowsOfFailedAndStoppedFillsGoOnceIdlePastTheTtl) {
  CacheServices s = Services();
  WriteTestFile(src_ + "/x.txt", "x");
  ObjectId c2 = Sync("second");
  ASSERT_TRUE(RequestCache(s, volume_, "ds", c1_).ok());  // queued, never filled
  ASSERT_TRUE(RequestCache(s, volume_, "ds", c2).ok());
  ASSERT_TRUE(UpdateCacheRow(*catalog_, "vol", "ds", c2, [](CacheRecord& r) {
                r.state = CacheState::kFailed;
                r.reason = "injected";
                return true;
              }).ok());
  auto early = CollectGarbage(s, volume_, GcOptions{});
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->evictions.empty());
  clock_.Advance(25 * kHour);
  auto late = CollectGarbage(s, volume_, GcOptions{});
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  ASSERT_EQ(late->evictions.size(), 2u);
  std::string why = late->evictions[0].why + "; " + late->evictions[1].why;
  EXPECT_NE(why.find("a failed fill, idle for 25h"), std::string::npos) << why;
  EXPECT_NE(why.find("a fill that stopped"), std::string::npos) << why;
  EXPECT_TRUE(catalog_->ListCaches("vol")->empty());
}

TEST_F(CacheTest, LeasedAndPinnedCachesStayUntilTheLeaseLapses) {
  ASSERT_TRUE(Fill(c1_).ok());
  WriteTestFile(src_ + "/x.txt", "x");
  ObjectId c2 = Sync("second");
  ASSERT_TRUE(Fill(c2).ok());
  CacheServices s = Services();
  auto lease = TakeLease(s, volume_, "ds", c1_, "job 7", kHour);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_TRUE(UpdateCacheRow(*catalog_, "vol", "ds", c2, [](CacheRecord& r) {
                r.pinned = true;
                return true;
              }).ok());
  clock_.Advance(30 * kHour);  // both idle past the TTL; the lease has lapsed...
  ASSERT_TRUE(RenewLease(s, *lease, kHour).ok());  // ...unless renewed
  auto kept = CollectGarbage(s, volume_, GcOptions{});
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->evictions.empty());
  ASSERT_EQ(kept->kept.size(), 2u);
  std::string why = kept->kept[0] + "; " + kept->kept[1];
  EXPECT_NE(why.find(c1_.ShortHex() + "': leased by job 7"), std::string::npos) << why;
  EXPECT_NE(why.find(c2.ShortHex() + "': pinned"), std::string::npos) << why;
  auto refused = RemoveCache(s, volume_, "ds", c1_, false);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("job 7"), std::string::npos);

  // The holder crashes: nobody renews, the lease lapses, the cache goes.
  clock_.Advance(25 * kHour);
  auto after = CollectGarbage(s, volume_, GcOptions{});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->leases_expired, 1u);
  ASSERT_EQ(after->evictions.size(), 1u);
  EXPECT_EQ(after->evictions[0].commit, c1_);
  EXPECT_TRUE(std::filesystem::exists(Tree(c2)));
}

TEST_F(CacheTest, TheHubsJanitorEvictsIdleCachesAndSkipsVolumesItCannotReach) {
  ASSERT_TRUE(Fill(c1_).ok());
  VolumeRecord elsewhere;
  elsewhere.name = "elsewhere";
  elsewhere.path = tmp_ / "empty-mount-point";  // the shared file system is not mounted
  ASSERT_TRUE(MakeDirs(elsewhere.path).ok());
  ASSERT_TRUE(catalog_->CreateVolume(elsewhere).ok());
  std::vector<std::string> lines;
  CacheJanitorThread janitor(catalog_.get(), repo_.get(), &clock_, 0,
                             [&](const std::string& line) { lines.push_back(line); });
  janitor.RunOnce();
  EXPECT_TRUE(std::filesystem::exists(Tree(c1_))) << "a fresh cache stays";
  clock_.Advance(25 * kHour);
  janitor.RunOnce();
  EXPECT_FALSE(std::filesystem::exists(Tree(c1_)));
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  EXPECT_NE(all.find("volume 'vol': evicted ds@" + c1_.ShortHex()), std::string::npos) << all;
  EXPECT_NE(all.find("volume 'elsewhere' is not mounted here"), std::string::npos) << all;
  EXPECT_EQ(std::count(lines.begin(), lines.end(), lines[0]), 1) << "said once: " << all;
  EXPECT_TRUE(IsEmptyDir(elsewhere.path)) << "nothing is created on an empty mount point";
}

TEST_F(CacheTest, ALeaseCannotBeTakenOnACacheThatIsNotReady) {
  CacheServices s = Services();
  EXPECT_TRUE(TakeLease(s, volume_, "ds", c1_, "job", kHour).status().IsNotFound());
  EXPECT_TRUE(catalog_->ListLeases("vol")->empty());
}

class SmallVolumeTest : public CacheTest {
 protected:
  void SetUp() override {
    CacheTest::SetUp();
    small_ = volume_;
    small_.name = "small";
    small_.path = tmp_ / "small";
    small_.capacity_bytes = 4 << 20;  // c1 needs about 3.2 MB
    small_.high = 0.9;
    small_.low = 0.5;
    ASSERT_TRUE(MakeDirs(small_.path).ok());
    ASSERT_TRUE(CacheVolume::Create(small_).ok());
    ASSERT_TRUE(catalog_->CreateVolume(small_).ok());
    // A commit that shares nothing with c1.
    ASSERT_TRUE(RemoveAll(src_ + "/a").ok());
    ASSERT_TRUE(RemoveAll(src_ + "/b").ok());
    ASSERT_TRUE(RemoveAll(src_ + "/run.sh").ok());
    ASSERT_TRUE(RemoveAll(src_ + "/link").ok());
    ASSERT_TRUE(RemoveAll(src_ + "/top.csv").ok());
    WriteTestFile(src_ + "/other.bin", RandomBytes(2 << 20, 9));
    other_ = Sync("other");
  }
  VolumeRecord small_;
  ObjectId other_;
};

TEST_F(SmallVolumeTest, ACacheThatCannotFitIsRefusedBeforeAnyByteIsWritten) {
  small_.capacity_bytes = 1 << 20;
  ASSERT_TRUE(catalog_->DeleteVolume("small").ok());
  ASSERT_TRUE(catalog_->CreateVolume(small_).ok());
  auto r = FillOn(small_, c1_);
  ASSERT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_NE(r.status().message().find("does not fit on volume 'small'"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("1048576"), std::string::npos) << "names the sizes";
  auto row = catalog_->GetCache("small", "ds", c1_);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->state, CacheState::kFailed);
  EXPECT_NE((*row)->reason.find("does not fit"), std::string::npos);
  CacheVolume vol = std::move(CacheVolume::Open(small_)).value();
  EXPECT_EQ(vol.MeasureUsage()->pool_files, 0u);
  EXPECT_FALSE(std::filesystem::exists(small_.path + "/ds"));
}

TEST_F(SmallVolumeTest, AdmissionEvictsIdleCachesToMakeRoom) {
  ASSERT_TRUE(FillOn(small_, c1_).ok());
  clock_.Advance(kHour);
  auto r = FillOn(small_, other_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->evicted, 1u);
  EXPECT_FALSE(catalog_->GetCache("small", "ds", c1_)->has_value());
  EXPECT_EQ(Slurp(small_.path + "/ds/" + other_.Hex() + "/other.bin"), RandomBytes(2 << 20, 9));
}

TEST_F(SmallVolumeTest, AdmissionNeverEvictsALeasedCache) {
  ASSERT_TRUE(FillOn(small_, c1_).ok());
  CacheServices s = Services();
  ASSERT_TRUE(TakeLease(s, small_, "ds", c1_, "job 9", kHour).ok());
  auto r = FillOn(small_, other_);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(small_.path + "/ds/" + c1_.Hex() + "/b/c/big.bin"));
}

TEST_F(SmallVolumeTest, ATeamCannotCommitMoreThanItsQuota) {
  ASSERT_TRUE(catalog_->PutQuota({"vol", "ml", 3'300'000}).ok());  // c1 is 3.22 MB
  CacheServices s = Services();
  auto first = FillCache(s, volume_, "ds", c1_, FillOptions{"ml"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(Row(c1_).team, "ml");
  auto over = FillCache(s, volume_, "ds", other_, FillOptions{"ml"});
  ASSERT_EQ(over.status().code(), StatusCode::kResourceExhausted) << over.status().ToString();
  EXPECT_NE(over.status().message().find("over its quota on volume 'vol': the quota is 3300000 "
                                         "bytes, its 1 caches there commit 3220761"),
            std::string::npos)
      << over.status().message();
  EXPECT_FALSE(std::filesystem::exists(Tree(other_)));
  // Another team, or none, is not limited by ml's quota; a failed request
  // that is retried for another team keeps the team it was recorded with.
  ASSERT_TRUE(catalog_->DeleteCache("vol", "ds", other_, Row(other_).version).ok());
  auto cv = FillCache(s, volume_, "ds", other_, FillOptions{"cv"});
  ASSERT_TRUE(cv.ok()) << cv.status().ToString();
  EXPECT_EQ(Row(other_).team, "cv");
}

TEST_F(SmallVolumeTest, AboveTheHighWatermarkLeastRecentlyUsedGoFirst) {
  small_.capacity_bytes = 6 << 20;
  small_.high = 0.7;
  small_.low = 0.4;
  small_.ttl_ns = 1000 * kHour;
  ASSERT_TRUE(catalog_->DeleteVolume("small").ok());
  ASSERT_TRUE(catalog_->CreateVolume(small_).ok());
  ASSERT_TRUE(FillOn(small_, c1_).ok());
  clock_.Advance(kHour);
  ASSERT_TRUE(FillOn(small_, other_).ok());  // 5.3 of 6 MB: above 70%
  CacheServices s = Services();
  auto r = CollectGarbage(s, small_, GcOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->evictions.size(), 1u);
  EXPECT_EQ(r->evictions[0].commit, c1_) << "the least recently used goes first";
  EXPECT_NE(r->evictions[0].why.find("high watermark"), std::string::npos);
  EXPECT_LE(r->after.used, small_.capacity_bytes * 7 / 10);
}

}  // namespace
}  // namespace proxima
