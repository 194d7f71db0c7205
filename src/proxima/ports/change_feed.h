#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proxima/base/result.h"

namespace proxima {

// A point in a change feed's history. `epoch` names one run of the watcher:
// a token from another run (the watcher restarted, or its queue overflowed)
// vouches for nothing.
struct WatchToken {
  uint64_t epoch = 0;
  uint64_t seq = 0;
  bool operator==(const WatchToken&) const = default;
};

// A path of the folder that changed (relative, '/'-separated, never empty).
struct ChangedPath {
  std::string path;
  // The path became a directory whose content the watcher did not see
  // arrive (created or moved in): walk all of it, not just the entry.
  bool subtree = false;
};

struct ChangeSet {
  WatchToken token;  // where this answer leaves off: pass it to the next call
  // True when `paths` holds every path that may have changed since the
  // token asked about; false when the feed cannot vouch for that (no token,
  // a token of another epoch, an overflow), and the caller must look at
  // everything.
  bool complete = false;
  std::vector<ChangedPath> paths;  // any order; only when complete
};

// What changed in a folder between two moments, as git's fsmonitor tells
// git: a sync re-examines only those paths instead of every file.
//
// Contract: every change made to the folder before ChangesSince() was called
// and after the moment `since` was handed out is in `paths` (or `complete`
// is false). A caller that stats the folder after the call and later asks
// with the returned token therefore misses nothing. Paths outside what the
// watcher covers (changes made through mmap, on another machine of a network
// file system) are the documented exceptions (docs/watch.md).
class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  // Unavailable when the watcher cannot be reached; callers then scan.
  virtual Result<ChangeSet> ChangesSince(const std::optional<WatchToken>& since) = 0;
};

}  // namespace proxima
