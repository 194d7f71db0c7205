#include "proxima/core/file_reader.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "proxima/base/aligned_buffer.h"
#include "proxima/base/hash.h"
#include "proxima/core/fs_ops.h"
#include "proxima/core/pack_writer.h"

namespace proxima {

namespace {

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && TimespecNanos(a.st_mtim) == TimespecNanos(b.st_mtim) &&
         TimespecNanos(a.st_ctim) == TimespecNanos(b.st_ctim) && a.st_ino == b.st_ino;
}

// One attempt: reads and chunks the whole file. Sets *changed when the file
// was modified while it was read.
Status ReadOnce(int fd, const std::string& path, FileState* entry, const Chunker& chunker,
                PackWriter* sink, Progress* progress, bool* changed) {
  struct stat before;
  if (::fstat(fd, &before) != 0) return ErrnoStatus(errno, "cannot stat '" + path + "'");
  entry->chunks.clear();
  const size_t max = chunker.params().max_size;
  // One buffer per thread, reused across files: no zero-filling, no fresh pages.
  thread_local AlignedBuffer buf;
  buf.Clear();
  uint64_t total = 0;
  bool eof = false;
  while (!eof || !buf.empty()) {
    // Fill up to two maximal chunks so that every cut sees max_size bytes.
    while (!eof && buf.size() < 2 * max) {
      size_t want = std::min<size_t>(2 * max - buf.size(), 1 << 20);
      size_t old = buf.size();
      ssize_t n = ::read(fd, buf.Extend(want), want);
      if (n < 0 && errno == EINTR) {
        buf.Resize(old);
        continue;
      }
      if (n < 0) return ErrnoStatus(errno, "cannot read '" + path + "'");
      buf.Resize(old + static_cast<size_t>(n));
      // A short read of a regular file is its end on Linux: no second read
      // just to see 0. Growth after this point is caught by the fstat below.
      if (static_cast<size_t>(n) < want) eof = true;
      total += static_cast<uint64_t>(n);
      AddBytes(progress, static_cast<uint64_t>(n));
    }
    std::string_view rest = buf.view();
    while (!rest.empty() && (eof || rest.size() >= max)) {
      size_t cut = chunker.NextCut(rest, eof);
      std::string_view blob = rest.substr(0, cut);
      ObjectId id = Sha256(blob);
      entry->chunks.push_back(id);
      if (sink != nullptr) {
        auto added = sink->Add(id, blob);
        if (!added.ok()) return added.status();
      }
      rest.remove_prefix(cut);
    }
    buf.Consume(buf.size() - rest.size());
  }
  struct stat after;
  if (::fstat(fd, &after) != 0) return ErrnoStatus(errno, "cannot stat '" + path + "'");
  *changed = !SameFile(before, after) || total != static_cast<uint64_t>(after.st_size);
  entry->size = total;
  entry->mode = after.st_mode & 07777;
  entry->mtime_ns = TimespecNanos(after.st_mtim);
  entry->ctime_ns = TimespecNanos(after.st_ctim);
  entry->inode = after.st_ino;
  return Status::Ok();
}

}  // namespace

int OpenBeneath(int root_fd, const std::string& path, int flags, int mode) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.mode = static_cast<uint64_t>(mode);
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how));
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: the last component is still not followed.
    fd = ::openat(root_fd, path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
  }
  return static_cast<int>(fd);
}

Status ReadAndChunkFile(int root_fd, FileState* entry, const Chunker& chunker, PackWriter* sink,
                        Progress* progress, int max_attempts) {
  const std::string& path = entry->path;
  for (int attempt = 1;; ++attempt) {
    UniqueFd fd(OpenBeneath(root_fd, path, O_RDONLY | O_NOATIME));
    if (!fd.valid() && errno == EPERM) fd = UniqueFd(OpenBeneath(root_fd, path, O_RDONLY));
    if (!fd.valid()) {
      if (errno == ELOOP || errno == EXDEV) {
        return Status::NotFound("'" + path + "' is no longer a regular file inside the folder");
      }
      return ErrnoStatus(errno, "cannot read '" + path + "'");
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Status::NotFound("'" + path + "' is no longer a regular file");
    }
    bool changed = false;
    PROXIMA_RETURN_IF_ERROR(ReadOnce(fd.get(), path, entry, chunker, sink, progress, &changed));
    if (!changed) return Status::Ok();
    if (attempt >= max_attempts) {
      return Status::FailedPrecondition("'" + path + "' changed while it was being read (" +
                                        std::to_string(attempt) +
                                        " attempts); nothing was committed. Sync again once "
                                        "the writer has finished");
    }
  }
}

}  // namespace proxima
