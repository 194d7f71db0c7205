#include "proxima/core/scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proxima/core/fs_ops.h"
#include "proxima/core/workdir.h"

namespace proxima {

namespace {

const char* SpecialKind(mode_t mode) {
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  return "unknown type";
}

class Walker {
 public:
  explicit Walker(ScanResult* out) : out_(out) {}

  Status Walk(int dir_fd, const std::string& rel) {
    int fd2 = ::dup(dir_fd);
    DIR* d = fd2 < 0 ? nullptr : ::fdopendir(fd2);
    if (d == nullptr) {
      if (fd2 >= 0) ::close(fd2);
      return ErrnoStatus(errno, "cannot list '" + rel + "'");
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      if (rel.empty() && std::strcmp(e->d_name, WorkDir::kStateDir) == 0) continue;
      names.emplace_back(e->d_name);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus(err, "cannot list '" + rel + "'");
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      std::string path = rel.empty() ? name : rel + "/" + name;
      struct stat st;
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed while we walked
        out_->skipped.push_back({path, std::string("cannot stat: ") + std::strerror(errno)});
        continue;
      }
      FileState e;
      e.path = path;
      e.mode = st.st_mode & 07777;
      e.mtime_ns = TimespecNanos(st.st_mtim);
      e.ctime_ns = TimespecNanos(st.st_ctim);
      e.inode = st.st_ino;
      if (S_ISREG(st.st_mode)) {
        e.type = EntryType::kFile;
        e.size = static_cast<uint64_t>(st.st_size);
        out_->entries.push_back(std::move(e));
      } else if (S_ISLNK(st.st_mode)) {
        e.type = EntryType::kSymlink;
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
        if (n <= 0 || static_cast<size_t>(n) >= target.size()) {
          out_->skipped.push_back({path, "cannot read symbolic link"});
          continue;
        }
        target.resize(static_cast<size_t>(n));
        e.target = std::move(target);
        e.size = e.target.size();
        out_->entries.push_back(std::move(e));
      } else if (S_ISDIR(st.st_mode)) {
        int sub = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
          out_->skipped.push_back(
              {path, std::string("cannot open directory: ") + std::strerror(errno)});
          continue;
        }
        e.type = EntryType::kDirectory;
        out_->entries.push_back(std::move(e));
        Status s = Walk(sub, path);
        ::close(sub);
        PROXIMA_RETURN_IF_ERROR(s);
      } else {
        out_->skipped.push_back(
            {path, std::string("special file (") + SpecialKind(st.st_mode) + "), not stored"});
      }
    }
    return Status::Ok();
  }

 private:
  ScanResult* out_;
};

}  // namespace

Result<ScanResult> ScanFolder(const std::string& root) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open folder '" + root + "'");
  ScanResult result;
  Walker walker(&result);
  Status s = walker.Walk(fd, "");
  ::close(fd);
  PROXIMA_RETURN_IF_ERROR(s);
  return result;
}

}  // namespace proxima
