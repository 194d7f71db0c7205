#pragma once

#include <memory>
#include <string>

#include "proxima/base/result.h"

namespace proxima {

// An exclusive advisory lock (flock) on a file, held while the object lives.
// Released by the kernel if the process dies, so a kill -9 never leaves a
// stale lock behind.
class FileLock {
 public:
  // FailedPrecondition naming `what` when another process holds the lock.
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path,
                                                   const std::string& what);

  enum class Mode { kShared, kExclusive };
  // Takes the lock in `mode`, creating the file if needed. With `wait` it
  // blocks until the lock is granted; without, it returns a null pointer
  // when another holder's lock conflicts.
  static Result<std::unique_ptr<FileLock>> Take(const std::string& path, Mode mode, bool wait);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace proxima
