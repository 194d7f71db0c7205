#include "proxima/core/scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <unordered_set>

#include "proxima/base/parallel.h"
#include "proxima/core/fs_ops.h"
#include "proxima/core/workdir.h"
#include "proxima/model/names.h"

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
      PROXIMA_RETURN_IF_ERROR(
          Visit(dir_fd, rel.empty() ? name : rel + "/" + name, name, true).status());
    }
    return Status::Ok();
  }

  // Lists the entry `name` of the directory `dir_fd` (whose path is `path`)
  // and, when it is a directory and `recurse` is set, all that it holds.
  // Returns whether an entry was listed.
  Result<bool> Visit(int dir_fd, const std::string& path, const std::string& name, bool recurse) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return false;  // removed while we walked
      out_->skipped.push_back({path, std::string("cannot stat: ") + std::strerror(errno)});
      return false;
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
      return true;
    }
    if (S_ISLNK(st.st_mode)) {
      e.type = EntryType::kSymlink;
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n <= 0 || static_cast<size_t>(n) >= target.size()) {
        out_->skipped.push_back({path, "cannot read symbolic link"});
        return false;
      }
      target.resize(static_cast<size_t>(n));
      e.target = std::move(target);
      e.size = e.target.size();
      out_->entries.push_back(std::move(e));
      return true;
    }
    if (!S_ISDIR(st.st_mode)) {
      out_->skipped.push_back(
          {path, std::string("special file (") + SpecialKind(st.st_mode) + "), not stored"});
      return false;
    }
    e.type = EntryType::kDirectory;
    if (!recurse) {
      out_->entries.push_back(std::move(e));
      return true;
    }
    int sub = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      out_->skipped.push_back(
          {path, std::string("cannot open directory: ") + std::strerror(errno)});
      return false;
    }
    out_->entries.push_back(std::move(e));
    if (deferred_ != nullptr && path.find('/') == std::string::npos) {
      deferred_->push_back({out_->entries.size() - 1, sub, path, {}});
      return true;
    }
    Status s = Walk(sub, path);
    ::close(sub);
    PROXIMA_RETURN_IF_ERROR(s);
    return true;
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

namespace {

bool IsUnder(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

// Opens directories below a root by path without following symbolic links
// on the way, keeping the last chain open: changed paths come in walk
// order, so neighbours share most of it.
class DirChain {
 public:
  explicit DirChain(int root_fd) : root_fd_(root_fd) {}

  // The directory `rel` ("" for the root), or -1 when it is gone or is no
  // longer a directory (errno says why).
  int Open(const std::string& rel) {
    while (!chain_.empty() && !(chain_.back().path == rel || IsUnder(rel, chain_.back().path))) {
      chain_.pop_back();
    }
    if (rel.empty()) return root_fd_;
    size_t pos = chain_.empty() ? 0 : chain_.back().path.size() + 1;
    while (pos <= rel.size() && (chain_.empty() || chain_.back().path != rel)) {
      size_t slash = rel.find('/', pos);
      if (slash == std::string::npos) slash = rel.size();
      std::string name = rel.substr(pos, slash - pos);
      int parent = chain_.empty() ? root_fd_ : chain_.back().fd.get();
      int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return -1;
      chain_.push_back({rel.substr(0, slash), UniqueFd(fd)});
      pos = slash + 1;
    }
    return chain_.back().fd.get();
  }

 private:
  struct Link {
    std::string path;
    UniqueFd fd;
  };
  int root_fd_;
  std::vector<Link> chain_;
};

// The inodes of changed paths that are regular files with more than one
// name.
std::unordered_set<uint64_t> LinkedInodes(int root_fd, const std::vector<ChangedPath>& changes) {
  std::unordered_set<uint64_t> out;
  DirChain dirs(root_fd);
  for (const ChangedPath& c : changes) {
    size_t slash = c.path.rfind('/');
    int parent = dirs.Open(slash == std::string::npos ? std::string() : c.path.substr(0, slash));
    struct stat st;
    if (parent >= 0 &&
        ::fstatat(parent, c.path.c_str() + (slash == std::string::npos ? 0 : slash + 1), &st,
                  AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && st.st_nlink > 1) {
      out.insert(st.st_ino);
    }
  }
  return out;
}

bool ValidChangedPath(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.back() == '/') return false;
  size_t start = 0;
  for (;;) {
    size_t slash = p.find('/', start);
    std::string_view part =
        p.substr(start, slash == std::string_view::npos ? p.npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

Result<ScanResult> ScanChanged(const std::string& root, const CachedEntries& cached,
                               size_t cached_count, std::vector<ChangedPath> changes) {
  for (const ChangedPath& c : changes) {
    if (!ValidChangedPath(c.path)) {
      return Status::InvalidArgument("the watcher reported a path that cannot be in the folder: " +
                                     QuotePath(c.path));
    }
  }
  std::sort(changes.begin(), changes.end(), [](const ChangedPath& a, const ChangedPath& b) {
    return ComparePaths(a.path, b.path) < 0;
  });
  UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return ErrnoStatus(errno, "cannot open folder '" + root + "'");
  DirChain dirs(root_fd.get());

  ScanResult out;
  out.entries.reserve(cached_count + changes.size());
  FileState cur;
  PROXIMA_ASSIGN_OR_RETURN(bool have, cached(&cur));
  auto emit_cached = [&]() -> Status {
    FileState& e = out.entries.emplace_back(std::move(cur));
    // Entries come without chunks, as from a scan (the sync takes them from
    // the cache); their vector goes back to `cur` to be filled again.
    cur.chunks.swap(e.chunks);
    PROXIMA_ASSIGN_OR_RETURN(have, cached(&cur));
    return Status::Ok();
  };
  auto drop_cached = [&]() -> Status {
    PROXIMA_ASSIGN_OR_RETURN(have, cached(&cur));
    return Status::Ok();
  };
  std::string replaced;  // the last path whose whole subtree was looked at again
  // Looks at `path` again; the cache is positioned at or before it.
  auto examine = [&](const std::string& path, bool subtree) -> Status {
    bool cached_here = have && cur.path == path;
    size_t slash = path.rfind('/');
    std::string parent = slash == std::string::npos ? std::string() : path.substr(0, slash);
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    ScanResult patch;
    Walker walker(&patch, nullptr);
    int parent_fd = dirs.Open(parent);
    bool listed = false;
    if (parent_fd >= 0) {
      PROXIMA_ASSIGN_OR_RETURN(listed, walker.Visit(parent_fd, path, name, false));
    }
    bool is_dir = listed && patch.entries.back().type == EntryType::kDirectory;
    bool same_kind = listed && cached_here && cur.type == patch.entries.back().type;
    int dir_fd = is_dir ? dirs.Open(path) : -1;
    // A directory that can no longer be listed is skipped with what it
    // holds, as the full scan does.
    if (is_dir && dir_fd < 0) same_kind = false;
    if (!listed || subtree || !same_kind) {
      // Gone, new, or a different kind of entry: what the cache holds at
      // and below the path is replaced by what is there now.
      if (is_dir) {
        Status s = dir_fd < 0 ? ErrnoStatus(errno, "cannot open directory") : Status::Ok();
        if (s.ok()) s = walker.Walk(dir_fd, path);
        if (!s.ok()) {
          patch.entries.clear();
          patch.skipped.push_back({path, s.message()});
        }
      }
      while (have && (cur.path == path || IsUnder(cur.path, path))) {
        PROXIMA_RETURN_IF_ERROR(drop_cached());
      }
      replaced = path;
    } else if (cached_here) {
      // The same kind of entry with new metadata or content: a directory
      // keeps what the cache says it holds (changes below it are reported
      // as their own paths).
      PROXIMA_RETURN_IF_ERROR(drop_cached());
    }
    std::move(patch.entries.begin(), patch.entries.end(), std::back_inserter(out.entries));
    std::move(patch.skipped.begin(), patch.skipped.end(), std::back_inserter(out.skipped));
    return Status::Ok();
  };
  // A file changed through one of its names raises an event for that name
  // only: the cached entries of its other names are looked at too.
  std::unordered_set<uint64_t> linked = LinkedInodes(root_fd.get(), changes);
  auto pass_cached = [&]() -> Status {
    if (!linked.empty() && cur.type == EntryType::kFile && linked.count(cur.inode) != 0) {
      std::string path = cur.path;
      return examine(path, false);
    }
    return emit_cached();
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    const ChangedPath& c = changes[i];
    if (i > 0 && c.path == changes[i - 1].path) continue;
    if (!replaced.empty() && IsUnder(c.path, replaced)) continue;
    if (c.path == WorkDir::kStateDir || IsUnder(c.path, WorkDir::kStateDir)) continue;
    bool subtree = c.subtree;
    for (size_t j = i + 1; j < changes.size() && changes[j].path == c.path; ++j) {
      subtree = subtree || changes[j].subtree;
    }
    while (have && ComparePaths(cur.path, c.path) < 0) PROXIMA_RETURN_IF_ERROR(pass_cached());
    PROXIMA_RETURN_IF_ERROR(examine(c.path, subtree));
  }
  while (have) PROXIMA_RETURN_IF_ERROR(pass_cached());
  return out;
}

}  // namespace proxima
