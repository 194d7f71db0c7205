#pragma once

#include <string>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/core/file_state.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

// The stat cache of a working folder (docs/format.md, "The working folder").
struct StatCache {
  ObjectId head;                   // zero before the first sync
  std::vector<FileState> entries;  // walk order
  std::vector<ObjectId> trees;     // trees of `head`, known to be in the store
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
  WorkDir(std::string root, std::string dataset)
      : root_(std::move(root)), dataset_(std::move(dataset)) {}
  std::string root_;
  std::string dataset_;
};

}  // namespace proxima
