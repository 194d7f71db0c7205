#include "proxima/core/cache_volume.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "proxima/base/file_util.h"
#include "proxima/base/hash.h"

namespace proxima {

namespace {

std::string CacheDirName(std::string_view dataset, const ObjectId& commit) {
  return std::string(dataset) + "@" + commit.Hex();
}

// Walks `dir` (a pool folder of folders), adding up regular files.
Status ScanPool(const std::string& dir, uint64_t* bytes, uint64_t* files) {
  DIR* top = ::opendir(dir.c_str());
  if (top == nullptr) return ErrnoStatus(errno, "cannot list '" + dir + "'");
  Status status;
  while (dirent* e = ::readdir(top)) {
    if (e->d_name[0] == '.') continue;
    std::string sub = JoinPath(dir, e->d_name);
    DIR* d = ::opendir(sub.c_str());
    if (d == nullptr) continue;  // not a folder
    int fd = ::dirfd(d);
    while (dirent* f = ::readdir(d)) {
      if (f->d_name[0] == '.') continue;
      struct stat st;
      if (::fstatat(fd, f->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // just removed
      if (!S_ISREG(st.st_mode)) continue;
      *bytes += static_cast<uint64_t>(st.st_size);
      ++*files;
    }
    ::closedir(d);
  }
  ::closedir(top);
  return status;
}

}  // namespace

namespace {

Status CheckFolder(const VolumeRecord& record) {
  struct stat st;
  if (record.path.empty() || record.path[0] != '/') {
    return Status::InvalidArgument("volume '" + record.name + "': path '" + record.path +
                                   "' is not absolute");
  }
  if (::stat(record.path.c_str(), &st) != 0) {
    return ErrnoStatus(errno, "volume '" + record.name + "': cannot reach its folder '" +
                                  record.path + "' (is the shared file system mounted here?)");
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("volume '" + record.name + "': '" + record.path +
                                   "' is not a folder");
  }
  return Status::Ok();
}

std::string MarkerPath(const std::string& volume) { return JoinPath(volume, ".proxima/volume"); }

}  // namespace

Result<CacheVolume> CacheVolume::Create(const VolumeRecord& record) {
  PROXIMA_RETURN_IF_ERROR(CheckFolder(record));
  CacheVolume v(record);
  for (const std::string& dir : {v.PoolDir(), JoinPath(v.path(), ".proxima/fills"),
                                 JoinPath(v.path(), ".proxima/locks"), v.TmpDir(), v.TrashDir()}) {
    PROXIMA_RETURN_IF_ERROR(MakeDirs(dir));
  }
  // The pool's 256 folders, once, so that writers never race to make them.
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    std::string sub = v.PoolDir() + "/" + kHex[i >> 4] + kHex[i & 15];
    if (::mkdir(sub.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create '" + sub + "'");
    }
  }
  std::string marker = MarkerPath(v.path());
  if (::access(marker.c_str(), F_OK) != 0) {
    PROXIMA_RETURN_IF_ERROR(WriteFileAtomic(
        marker, "A Proxima cache volume (docs/caches.md), first registered as '" + record.name +
                    "'. Do not edit what is under this folder by hand.\n"));
  }
  return v;
}

Result<CacheVolume> CacheVolume::Open(const VolumeRecord& record) {
  PROXIMA_RETURN_IF_ERROR(CheckFolder(record));
  if (::access(MarkerPath(record.path).c_str(), F_OK) != 0) {
    return Status::NotFound("volume '" + record.name + "': '" + record.path +
                            "' holds no Proxima volume (no .proxima/volume): is the shared file "
                            "system mounted here? ('proxima volume add' makes a new one)");
  }
  return CacheVolume(record);
}

std::string CacheVolume::TreePath(std::string_view dataset, const ObjectId& commit) const {
  return JoinPath(JoinPath(path(), dataset), commit.Hex());
}

std::string CacheVolume::FillPath(std::string_view dataset, const ObjectId& commit) const {
  return JoinPath(path(), ".proxima/fills/" + CacheDirName(dataset, commit));
}

std::string CacheVolume::CacheLockPath(std::string_view dataset, const ObjectId& commit) const {
  return JoinPath(path(), ".proxima/locks/" + CacheDirName(dataset, commit));
}

std::string CacheVolume::PoolLockPath() const { return JoinPath(path(), ".proxima/locks/pool"); }

std::string CacheVolume::PoolDir() const { return JoinPath(path(), ".proxima/pool"); }

std::string CacheVolume::PoolPath(const std::string& key) const {
  return PoolDir() + "/" + key.substr(0, 2) + "/" + key;
}

std::string CacheVolume::TmpDir() const { return JoinPath(path(), ".proxima/tmp"); }

std::string CacheVolume::TrashDir() const { return JoinPath(path(), ".proxima/trash"); }

Result<CacheVolume::Usage> CacheVolume::MeasureUsage(bool scan_pool) const {
  Usage u;
  if (scan_pool || record_.capacity_bytes > 0) {
    PROXIMA_RETURN_IF_ERROR(ScanPool(PoolDir(), &u.pool_bytes, &u.pool_files));
  }
  struct statvfs fs;
  if (::statvfs(path().c_str(), &fs) != 0) {
    return ErrnoStatus(errno, "cannot measure the file system of volume '" + record_.name + "'");
  }
  uint64_t avail = uint64_t{fs.f_bavail} * fs.f_frsize;
  uint64_t fs_used = (uint64_t{fs.f_blocks} - fs.f_bfree) * fs.f_frsize;
  if (record_.capacity_bytes > 0) {
    u.capacity = record_.capacity_bytes;
    u.used = u.pool_bytes;
    u.free = u.used >= u.capacity ? 0 : u.capacity - u.used;
    if (u.free > avail) u.free = avail;
  } else {
    // What this volume could hold: what is used plus what may still be
    // written (root's reserved blocks, and thin provisioning, are not).
    u.capacity = fs_used + avail;
    u.used = fs_used;
    u.free = avail;
  }
  return u;
}

std::string PoolKeyOf(const FileState& file) {
  std::string key;
  if (file.chunks.size() == 1) {
    key = file.chunks[0].Hex();
  } else if (file.chunks.empty()) {
    key = Sha256("").Hex();
  } else {
    Sha256Stream list;
    list.Update("proxima chunk list\n");
    for (const ObjectId& c : file.chunks) list.Update(c.view());
    key = list.Finish().Hex();
  }
  if ((file.mode & 0111) != 0) key += ".x";
  return key;
}

Status CheckContent(int fd, const FileState& file, const BlobIndex& index,
                    const std::string& what) {
  std::vector<uint64_t> lengths;
  uint64_t total = 0;
  for (const ObjectId& c : file.chunks) {
    const BlobIndex::Location* loc = index.Find(c);
    if (loc == nullptr) return Status::Corruption(what + ": chunk " + c.ShortHex() + " is unknown");
    lengths.push_back(loc->raw_length);
    total += loc->raw_length;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat " + what);
  if (static_cast<uint64_t>(st.st_size) != total) {
    return Status::Corruption(what + " has " + std::to_string(st.st_size) + " bytes, not " +
                              std::to_string(total));
  }
  std::string buf;
  uint64_t offset = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    Sha256Stream hash;
    for (uint64_t left = lengths[i]; left > 0;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, 1 << 20));
      buf.clear();
      PROXIMA_RETURN_IF_ERROR(PreadAll(fd, n, offset, &buf, what));
      if (buf.size() != n) return Status::Corruption(what + " is shorter than its size");
      hash.Update(buf);
      offset += n;
      left -= n;
    }
    if (hash.Finish() != file.chunks[i]) {
      return Status::Corruption(what + " does not match its hash (bytes " +
                                std::to_string(offset - lengths[i]) + " to " +
                                std::to_string(offset) + ")");
    }
  }
  return Status::Ok();
}

Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Status::Ok();
  if (S_ISDIR(st.st_mode)) {
    // Read-only folders of a published cache: make them writable on the way.
    if ((st.st_mode & 0700) != 0700) ::chmod(path.c_str(), 0700);
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return Status::Ok();  // removed meanwhile
      return ErrnoStatus(errno, "cannot list '" + path + "'");
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    for (const std::string& n : names) PROXIMA_RETURN_IF_ERROR(RemoveTree(path + "/" + n));
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "cannot remove '" + path + "'");
    }
    return Status::Ok();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "cannot remove '" + path + "'");
  }
  return Status::Ok();
}

}  // namespace proxima
