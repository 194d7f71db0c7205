#pragma once

#include <functional>
#include <string>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/core/file_state.h"
#include "proxima/ports/change_feed.h"

namespace proxima {

// Something the scan or the sync left out, and why.
struct SkippedPath {
  std::string path;
  std::string reason;  // "special file (fifo)", "cannot read: permission denied"
};

struct ScanResult {
  std::vector<FileState> entries;  // walk order, without content
  std::vector<SkippedPath> skipped;
};

// Walks `root` without following symbolic links and without reading file
// content (one getdents and one lstat per entry). Regular files, directories
// and symbolic links are listed; sockets, fifos and devices are skipped and
// reported, as are directories that cannot be opened. The `.proxima` state
// directory at the top is left out.
Result<ScanResult> ScanFolder(const std::string& root);

// The entries of the last scan, in walk order: the next one into `out`,
// false after the last.
using CachedEntries = std::function<Result<bool>(FileState* out)>;

// What ScanFolder would return, from the last scan (`cached`, the stat
// cache) and the paths a watcher saw change since (ChangeFeed): only those
// are looked at again. A changed path that is gone drops its entry and all
// below it; one that is new, of another kind than before, or flagged
// `subtree` is walked in full; any other is stat'ed alone (a directory keeps
// the entries the cache lists below it). Entries taken from the cache come
// without chunks, as from a scan. Paths are resolved without following
// symbolic links. InvalidArgument for a changed path that cannot be in the
// folder (empty, absolute, with '.' or '..'); the caller then scans.
// `cached_count` is how many entries `cached` holds (for reserving).
Result<ScanResult> ScanChanged(const std::string& root, const CachedEntries& cached,
                               size_t cached_count, std::vector<ChangedPath> changes);

}  // namespace proxima
