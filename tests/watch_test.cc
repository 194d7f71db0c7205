// The change feed: inotify tracking (ChangeTracker), the watcher's socket
// (RunWatchDaemon, WatchClient), and syncs that look only at what it saw
// change, checked against full scans of the same folder.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "proxima/adapters/folder_watcher.h"
#include "proxima/adapters/memory_object_store.h"
#include "proxima/adapters/memory_ref_store.h"
#include "proxima/core/sync.h"
#include "test_util.h"

namespace proxima {
namespace {

namespace fs = std::filesystem;
using testing::RandomBytes;
using testing::WriteTestFile;

std::set<std::string> Paths(const ChangeSet& cs) {
  std::set<std::string> out;
  for (const ChangedPath& p : cs.paths) out.insert(p.path + (p.subtree ? "/**" : ""));
  return out;
}

// A ChangeFeed over a tracker in this process: what the daemon does per
// question, without the socket.
class TrackerFeed : public ChangeFeed {
 public:
  explicit TrackerFeed(ChangeTracker* t) : t_(t) {}
  Result<ChangeSet> ChangesSince(const std::optional<WatchToken>& since) override {
    PROXIMA_RETURN_IF_ERROR(t_->Drain());
    ++questions;
    return t_->Since(since);
  }
  int questions = 0;

 private:
  ChangeTracker* t_;
};

TEST(ChangeTrackerTest, ReportsEachKindOfChangeByPath) {
  testing::TempDir tmp;
  std::string root = tmp.path();
  WriteTestFile(root + "/a/one", "1");
  WriteTestFile(root + "/a/two", "2");
  WriteTestFile(root + "/b/deep/three", "3");
  WriteTestFile(root + "/.proxima/statcache", "x");
  auto t = ChangeTracker::Open(root);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->info().directories, 4u);  // root, a, b, b/deep; not .proxima

  ChangeSet start = (*t)->Since(std::nullopt);
  EXPECT_FALSE(start.complete);                                   // no token: nothing to vouch from
  WriteTestFile(root + "/a/one", "changed");                      // modified
  fs::remove(root + "/a/two");                                    // deleted
  ASSERT_EQ(::chmod((root + "/b/deep/three").c_str(), 0600), 0);  // attributes
  WriteTestFile(root + "/new/sub/four", "4");                     // a new tree
  fs::rename(root + "/b/deep", root + "/b/moved");                // a moved folder
  WriteTestFile(root + "/.proxima/statcache", "y");               // ignored
  ASSERT_TRUE((*t)->Drain().ok());
  ChangeSet cs = (*t)->Since(start.token);
  ASSERT_TRUE(cs.complete);
  EXPECT_EQ(Paths(cs), (std::set<std::string>{"a/one", "a/two", "b/deep/three", "new/**", "b/deep",
                                              "b/moved/**"}));

  // The moved folder is watched at its new place, the old watch is gone.
  WriteTestFile(root + "/b/moved/three", "33");
  WriteTestFile(root + "/new/sub/five", "5");
  ASSERT_TRUE((*t)->Drain().ok());
  ChangeSet next = (*t)->Since(cs.token);
  ASSERT_TRUE(next.complete);
  EXPECT_EQ(Paths(next), (std::set<std::string>{"b/moved/three", "new/sub/five"}));
}

TEST(ChangeTrackerTest, TwoFoldersSwappedInOneCallStayWatched) {
  testing::TempDir tmp;
  WriteTestFile(tmp.path() + "/a/x", "1");
  WriteTestFile(tmp.path() + "/b/y", "2");
  auto t = ChangeTracker::Open(tmp.path());
  ASSERT_TRUE(t.ok());
  WatchToken t0 = (*t)->Since(std::nullopt).token;
  ASSERT_EQ(::renameat2(AT_FDCWD, (tmp.path() + "/a").c_str(), AT_FDCWD,
                        (tmp.path() + "/b").c_str(), RENAME_EXCHANGE),
            0);
  ASSERT_TRUE((*t)->Drain().ok());
  ChangeSet swapped = (*t)->Since(t0);
  ASSERT_TRUE(swapped.complete);
  EXPECT_EQ(Paths(swapped), (std::set<std::string>{"a/**", "b/**"}));
  // Both are watched at their new places.
  WriteTestFile(tmp.path() + "/a/y", "3");
  WriteTestFile(tmp.path() + "/b/x", "4");
  ASSERT_TRUE((*t)->Drain().ok());
  EXPECT_EQ(Paths((*t)->Since(swapped.token)), (std::set<std::string>{"a/y", "b/x"}));
}

TEST(ChangeTrackerTest, AFolderAboveRenamedMakesEveryAnswerIncomplete) {
  testing::TempDir tmp;
  WriteTestFile(tmp.path() + "/above/root/f", "1");
  auto t = ChangeTracker::Open(tmp.path() + "/above/root");
  ASSERT_TRUE(t.ok());
  WatchToken t0 = (*t)->Since(std::nullopt).token;
  fs::rename(tmp.path() + "/above", tmp.path() + "/elsewhere");
  ASSERT_TRUE((*t)->Drain().ok());
  EXPECT_TRUE((*t)->root_gone());
  EXPECT_FALSE((*t)->Since(t0).complete);
}

TEST(ChangeTrackerTest, ForeignOrForgottenTokensVouchForNothing) {
  testing::TempDir tmp;
  WriteTestFile(tmp.path() + "/f", "1");
  auto t = ChangeTracker::Open(tmp.path());
  ASSERT_TRUE(t.ok());
  WatchToken t0 = (*t)->Since(std::nullopt).token;
  WriteTestFile(tmp.path() + "/f", "2");
  ASSERT_TRUE((*t)->Drain().ok());
  WatchToken t1 = (*t)->Since(t0).token;
  EXPECT_FALSE((*t)->Since(WatchToken{t0.epoch + 1, t0.seq}).complete);  // another run's
  EXPECT_FALSE((*t)->Since(WatchToken{t0.epoch, t1.seq + 5}).complete);  // from the future
  // Asking from t1 forgets what came before it; t0 can no longer be answered.
  EXPECT_TRUE((*t)->Since(t1).complete);
  EXPECT_FALSE((*t)->Since(t0).complete);
}

TEST(ChangeTrackerTest, TooManyChangesStartANewEpoch) {
  testing::TempDir tmp;
  auto t = ChangeTracker::Open(tmp.path(), /*max_paths=*/30);
  ASSERT_TRUE(t.ok());
  WatchToken t0 = (*t)->Since(std::nullopt).token;
  for (int i = 0; i < 40; ++i) WriteTestFile(tmp.path() + "/f" + std::to_string(i), "x");
  ASSERT_TRUE((*t)->Drain().ok());
  ChangeSet cs = (*t)->Since(t0);
  EXPECT_FALSE(cs.complete);
  EXPECT_NE(cs.token.epoch, t0.epoch);
  EXPECT_GE((*t)->info().epochs, 2u);
  WriteTestFile(tmp.path() + "/after", "x");
  ASSERT_TRUE((*t)->Drain().ok());
  ChangeSet later = (*t)->Since(cs.token);
  ASSERT_TRUE(later.complete);
  EXPECT_EQ(Paths(later), (std::set<std::string>{"after"}));
}

class WatchedSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = std::move(Repository::Open(&store_, true)).value();
    ASSERT_TRUE(refs_.CreateDataset("ds", 0).ok());
    src_ = tmp_.path() + "/src";
    for (int d = 0; d < 6; ++d) {
      for (int f = 0; f < 8; ++f) {
        WriteTestFile(Path(d, f), RandomBytes(100 + 37 * f, 10 * d + f));
      }
    }
    ASSERT_TRUE(WorkDir::Bind(src_, "ds", ObjectId()).ok());
    auto t = ChangeTracker::Open(src_);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tracker_ = std::move(*t);
    feed_ = std::make_unique<TrackerFeed>(tracker_.get());
  }

  std::string Path(int d, int f) {
    return src_ + "/d" + std::to_string(d) + "/s" + std::to_string(d % 3) + "/f" +
           std::to_string(f);
  }

  Result<SyncReport> Sync(bool dry_run, ChangeFeed* feed) {
    clock_.Advance(5'000'000'000);
    SyncOptions o;
    o.message = "m";
    o.author = "test";
    o.dry_run = dry_run;
    o.change_feed = feed;
    Syncer syncer(repo_.get(), &refs_, &clock_, nullptr);
    return syncer.Run(std::move(WorkDir::Find(src_)).value(), o);
  }

  testing::TempDir tmp_;
  std::string src_;
  MemoryObjectStore store_;
  MemoryRefStore refs_;
  ManualClock clock_{static_cast<int64_t>(time(nullptr)) * 1'000'000'000 + 10'000'000'000};
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<ChangeTracker> tracker_;
  std::unique_ptr<TrackerFeed> feed_;
};

TEST_F(WatchedSyncTest, TheFirstSyncScansAndTheNextLooksOnlyAtWhatChanged) {
  auto first = Sync(false, feed_.get());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->scan, "full");  // no token yet
  EXPECT_EQ(feed_->questions, 1);
  WriteTestFile(Path(1, 1), "new content");
  WriteTestFile(src_ + "/d2/added", "added");
  fs::remove(Path(4, 0));
  auto second = Sync(false, feed_.get());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->scan, "watch") << second->scan_note;
  EXPECT_EQ(second->watched_paths, 3u);
  EXPECT_EQ(second->files_read, 2u);
  EXPECT_EQ(second->changes.added, 1u);
  EXPECT_EQ(second->changes.modified, 1u);
  EXPECT_EQ(second->changes.deleted, 1u);
  // A full scan of the folder agrees that nothing is left to commit.
  auto check = Sync(true, nullptr);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->changes.added + check->changes.modified + check->changes.deleted, 0u);
  // No change: nothing to look at.
  auto third = Sync(false, feed_.get());
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->scan, "watch");
  EXPECT_EQ(third->watched_paths, 0u);
  EXPECT_FALSE(third->committed);
}

TEST_F(WatchedSyncTest, AWatcherThatCannotVouchMeansAFullScan) {
  ASSERT_TRUE(Sync(false, feed_.get()).ok());
  WriteTestFile(Path(0, 0), "changed behind a new watcher's back");
  // Another run of the watcher: the folder's token is of the old one.
  auto other = ChangeTracker::Open(src_);
  ASSERT_TRUE(other.ok());
  TrackerFeed other_feed(other->get());
  auto r = Sync(false, &other_feed);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->scan, "full");
  EXPECT_FALSE(r->scan_note.empty());
  EXPECT_EQ(r->changes.modified, 1u);
  auto next = Sync(false, &other_feed);  // its token is saved now
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->scan, "watch") << next->scan_note;
}

TEST_F(WatchedSyncTest, AFileChangedThroughAnotherNameIsSeen) {
  ASSERT_EQ(::link(Path(0, 0).c_str(), (src_ + "/d1/hardlink").c_str()), 0);
  ASSERT_TRUE(Sync(false, feed_.get()).ok());
  ASSERT_TRUE(Sync(false, feed_.get()).ok());
  WriteTestFile(Path(0, 0), "new content through the first name");  // same inode
  auto r = Sync(false, feed_.get());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->scan, "watch");
  EXPECT_EQ(r->changes.modified, 2u);  // both names
  auto check = Sync(false, nullptr);
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->committed);
}

// Random changes of every kind, many rounds: after each sync through the
// watcher, a full scan must find the folder and the commit in agreement.
TEST_F(WatchedSyncTest, RandomChangesNeverEscapeTheWatcher) {
  ASSERT_TRUE(Sync(false, feed_.get()).ok());
  std::mt19937 rng(7);
  auto pick = [&](const std::vector<std::string>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  int watched = 0;
  for (int round = 0; round < 30; ++round) {
    std::vector<std::string> files, dirs;
    for (auto it = fs::recursive_directory_iterator(src_); it != fs::end(it); ++it) {
      std::string rel = fs::relative(it->path(), src_).string();
      if (rel.rfind(".proxima", 0) == 0) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_symlink()) continue;
      (it->is_directory() ? dirs : files).push_back(it->path().string());
    }
    int ops = std::uniform_int_distribution<int>(1, 6)(rng);
    for (int k = 0; k < ops; ++k) {
      int op = std::uniform_int_distribution<int>(0, 9)(rng);
      std::string n = std::to_string(round) + "_" + std::to_string(k);
      std::error_code ec;
      // An earlier change of the round may have removed the path picked:
      // then the change fails, as it would for a user.
      try {
        if (op == 0 && !files.empty()) {
          WriteTestFile(pick(files), RandomBytes(200, rng()));  // modify
        } else if (op == 1 && !files.empty()) {
          fs::remove(pick(files), ec);
        } else if (op == 2 && !dirs.empty()) {
          WriteTestFile(pick(dirs) + "/n" + n, RandomBytes(50, rng()));
        } else if (op == 3 && !dirs.empty()) {
          std::string d = pick(dirs) + "/tree" + n;
          WriteTestFile(d + "/x/y", "y" + n);
          WriteTestFile(d + "/z", "z" + n);
        } else if (op == 4 && !dirs.empty()) {
          fs::remove_all(pick(dirs), ec);
        } else if (op == 5 && !dirs.empty()) {
          fs::rename(pick(dirs), src_ + "/moved" + n, ec);
        } else if (op == 6 && !files.empty()) {
          fs::rename(pick(files),
                     pick(dirs.empty() ? std::vector<std::string>{src_} : dirs) + "/renamed" + n,
                     ec);
        } else if (op == 7 && !files.empty()) {
          ::chmod(pick(files).c_str(), 0600);
        } else if (op == 8 && !files.empty()) {
          std::string f = pick(files);  // a file becomes a folder
          fs::remove(f, ec);
          WriteTestFile(f + "/inside", "i" + n);
        } else if (op == 9 && !dirs.empty()) {
          std::string d = pick(dirs);  // a link, or a folder becomes a file
          if (rng() % 2) {
            ::symlink("../elsewhere", (d + "/link" + n).c_str());
          } else {
            fs::remove_all(d, ec);
            WriteTestFile(d, "was a folder");
          }
        }
      } catch (const fs::filesystem_error&) {
      }
    }
    auto r = Sync(false, feed_.get());
    ASSERT_TRUE(r.ok()) << "round " << round << ": " << r.status().ToString();
    if (r->scan == "watch") ++watched;
    // A sync that scans everything finds nothing to commit (folders
    // included, empty ones too) unless the watched one missed something.
    auto check = Sync(false, nullptr);
    ASSERT_TRUE(check.ok());
    EXPECT_FALSE(check->committed)
        << "round " << round << ": the watched sync missed "
        << (check->changed.empty() ? std::string("a folder") : check->changed[0].path);
  }
  EXPECT_EQ(watched, 30);  // every round after the first took the watcher's word
}

TEST(WatchDaemonTest, AnswersOverItsSocketAndIsOnePerFolder) {
  testing::TempDir tmp;
  std::string root = tmp.path();
  WriteTestFile(root + "/.proxima/binding.json", "{\"dataset\":\"ds\"}\n");
  WriteTestFile(root + "/data/f", "1");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  Status result = Status::Internal("not run");
  std::thread daemon([&] { result = RunWatchDaemon({root, ready[1]}); });
  char buf[64] = {0};
  ASSERT_GT(::read(ready[0], buf, sizeof(buf) - 1), 0);
  ::close(ready[0]);
  EXPECT_EQ(std::string(buf).rfind("ok ", 0), 0u) << buf;

  WatchClient client(root);
  auto first = client.ChangesSince(std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->complete);
  WriteTestFile(root + "/data/f", "2");
  WriteTestFile(root + "/data/g", "3");
  auto second = client.ChangesSince(first->token);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->complete);
  EXPECT_EQ(Paths(*second), (std::set<std::string>{"data/f", "data/g"}));

  auto again = RunWatchDaemon({root, -1});
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  auto status = WatchRequest(root, "status");
  ASSERT_TRUE(status.ok());
  EXPECT_NE(status->find("directories=2"), std::string::npos) << *status;
  ASSERT_TRUE(WatchRequest(root, "stop").ok());
  daemon.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_FALSE(fs::exists(root + "/.proxima/watch.sock"));
  EXPECT_EQ(client.ChangesSince(second->token).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace proxima
