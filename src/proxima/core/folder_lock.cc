#include "proxima/core/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace proxima {

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path,
                                                    const std::string& what) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "cannot open lock file '" + path + "'");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::FailedPrecondition("another proxima command is working on " + what +
                                        "; wait for it to finish");
    }
    return ErrnoStatus(err, "cannot lock '" + path + "'");
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

Result<std::unique_ptr<FileLock>> FileLock::Take(const std::string& path, Mode mode, bool wait) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0 && errno == EACCES)
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // flock needs no write
  if (fd < 0) return ErrnoStatus(errno, "cannot open lock file '" + path + "'");
  // Other users of a shared volume lock it too, whatever our umask; only the
  // file's owner may change its mode, and others need not.
  IgnoreError(::fchmod(fd, 0666) == 0 ? Status::Ok() : ErrnoStatus(errno, path));
  int op = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  int rc;
  do {
    rc = ::flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return std::unique_ptr<FileLock>();
    return ErrnoStatus(err, "cannot lock '" + path + "'");
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

FileLock::~FileLock() { ::close(fd_); }

}  // namespace proxima
