#include "proxima/core/fs_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "proxima/base/aligned_buffer.h"
#include "proxima/model/names.h"

namespace proxima {

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

Status PwriteAll(int fd, std::string_view data, uint64_t offset, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "cannot write " + what);
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status WriteDirect(int fd, std::string_view data, const std::string& what) {
  constexpr size_t kAlignment = AlignedBuffer::kAlignment;
  size_t direct = data.size() / kAlignment * kAlignment;
  int flags = ::fcntl(fd, F_GETFL);
  if (direct > 0 && flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_DIRECT) == 0) {
    thread_local AlignedBuffer aligned;
    aligned.Clear();
    aligned.Append(data.substr(0, direct));
    size_t done = 0;
    while (done < direct) {
      ssize_t n = ::pwrite(fd, aligned.data() + done, direct - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // refused (EINVAL on some file systems): write the rest normally
      done += static_cast<size_t>(n);
    }
    if (::fcntl(fd, F_SETFL, flags) != 0) return ErrnoStatus(errno, "fcntl " + what);
    if (done < direct && errno != EINVAL) return ErrnoStatus(errno, "cannot write " + what);
    return PwriteAll(fd, data.substr(done), done, what);
  }
  return PwriteAll(fd, data, 0, what);
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
