#pragma once

#include <string>
#include <vector>

#include "proxima/core/file_state.h"
#include "proxima/core/progress.h"
#include "proxima/core/repository.h"
#include "proxima/core/workdir.h"
#include "proxima/ports/clock.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

struct RestoreReport {
  ObjectId commit;
  uint64_t files_written = 0;
  uint64_t bytes_written = 0;
  uint64_t files_removed = 0;
  uint64_t symlinks = 0;
  uint64_t dirs = 0;
  std::vector<std::string> notes;  // things left as they were, and why
};

// Writes `files` (paths relative to `dest_fd`, parents already present, no
// symbolic link on the way) with content fetched pack by pack and verified
// blob by blob. Files are created with mode 0600. With `finish_files`, a
// file written in one piece (most) gets its final mode at once and its stat
// fields filled in from the open file; its `inode` is then non-zero, and
// the caller finishes the others.
Status WriteFiles(Repository& repo, const BlobIndex& index, int dest_fd,
                  const std::vector<FileState*>& files, bool finish_files, int threads,
                  Progress* progress);

// `proxima data clone`: materializes `commit` of `dataset` into the new folder
// `dest` (absent, or an empty directory) and binds it to the dataset. The
// work happens in a hidden sibling folder that is flushed to disk and renamed
// into place at the end, so `dest` appears complete or not at all.
Result<RestoreReport> CloneCommit(Repository& repo, Clock& clock, const std::string& dataset,
                                  const ObjectId& commit, const std::string& dest, int threads,
                                  Progress* progress);

// `proxima data checkout`: switches a bound folder to `commit`. Refuses when
// the folder has unsynced changes unless `force`. New content is staged and
// verified first, then moved into place file by file.
Result<RestoreReport> CheckoutCommit(Repository& repo, RefStore& refs, Clock& clock,
                                     const WorkDir& wd, const ObjectId& commit, bool force,
                                     int threads, Progress* progress);

}  // namespace proxima
