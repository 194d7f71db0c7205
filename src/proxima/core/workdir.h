#pragma once

#include <string>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/core/file_state.h"
#include "proxima/ports/change_feed.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

// The stat cache of a working folder (docs/format.md, "The working folder").
struct StatCache {
  ObjectId head;                   // zero before the first sync
  std::vector<FileState> entries;  // walk order
  std::vector<ObjectId> trees;     // trees of `head`, known to be in the store
};

// Reads a stat cache entry by entry, so that a sync of a million files never
// holds it decoded: only its bytes (about 80 per file). Not thread-safe.
class StatCacheReader {
 public:
  // An empty cache (no file yet) reads as no entries and a zero head.
  static Result<StatCacheReader> Open(const std::string& path);
  // Only the header, from the file's first bytes: the head (zero when there
  // is no file) and the number of entries.
  struct Header {
    ObjectId head;
    uint64_t entries = 0;
  };
  static Result<Header> ReadHeader(const std::string& path);

  const ObjectId& head() const { return head_; }
  // True when no entry is left to read.
  bool done() const { return remaining_ == 0; }
  // The next entry in walk order into `out`; false after the last one.
  // Corruption when the file is damaged.
  Result<bool> Next(FileState* out);
  // The trees of the head; call after Next returned false.
  Result<std::vector<ObjectId>> Trees();
  // Back to the first entry, to be read again.
  void Rewind() {
    pos_ = first_;
    remaining_ = count_;
  }

 private:
  Status Damaged() const;
  std::string path_;
  std::string bytes_;
  size_t pos_ = 0;  // an offset, not a view: the reader is moved around
  size_t first_ = 0;
  ObjectId head_;
  uint64_t remaining_ = 0;
  uint64_t count_ = 0;
};

// A folder bound to a dataset: its `.proxima/` directory. Not thread-safe;
// one command at a time per folder (sync takes a lock file).
class WorkDir {
 public:
  static constexpr const char* kStateDir = ".proxima";

  // Binds `dir` to `dataset`, creating `dir/.proxima`. A folder bound to
  // another dataset is refused (FailedPrecondition).
  static Result<WorkDir> Bind(const std::string& dir, const std::string& dataset,
                              const ObjectId& head);
  // Finds the bound folder at `dir` or above it (as git finds .git).
  static Result<WorkDir> Find(const std::string& dir);

  const std::string& root() const { return root_; }
  const std::string& dataset() const { return dataset_; }
  std::string StatePath(const char* name) const;

  // Whether a watcher should keep track of this folder's changes
  // (`proxima data watch start`; binding.json "watch"). SetWatch rewrites
  // binding.json.
  bool watch() const { return watch_; }
  Status SetWatch(bool on);

  // The change-feed token that the stat cache is current to (watch.token):
  // every change after it is the feed's to report. None when there is no
  // token or it cannot be read (the next sync then scans everything).
  std::optional<WatchToken> ReadWatchToken() const;
  // Written after the stat cache it goes with, never before: a crash in
  // between leaves an older token, which asks for more changes, not fewer.
  Status WriteWatchToken(const WatchToken& token) const;

  // Finishes or discards a publication that a killed command left behind:
  // statcache.pending becomes statcache if the dataset's head is its commit.
  Status RecoverPending(RefStore& refs) const;

  Result<StatCache> LoadStatCache() const;
  // Writes statcache.pending (pending) or statcache (not pending), atomically.
  // Files modified within `racy_window_ns` of `now_ns` get mtime 0 recorded.
  Status WriteStatCache(const StatCache& cache, bool pending, int64_t now_ns) const;
  // Renames statcache.pending over statcache.
  Status PublishPending() const;

  // The journal of packs written by an unfinished sync.
  Status AppendJournal(const ObjectId& pack) const;
  Result<std::vector<ObjectId>> ReadJournal() const;
  Status ClearJournal() const;

 private:
  WorkDir(std::string root, std::string dataset, bool watch)
      : root_(std::move(root)), dataset_(std::move(dataset)), watch_(watch) {}
  std::string root_;
  std::string dataset_;
  bool watch_ = false;
};

}  // namespace proxima
