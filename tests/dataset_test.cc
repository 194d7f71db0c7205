// Datasets end to end inside one process: real folders, the in-memory store
// and catalog, a manual clock.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "proxima/adapters/fault_injecting_object_store.h"
#include "proxima/adapters/memory_object_store.h"
#include "proxima/adapters/memory_ref_store.h"
#include "proxima/base/file_util.h"
#include "proxima/core/diff.h"
#include "proxima/core/fsck.h"
#include "proxima/core/history.h"
#include "proxima/core/restore.h"
#include "proxima/core/sync.h"
#include "proxima/ports/forwarding_object_store.h"
#include "test_util.h"

namespace proxima {
namespace {

using testing::RandomBytes;
using testing::WriteTestFile;

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = std::move(Repository::Open(&store_, true)).value();
    ASSERT_TRUE(refs_.CreateDataset("ds", 0).ok());
    src_ = tmp_.path() + "/src";
    WriteTestFile(src_ + "/a/one.bin", RandomBytes(5000, 1));
    WriteTestFile(src_ + "/a/two.bin", RandomBytes(7000, 2));
    WriteTestFile(src_ + "/b/c/big.bin", RandomBytes(3 << 20, 3));
    WriteTestFile(src_ + "/top.csv", "id,label\n1,cat\n");
    WriteTestFile(src_ + "/empty", "");
    ASSERT_EQ(symlink("a/one.bin", (src_ + "/link").c_str()), 0);
    ASSERT_TRUE(WorkDir::Bind(src_, "ds", ObjectId()).ok());
  }

  WorkDir Wd() { return std::move(WorkDir::Find(src_)).value(); }

  Result<SyncReport> Sync(const std::string& msg, bool dry_run = false) {
    clock_.Advance(5'000'000'000);  // files are never "racy" for the stat cache
    SyncOptions o;
    o.message = msg;
    o.author = "test";
    o.dry_run = dry_run;
    Syncer syncer(repo_.get(), &refs_, &clock_, nullptr);
    return syncer.Run(Wd(), o);
  }

  ObjectId Head() { return **refs_.GetRef("ds", kHeadRef); }
  ObjectId TreeOf(const ObjectId& commit) { return repo_->LoadCommit(commit)->tree; }

  testing::TempDir tmp_;
  std::string src_;
  MemoryObjectStore store_;
  MemoryRefStore refs_;
  ManualClock clock_{static_cast<int64_t>(time(nullptr)) * 1'000'000'000 + 10'000'000'000};
  std::unique_ptr<Repository> repo_;
};

std::string Slurp(const std::string& path) { return *ReadFile(path); }

TEST_F(DatasetTest, FirstSyncCommitsEverythingAndASecondFindsNothing) {
  auto r = Sync("first");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->committed);
  EXPECT_EQ(r->stats.files, 5u);
  EXPECT_EQ(r->stats.symlinks, 1u);
  EXPECT_EQ(r->changes.added, 6u);
  EXPECT_EQ(Head(), r->commit);
  auto again = Sync("second");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->committed);
  EXPECT_EQ(again->files_read, 0u);  // the stat cache vouched for everything
  EXPECT_EQ(Head(), r->commit);
}

// A hub lists the indexes of packs it has not verified yet, uploaded by
// someone else, as pending (docs/api.md, "Objects"). This store does that to
// every index.
class PendingIndexes : public ForwardingObjectStore {
 public:
  using ForwardingObjectStore::ForwardingObjectStore;
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override {
    return inner().List(prefix, [&](const ObjectInfo& info) {
      ObjectInfo pending = info;
      pending.pending = info.key.rfind("index/", 0) == 0;
      return fn(pending);
    });
  }
};

TEST_F(DatasetTest, BlobsListedOnlyByPendingIndexesAreUploadedAgain) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  // The same files, synced by another writer who must not trust them yet.
  PendingIndexes pending(&store_);
  auto repo = std::move(Repository::Open(&pending, false)).value();
  ASSERT_TRUE(refs_.CreateDataset("copy", 0).ok());
  std::string copy = tmp_.path() + "/copy";
  std::filesystem::copy(
      src_, copy,
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  std::filesystem::remove_all(copy + "/.proxima");
  ASSERT_TRUE(WorkDir::Bind(copy, "copy", ObjectId()).ok());
  clock_.Advance(5'000'000'000);
  SyncOptions o;
  o.author = "other";
  Syncer syncer(repo.get(), &refs_, &clock_, nullptr);
  auto r = syncer.Run(std::move(WorkDir::Find(copy)).value(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->packs_written, 1u);  // its own copy of every blob
  // With the indexes trusted, the same sync would store no blob at all.
  auto index = repo_->LoadBlobIndex();
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE((*index)->CanReuse(Sha256(RandomBytes(5000, 1))));
  auto untrusted = repo->LoadBlobIndex();
  ASSERT_TRUE(untrusted.ok());
  EXPECT_TRUE((*untrusted)->Contains(Sha256(RandomBytes(5000, 1))));  // still readable
  EXPECT_FALSE((*untrusted)->CanReuse(Sha256(RandomBytes(5000, 1))));
}

TEST(BlobIndexTest, ATrustedCopyWinsOverAnUntrustedOne) {
  BlobIndex index;
  ObjectId blob = Sha256("b");
  uint32_t untrusted = index.AddPack(Sha256("pack 1"), /*trusted=*/false);
  index.AddBlob(untrusted, PackedBlob{blob, 12, 1, 1, BlobEncoding::kRaw});
  uint32_t trusted = index.AddPack(Sha256("pack 2"));
  index.AddBlob(trusted, PackedBlob{blob, 40, 1, 1, BlobEncoding::kRaw});
  index.Finalize();
  ASSERT_NE(index.Find(blob), nullptr);
  EXPECT_EQ(index.Find(blob)->offset, 40u);
  EXPECT_TRUE(index.CanReuse(blob));
  // A pack listed by a trusted index too is trusted.
  BlobIndex again;
  uint32_t p = again.AddPack(Sha256("pack 1"), false);
  again.AddBlob(p, PackedBlob{blob, 12, 1, 1, BlobEncoding::kRaw});
  EXPECT_EQ(again.AddPack(Sha256("pack 1"), true), p);
  again.Finalize();
  EXPECT_TRUE(again.CanReuse(blob));
}

TEST_F(DatasetTest, SyncStoresOnlyWhatChangedAndDiffSeesIt) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  WriteTestFile(src_ + "/a/one.bin", RandomBytes(5000, 99));
  WriteTestFile(src_ + "/a/new.bin", RandomBytes(100, 5));
  std::filesystem::remove(src_ + "/top.csv");
  auto status = Sync("", /*dry_run=*/true);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->changes.added, 1u);
  EXPECT_EQ(status->changes.modified, 1u);
  EXPECT_EQ(status->changes.deleted, 1u);
  EXPECT_EQ(Head(), first->commit);  // status changed nothing
  auto second = Sync("second");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->committed);
  EXPECT_EQ(second->files_read, 2u);
  EXPECT_EQ(second->changes.bytes_added, 5100u);
  auto diff = DiffTrees(*repo_, TreeOf(first->commit), TreeOf(second->commit));
  ASSERT_TRUE(diff.ok());
  ASSERT_EQ(diff->size(), 3u);
  EXPECT_EQ((*diff)[0].path, "a/new.bin");
  EXPECT_EQ((*diff)[0].kind, Change::kAdded);
  EXPECT_EQ((*diff)[1].path, "a/one.bin");
  EXPECT_EQ((*diff)[1].kind, Change::kModified);
  EXPECT_EQ((*diff)[2].path, "top.csv");
  EXPECT_EQ((*diff)[2].kind, Change::kDeleted);
  EXPECT_EQ((*diff)[2].old_size, 15u);
}

TEST_F(DatasetTest, EditingALargeFileStoresOnlyTheChunksAroundTheEdit) {
  WriteTestFile(src_ + "/b/c/big.bin", RandomBytes(12 << 20, 3));
  ASSERT_TRUE(Sync("first").ok());
  std::string data = Slurp(src_ + "/b/c/big.bin");
  data.insert(6 << 20, "an edit in the middle");
  WriteTestFile(src_ + "/b/c/big.bin", data);
  auto r = Sync("edit");
  ASSERT_TRUE(r.ok());
  EXPECT_LT(r->changes.bytes_added, 5u << 20) << "most chunks are shared with the old version";
}

TEST_F(DatasetTest, CloneRestoresEveryByteAndLinkAndBindsTheFolder) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  std::string dest = tmp_.path() + "/clone";
  auto r = CloneCommit(*repo_, clock_, "ds", first->commit, dest, 2, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const char* f : {"a/one.bin", "a/two.bin", "b/c/big.bin", "top.csv", "empty"}) {
    EXPECT_EQ(Slurp(dest + "/" + f), Slurp(src_ + "/" + f)) << f;
  }
  char target[64] = {};
  ASSERT_GT(readlink((dest + "/link").c_str(), target, sizeof(target)), 0);
  EXPECT_STREQ(target, "a/one.bin");
  auto wd = WorkDir::Find(dest);
  ASSERT_TRUE(wd.ok());
  EXPECT_EQ(wd->dataset(), "ds");
  // The clone's stat cache makes its first status free.
  clock_.Advance(5'000'000'000);
  SyncOptions o;
  o.dry_run = true;
  auto status = Syncer(repo_.get(), &refs_, &clock_, nullptr).Run(*wd, o);
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->changed.empty());
}

// Bodies damaged in transit (as a flaky network or proxy would) are read
// again and the clone is exact; a store that damages every read fails the
// clone with Corruption, and nothing is published.
TEST_F(DatasetTest, DamagedReadsAreReadAgainAndNeverDelivered) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  FaultInjectingObjectStore::Faults faults;
  faults.intact_gets = 1;  // the store's config
  faults.truncated_gets = 1;
  faults.corrupted_gets = 1;
  FaultInjectingObjectStore flaky(&store_, faults);
  auto repo_or = Repository::Open(&flaky, false);
  ASSERT_TRUE(repo_or.ok()) << repo_or.status().ToString();
  auto repo = std::move(repo_or).value();
  std::string dest = tmp_.path() + "/clone";
  auto r = CloneCommit(*repo, clock_, "ds", first->commit, dest, 2, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(flaky.failures(), 2);
  for (const char* f : {"a/one.bin", "a/two.bin", "b/c/big.bin", "top.csv", "empty"}) {
    EXPECT_EQ(Slurp(dest + "/" + f), Slurp(src_ + "/" + f)) << f;
  }

  faults = {};
  faults.truncated_gets = 1'000'000;
  faults.intact_gets = 1;
  FaultInjectingObjectStore broken(&store_, faults);
  auto broken_or = Repository::Open(&broken, false);
  ASSERT_TRUE(broken_or.ok()) << broken_or.status().ToString();
  auto broken_repo = std::move(broken_or).value();
  std::string dest2 = tmp_.path() + "/clone2";
  auto bad = CloneCommit(*broken_repo, clock_, "ds", first->commit, dest2, 2, nullptr);
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("3 reads"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(std::filesystem::exists(dest2));
}

TEST_F(DatasetTest, CloneRefusesANonEmptyFolderAndLeavesNothingBehind) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  std::string dest = tmp_.path() + "/busy";
  WriteTestFile(dest + "/keep.txt", "mine");
  auto r = CloneCommit(*repo_, clock_, "ds", first->commit, dest, 2, nullptr);
  EXPECT_TRUE(r.status().IsAlreadyExists());
  EXPECT_EQ(Slurp(dest + "/keep.txt"), "mine");
}

TEST_F(DatasetTest, CloneOfACorruptedStoreFailsNamingTheObjectAndPublishesNothing) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  std::string pack_key;
  ASSERT_TRUE(store_
                  .List("data/",
                        [&](const ObjectInfo& info) {
                          pack_key = info.key;
                          return Status::Ok();
                        })
                  .ok());
  std::string pack = *store_.Get(pack_key);
  pack[20] ^= 0x55;  // flip bits inside the first blob
  ASSERT_TRUE(store_.Put(pack_key, pack).ok());
  std::string dest = tmp_.path() + "/clone";
  auto r = CloneCommit(*repo_, clock_, "ds", first->commit, dest, 2, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(pack_key), std::string::npos) << r.status().message();
  EXPECT_FALSE(std::filesystem::exists(dest));
  for (auto& e : std::filesystem::directory_iterator(tmp_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".clone"), std::string::npos) << e.path();
  }
  auto fsck = CheckStore(*repo_, refs_, true, 2, nullptr);
  ASSERT_TRUE(fsck.ok());
  ASSERT_FALSE(fsck->problems.empty());
}

TEST_F(DatasetTest, FsckPassesOnAHealthyStoreAndFindsAMissingTree) {
  ASSERT_TRUE(Sync("first").ok());
  auto ok = CheckStore(*repo_, refs_, true, 2, nullptr);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->problems.empty());
  EXPECT_EQ(ok->commits, 1u);
  EXPECT_GT(ok->bytes_verified, 3u << 20);
  ObjectId sub;
  auto top = repo_->LoadTree(TreeOf(Head()));
  for (const TreeEntry& e : top->entries) {
    if (e.name == "b") sub = e.tree;
  }
  ASSERT_TRUE(store_.Delete(ObjectKey(ObjectKind::kTree, sub)).ok());
  auto bad = CheckStore(*repo_, refs_, true, 2, nullptr);
  ASSERT_TRUE(bad.ok());
  ASSERT_EQ(bad->problems.size(), 1u);
  EXPECT_NE(bad->problems[0].find(sub.Hex()), std::string::npos) << bad->problems[0];
}

TEST_F(DatasetTest, CheckoutSwitchesTheFolderAndRefusesToLoseChanges) {
  auto first = Sync("first");
  WriteTestFile(src_ + "/a/one.bin", "changed");
  WriteTestFile(src_ + "/added/x.txt", "x");
  auto second = Sync("second");
  ASSERT_TRUE(first.ok() && second.ok());
  auto back = CheckoutCommit(*repo_, refs_, clock_, Wd(), first->commit, false, 2, nullptr);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(Slurp(src_ + "/a/one.bin"), RandomBytes(5000, 1));
  EXPECT_FALSE(std::filesystem::exists(src_ + "/added/x.txt"));
  WriteTestFile(src_ + "/local.txt", "unsynced");
  auto refused = CheckoutCommit(*repo_, refs_, clock_, Wd(), second->commit, false, 2, nullptr);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("local.txt"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(src_ + "/local.txt"));
  auto forced = CheckoutCommit(*repo_, refs_, clock_, Wd(), second->commit, true, 2, nullptr);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(Slurp(src_ + "/a/one.bin"), "changed");
  EXPECT_FALSE(std::filesystem::exists(src_ + "/local.txt"));
}

TEST_F(DatasetTest, AFolderBehindTheHeadIsRebasedOntoIt) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  std::string other = tmp_.path() + "/other";
  ASSERT_TRUE(CloneCommit(*repo_, clock_, "ds", first->commit, other, 2, nullptr).ok());
  WriteTestFile(other + "/from-other.txt", "o");
  clock_.Advance(5'000'000'000);
  SyncOptions o;
  o.author = "t";
  auto theirs = Syncer(repo_.get(), &refs_, &clock_, nullptr).Run(*WorkDir::Find(other), o);
  ASSERT_TRUE(theirs.ok());
  WriteTestFile(src_ + "/mine.txt", "m");
  auto r = Sync("behind");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->committed);
  EXPECT_EQ(r->rebased_onto, theirs->commit);
  EXPECT_EQ(r->parent, theirs->commit);
  // The head has both changes; nothing of either sync is lost.
  auto head = refs_.GetRef("ds", kHeadRef);
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ(**head, r->commit);
  std::string merged = tmp_.path() + "/merged";
  ASSERT_TRUE(CloneCommit(*repo_, clock_, "ds", r->commit, merged, 2, nullptr).ok());
  EXPECT_EQ(Slurp(merged + "/mine.txt"), "m");
  EXPECT_EQ(Slurp(merged + "/from-other.txt"), "o");
  // The folder itself is then brought up to date by a checkout.
  ASSERT_TRUE(CheckoutCommit(*repo_, refs_, clock_, Wd(), r->commit, false, 2, nullptr).ok());
  EXPECT_EQ(Slurp(src_ + "/from-other.txt"), "o");
  EXPECT_EQ(Slurp(src_ + "/mine.txt"), "m");
}

TEST_F(DatasetTest, ABehindFolderThatChangedTheSamePathsIsAConflict) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  std::string other = tmp_.path() + "/other";
  ASSERT_TRUE(CloneCommit(*repo_, clock_, "ds", first->commit, other, 2, nullptr).ok());
  WriteTestFile(other + "/a/one.bin", "theirs");
  clock_.Advance(5'000'000'000);
  SyncOptions o;
  o.author = "t";
  auto theirs = Syncer(repo_.get(), &refs_, &clock_, nullptr).Run(*WorkDir::Find(other), o);
  ASSERT_TRUE(theirs.ok());
  WriteTestFile(src_ + "/a/one.bin", "ours");
  auto r = Sync("conflict");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("a/one.bin"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("--force"), std::string::npos);
  EXPECT_EQ(**refs_.GetRef("ds", kHeadRef), theirs->commit) << "nothing was published";
  // --force keeps this folder's version on top of the head.
  SyncOptions forced;
  forced.author = "t";
  forced.force = true;
  auto f = Syncer(repo_.get(), &refs_, &clock_, nullptr).Run(Wd(), forced);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->parent, theirs->commit);
}

// A sync that stops at `fail_prefix` (as a kill there would) leaves its packs
// stored but nothing published; the next sync must not upload them again.
class InterruptedSyncTest : public DatasetTest,
                            public ::testing::WithParamInterface<const char*> {};

TEST_P(InterruptedSyncTest, IsFinishedByTheNextSyncWithoutUploadingAgain) {
  WriteTestFile(src_ + "/b/c/big.bin", RandomBytes(40 << 20, 11));
  {
    FaultInjectingObjectStore::Faults faults;
    faults.fail_put_prefix = GetParam();
    FaultInjectingObjectStore failing(&store_, faults);
    auto repo = std::move(Repository::Open(&failing, false)).value();
    clock_.Advance(5'000'000'000);
    SyncOptions o;
    o.author = "t";
    auto r = Syncer(repo.get(), &refs_, &clock_, nullptr).Run(Wd(), o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(r.status().message().find(GetParam()), std::string::npos);
  }
  EXPECT_FALSE(refs_.GetRef("ds", kHeadRef)->has_value()) << "nothing was published";
  EXPECT_TRUE(std::filesystem::exists(src_ + "/.proxima/journal"));
  auto second = Sync("second");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->committed);
  EXPECT_EQ(second->packs_written, 0u) << "the interrupted sync's packs were reused";
  EXPECT_EQ(second->changes.bytes_added, 0u);
  if (std::string(GetParam()) == "index/") EXPECT_GE(second->packs_adopted, 2u);
  EXPECT_FALSE(std::filesystem::exists(src_ + "/.proxima/journal"));
  auto fsck = CheckStore(*repo_, refs_, true, 2, nullptr);
  ASSERT_TRUE(fsck.ok());
  EXPECT_TRUE(fsck->problems.empty());
}

INSTANTIATE_TEST_SUITE_P(AtEachWriteStep, InterruptedSyncTest,
                         ::testing::Values("index/", "trees/", "commits/"));

TEST_F(DatasetTest, AFullStoreFailsTheSyncAndPublishesNothing) {
  FaultInjectingObjectStore::Faults faults;
  faults.fail_put_prefix = "trees/";
  faults.puts_before_failure = 1;
  FaultInjectingObjectStore failing(&store_, faults);
  auto repo = std::move(Repository::Open(&failing, false)).value();
  clock_.Advance(5'000'000'000);
  SyncOptions o;
  auto r = Syncer(repo.get(), &refs_, &clock_, nullptr).Run(Wd(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(refs_.GetRef("ds", kHeadRef)->has_value());
  auto cache = Wd().LoadStatCache();
  ASSERT_TRUE(cache.ok());
  EXPECT_TRUE(cache->head.IsZero());
  EXPECT_TRUE(Sync("retry").ok());
}

TEST_F(DatasetTest, APendingStatCacheIsPublishedWhenItsCommitWon) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  // As if killed between the ref update and the rename.
  std::filesystem::copy_file(src_ + "/.proxima/statcache", src_ + "/.proxima/statcache.pending");
  ASSERT_TRUE(Wd().RecoverPending(refs_).ok());
  EXPECT_FALSE(std::filesystem::exists(src_ + "/.proxima/statcache.pending"));
  auto again = Sync("again");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->committed);
}

TEST_F(DatasetTest, ATornIndexFromAnUnpublishedSyncIsLeftOutAndNoted) {
  ASSERT_TRUE(Sync("first").ok());
  // As a power loss after an index was written but before the barrier could
  // leave it: a damaged index object that no commit needs.
  ASSERT_TRUE(store_.Put(ObjectKey(ObjectKind::kIndex, Sha256("torn")), "PROXIDX1\x01").ok());
  auto index = repo_->LoadBlobIndex();
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ((*index)->damaged().size(), 1u);
  WriteTestFile(src_ + "/more.txt", "more");
  EXPECT_TRUE(Sync("second").ok());
  auto fsck = CheckStore(*repo_, refs_, true, 2, nullptr);
  ASSERT_TRUE(fsck.ok());
  EXPECT_TRUE(fsck->problems.empty());
  EXPECT_EQ(fsck->notes.size(), 1u);
}

TEST_F(DatasetTest, RevisionsResolveByTagAndAbbreviatedIdAndExplainFailures) {
  auto first = Sync("first");
  ASSERT_TRUE(first.ok());
  Revision head = *ResolveRevision(*repo_, refs_, "ds");
  EXPECT_EQ(head.commit, first->commit);
  std::string prefix = first->commit.Hex().substr(0, 6);
  EXPECT_EQ(ResolveRevision(*repo_, refs_, "ds@" + prefix)->commit, first->commit);
  ASSERT_TRUE(CreateTag(refs_, head, "v1").ok());
  EXPECT_EQ(ResolveRevision(*repo_, refs_, "ds@v1")->commit, first->commit);
  EXPECT_TRUE(CreateTag(refs_, head, "v1").IsAlreadyExists());
  EXPECT_TRUE(ResolveRevision(*repo_, refs_, "nope").status().IsNotFound());
  EXPECT_TRUE(ResolveRevision(*repo_, refs_, "ds@ffffff").status().IsNotFound());
  EXPECT_TRUE(ResolveRevision(*repo_, refs_, "ds@zz").status().IsNotFound());
  auto log = CommitLog(*repo_, first->commit, 0);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 1u);
}

TEST_F(DatasetTest, ListPathShowsFoldersAndFiles) {
  ASSERT_TRUE(Sync("first").ok());
  ObjectId tree = TreeOf(Head());
  auto top = ListPath(*repo_, tree, "");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->size(), 5u);  // a b empty link top.csv
  auto a = ListPath(*repo_, tree, "a/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 2u);
  auto file = ListPath(*repo_, tree, "b/c/big.bin");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)[0].size, 3u << 20);
  EXPECT_TRUE(ListPath(*repo_, tree, "b/nope").status().IsNotFound());
}

// A folder of many files, whose tree is large enough for a delta to pay.
void WriteManyFiles(const std::string& dir, int files, int changed_seed) {
  for (int i = 0; i < files; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/scan_%04d.bin", i);
    WriteTestFile(dir + name, RandomBytes(64, static_cast<uint64_t>(i) + 1000));
  }
  if (changed_seed > 0) WriteTestFile(dir + "/scan_0007.bin", RandomBytes(64, changed_seed));
}

ObjectId SubTree(Repository& repo, const ObjectId& tree, const std::string& name) {
  auto loaded = repo.LoadTree(tree);  // a range-for over a temporary's member would dangle
  if (!loaded.ok()) return ObjectId();
  for (const TreeEntry& e : loaded->entries) {
    if (e.name == name) return e.tree;
  }
  return ObjectId();
}

TEST_F(DatasetTest, AChangedFolderIsStoredAsADeltaAgainstItsPreviousTree) {
  WriteManyFiles(src_ + "/many", 200, 0);
  auto first = Sync("first");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->tree_deltas, 0u);  // nothing to be a delta of
  WriteManyFiles(src_ + "/many", 200, 77);
  auto second = Sync("second");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->trees_written, 2u);  // "many" and the root
  EXPECT_GE(second->tree_deltas, 1u);
  ObjectId old_many = SubTree(*repo_, TreeOf(first->commit), "many");
  ObjectId new_many = SubTree(*repo_, TreeOf(second->commit), "many");
  std::string stored = *store_.Get(ObjectKey(ObjectKind::kTree, new_many));
  ASSERT_TRUE(IsTreeDelta(stored));
  auto full = repo_->LoadTreeBytes(new_many);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->chain, std::vector<ObjectId>{old_many});
  EXPECT_LT(stored.size(), full->full.size() / 10) << stored.size();

  // Everything that reads trees reads through the delta.
  std::string dest = tmp_.path() + "/clone";
  ASSERT_TRUE(CloneCommit(*repo_, clock_, "ds", second->commit, dest, 2, nullptr).ok());
  EXPECT_EQ(Slurp(dest + "/many/scan_0007.bin"), RandomBytes(64, 77));
  auto diff = DiffTrees(*repo_, TreeOf(first->commit), TreeOf(second->commit));
  ASSERT_TRUE(diff.ok());
  ASSERT_EQ(diff->size(), 1u);
  EXPECT_EQ((*diff)[0].path, "many/scan_0007.bin");
  auto fsck = CheckStore(*repo_, refs_, true, 2, nullptr);
  ASSERT_TRUE(fsck.ok());
  EXPECT_TRUE(fsck->problems.empty());

  // A missing base is corruption of the delta, named with its base, and
  // fsck finds it.
  auto old_full = repo_->LoadTreeBytes(old_many);
  ASSERT_TRUE(old_full.ok());
  ASSERT_TRUE(store_.Delete(ObjectKey(ObjectKind::kTree, old_many)).ok());
  // A reader that holds the base already (a diff does) does not read it.
  KnownTree known{old_many, old_full->full};
  auto through_known = repo_->LoadTreeBytes(new_many, &known);
  ASSERT_TRUE(through_known.ok()) << through_known.status().ToString();
  EXPECT_EQ(through_known->full, full->full);
  auto lost = repo_->LoadTree(new_many);
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(lost.status().IsCorruption());
  EXPECT_NE(lost.status().message().find(old_many.Hex()), std::string::npos)
      << lost.status().message();
  auto bad = CheckStore(*repo_, refs_, true, 2, nullptr);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->problems.size(), 2u);  // the old folder, and the new one through it
}

TEST_F(DatasetTest, AFolderPutBackNeverClosesACycleAndDeltasAreOneHopFromAFullTree) {
  WriteManyFiles(src_ + "/many", 200, 0);
  auto first = Sync("v0");
  ASSERT_TRUE(first.ok());
  ObjectId original = SubTree(*repo_, TreeOf(first->commit), "many");
  WriteManyFiles(src_ + "/many", 200, 5);
  auto changed = Sync("v1");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(repo_->LoadTreeBytes(SubTree(*repo_, TreeOf(changed->commit), "many"))->chain,
            std::vector<ObjectId>{original});
  // Put the folder back as it first was: its tree is written again, and as a
  // delta against v1 it would close the cycle v0 -> v1 -> v0; it goes in full.
  WriteManyFiles(src_ + "/many", 200, 0);
  auto back = Sync("back");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(SubTree(*repo_, TreeOf(back->commit), "many"), original);
  EXPECT_FALSE(IsTreeDelta(*store_.Get(ObjectKey(ObjectKind::kTree, original))));
  auto v1 = repo_->LoadTree(SubTree(*repo_, TreeOf(changed->commit), "many"));
  EXPECT_TRUE(v1.ok()) << v1.status().ToString();

  // A folder changed at every sync: each new tree is a delta against the
  // same tree stored in full, never against another delta, so a reader
  // needs two reads at most.
  ObjectId keyframe = original;
  for (int v = 1; v <= static_cast<int>(kMaxTreeDeltaDepth) + 3; ++v) {
    WriteManyFiles(src_ + "/many", 200, 100 + v);
    auto r = Sync("v" + std::to_string(v));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto bytes = repo_->LoadTreeBytes(SubTree(*repo_, TreeOf(r->commit), "many"));
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(bytes->chain, std::vector<ObjectId>{keyframe}) << "version " << v;
  }
  // Once the changes since that tree outgrow half of it, the folder's tree
  // is stored in full again, and is the next one's base.
  for (int i = 0; i < 200; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/scan_%04d.bin", i);
    WriteTestFile(src_ + "/many" + name, RandomBytes(64, static_cast<uint64_t>(i) + 5000));
  }
  auto rewritten = Sync("rewritten");
  ASSERT_TRUE(rewritten.ok());
  ObjectId full = SubTree(*repo_, TreeOf(rewritten->commit), "many");
  EXPECT_TRUE(repo_->LoadTreeBytes(full)->chain.empty());
  WriteTestFile(src_ + "/many/scan_0003.bin", RandomBytes(64, 4242));
  auto after = Sync("after");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(repo_->LoadTreeBytes(SubTree(*repo_, TreeOf(after->commit), "many"))->chain,
            std::vector<ObjectId>{full});
  auto fsck = CheckStore(*repo_, refs_, true, 2, nullptr);
  ASSERT_TRUE(fsck.ok());
  EXPECT_TRUE(fsck->problems.empty()) << fsck->problems[0];
}

TEST_F(DatasetTest, ATreeStoredInFullIsNeverRewrittenAsADelta) {
  WriteManyFiles(src_ + "/many", 200, 0);
  auto v0 = Sync("v0");
  ASSERT_TRUE(v0.ok());
  ObjectId f0 = SubTree(*repo_, TreeOf(v0->commit), "many");
  for (int i = 0; i < 200; ++i) {  // too much for a delta: stored in full
    char name[32];
    std::snprintf(name, sizeof(name), "/scan_%04d.bin", i);
    WriteTestFile(src_ + "/many" + name, RandomBytes(64, static_cast<uint64_t>(i) + 9000));
  }
  ASSERT_TRUE(Sync("v1").ok());
  WriteTestFile(src_ + "/many/scan_0001.bin", "small change");
  ASSERT_TRUE(Sync("v2").ok());
  // Back to v0: its tree exists, in full; as a new tree of the folder it
  // would be a delta against v1's, but it is not written again.
  std::filesystem::remove_all(src_ + "/many");
  WriteManyFiles(src_ + "/many", 200, 0);
  auto v3 = Sync("v3");
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(SubTree(*repo_, TreeOf(v3->commit), "many"), f0);
  EXPECT_FALSE(IsTreeDelta(*store_.Get(ObjectKey(ObjectKind::kTree, f0))));
  auto fsck = CheckStore(*repo_, refs_, true, 2, nullptr);
  ASSERT_TRUE(fsck.ok());
  EXPECT_TRUE(fsck->problems.empty());
}

TEST_F(DatasetTest, ATamperedCycleOfDeltasIsCorruptionNotAHang) {
  std::string a = EncodeTree(Tree{});
  Tree one;
  one.entries.resize(1);
  one.entries[0].name = "x";
  std::string b = EncodeTree(one);
  ObjectId ida = Sha256(a), idb = Sha256(b);
  ASSERT_TRUE(store_.Put(ObjectKey(ObjectKind::kTree, ida), EncodeTreeDelta(idb, b, a)).ok());
  ASSERT_TRUE(store_.Put(ObjectKey(ObjectKind::kTree, idb), EncodeTreeDelta(ida, a, b)).ok());
  auto r = repo_->LoadTree(ida);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("chain of deltas"), std::string::npos)
      << r.status().message();
}

TEST_F(DatasetTest, AVersionOneStoreGetsNoDeltasSoItsOldReadersStillReadIt) {
  MemoryObjectStore old_store;
  StoreConfig config;
  config.version = 1;
  config.store_id = "00112233445566778899aabbccddeeff";
  ASSERT_TRUE(old_store.Put(kConfigKey, EncodeStoreConfig(config)).ok());
  repo_ = std::move(Repository::Open(&old_store, false)).value();
  EXPECT_FALSE(repo_->TakesTreeDeltas());
  WriteManyFiles(src_ + "/many", 200, 0);
  ASSERT_TRUE(Sync("first").ok());
  WriteManyFiles(src_ + "/many", 200, 5);
  auto second = Sync("second");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->trees_written, 2u);
  EXPECT_EQ(second->tree_deltas, 0u);
}

}  // namespace
}  // namespace proxima
