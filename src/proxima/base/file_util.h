#pragma once

#include <string>
#include <string_view>

#include "proxima/base/result.h"

namespace proxima {

// Small POSIX helpers shared by the adapters and the working-folder code.
// All paths are byte strings; errors name the path.

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

// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` atomically: a temporary file in the same directory,
// write, fsync, rename over `path`, fsync the directory. Readers see either the
// old content or the new, never a mix, even after a crash.
Status WriteFileAtomic(const std::string& path, std::string_view data);

// Writes all of `data` to `fd`, retrying short writes and EINTR.
Status WriteAll(int fd, std::string_view data, const std::string& path_for_errors);

// Reads exactly `n` bytes at `offset` (or fewer at end of file) into `out`.
Status PreadAll(int fd, size_t n, uint64_t offset, std::string* out,
                const std::string& path_for_errors);

// fsync(2) on a directory, making a rename or create inside it durable.
Status FsyncDir(const std::string& dir);

// mkdir -p. Existing directories are fine.
Status MakeDirs(const std::string& path);

// rm -rf, without following symbolic links. A missing path is fine.
Status RemoveAll(const std::string& path);

// "a" + "/" + "b", with no doubled slash.
std::string JoinPath(std::string_view a, std::string_view b);

// The directory part of a path ("." if none).
std::string DirName(const std::string& path);

// A name unique to this process and call, for temporary files.
std::string UniqueTempSuffix();

}  // namespace proxima
