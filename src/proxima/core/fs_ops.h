#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "proxima/base/status.h"
#include "proxima/core/file_state.h"

namespace proxima {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now and reports the error close(2) returned (ENOSPC on NFS, EIO).
  Status Close(const std::string& what);

 private:
  int fd_ = -1;
};

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
