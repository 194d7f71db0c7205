#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "proxima/base/file_util.h"
#include "proxima/base/status.h"
#include "proxima/core/file_state.h"

namespace proxima {

inline int64_t TimespecNanos(const struct timespec& ts) {
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Fills the stat fields of `entry` from lstat of `entry->path` below `root_fd`.
Status StatEntry(int root_fd, FileState* entry);

// syncfs(2): flushes the file system holding `fd`; `what` names it in errors.
Status SyncFilesystem(int fd, const std::string& what);

bool IsEmptyDir(const std::string& path);

// Writes all of `data` at `offset`, retrying short writes and EINTR; `what`
// names the file in errors.
Status PwriteAll(int fd, std::string_view data, uint64_t offset, const std::string& what);

// Files of this size and more are written with O_DIRECT by WriteDirect.
inline constexpr uint64_t kDirectIoMinBytes = 64 << 10;

// Writes the whole content of a new file. The aligned part bypasses the
// page cache (O_DIRECT from an aligned copy): on the machines we measured
// this doubles the write rate, and filling a disk does not evict what the
// page cache holds. The unaligned tail, and file systems that refuse
// O_DIRECT, go through the cache.
Status WriteDirect(int fd, std::string_view data, const std::string& what);

}  // namespace proxima
