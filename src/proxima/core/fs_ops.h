#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

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

}  // namespace proxima
