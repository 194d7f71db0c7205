#include "proxima/core/scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "proxima/base/parallel.h"
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

// A sub-directory of the top whose walk runs on a worker thread.
struct Deferred {
  size_t after;  // index of the directory's own entry in the top-level result
  int fd;
  std::string path;
  ScanResult result;
};

class Walker {
 public:
  // With `deferred` set, sub-directories of the top are not walked but
  // recorded there, to be walked in parallel.
  Walker(ScanResult* out, std::vector<Deferred>* deferred) : out_(out), deferred_(deferred) {}

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
        if (deferred_ != nullptr && rel.empty()) {
          deferred_->push_back({out_->entries.size() - 1, sub, path, {}});
          continue;
        }
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
  std::vector<Deferred>* deferred_;
};

}  // namespace

Result<ScanResult> ScanFolder(const std::string& root) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open folder '" + root + "'");
  // The top level is listed here; its sub-directories are walked on all
  // cores (lstat is most of a scan, and the kernel serves it in parallel).
  ScanResult top;
  std::vector<Deferred> deferred;
  Status s = Walker(&top, &deferred).Walk(fd, "");
  ::close(fd);
  if (s.ok()) {
    s = ParallelFor(deferred.size(), DefaultThreads(), [&](size_t i) {
      return Walker(&deferred[i].result, nullptr).Walk(deferred[i].fd, deferred[i].path);
    });
  }
  for (Deferred& d : deferred) ::close(d.fd);
  PROXIMA_RETURN_IF_ERROR(s);
  size_t total = top.entries.size();
  for (const Deferred& d : deferred) total += d.result.entries.size();
  ScanResult result;
  result.entries.reserve(total);
  result.skipped = std::move(top.skipped);
  size_t next = 0;
  for (size_t i = 0; i < top.entries.size(); ++i) {
    result.entries.push_back(std::move(top.entries[i]));
    if (next < deferred.size() && deferred[next].after == i) {
      Deferred& d = deferred[next++];
      std::move(d.result.entries.begin(), d.result.entries.end(),
                std::back_inserter(result.entries));
      std::move(d.result.skipped.begin(), d.result.skipped.end(),
                std::back_inserter(result.skipped));
    }
  }
  return result;
}

}  // namespace proxima
