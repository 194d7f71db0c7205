#include "proxima/core/fs_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "proxima/model/names.h"

namespace proxima {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Status UniqueFd::Close(const std::string& what) {
  int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) return ErrnoStatus(errno, "cannot write " + what);
  return Status::Ok();
}

Status StatEntry(int root_fd, FileState* e) {
  struct stat st;
  if (::fstatat(root_fd, e->path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(errno, "cannot stat " + QuotePath(e->path));
  }
  e->mtime_ns = TimespecNanos(st.st_mtim);
  e->ctime_ns = TimespecNanos(st.st_ctim);
  e->inode = st.st_ino;
  return Status::Ok();
}

Status SyncFilesystem(int fd, const std::string& what) {
  if (::syncfs(fd) != 0) return ErrnoStatus(errno, "cannot flush " + what + " to disk");
  return Status::Ok();
}

bool IsEmptyDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return false;
  bool empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(d);
  return empty;
}

}  // namespace proxima
