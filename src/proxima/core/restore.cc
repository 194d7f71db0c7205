#include "proxima/core/restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>

#include "proxima/base/aligned_buffer.h"
#include "proxima/base/file_util.h"
#include "proxima/core/blob_fetcher.h"
#include "proxima/core/file_reader.h"
#include "proxima/core/fs_ops.h"
#include "proxima/core/tree_builder.h"
#include "proxima/model/names.h"

namespace proxima {

namespace {

// Where each blob goes: file `file` at byte `offset`.
struct Target {
  ObjectId blob;
  uint32_t file;
  uint64_t offset;
};

// Writes `data` at `offset` of file `f`. A file written in one piece and
// `finish` set gets its final mode and its stat fields here, on the open
// file, which spares two path lookups per file later.
Status WriteAt(int dest_fd, FileState& f, uint64_t offset, std::string_view data, bool finish) {
  bool whole = f.chunks.size() <= 1;
  int flags = O_WRONLY | O_CREAT | (whole ? O_TRUNC : 0);
  UniqueFd fd(OpenBeneath(dest_fd, f.path, flags, 0600));
  if (!fd.valid()) return ErrnoStatus(errno, "cannot create " + QuotePath(f.path));
  if (whole && data.size() >= kDirectIoMinBytes) {
    PROXIMA_RETURN_IF_ERROR(WriteDirect(fd.get(), data, QuotePath(f.path)));
  } else {
    PROXIMA_RETURN_IF_ERROR(PwriteAll(fd.get(), data, offset, QuotePath(f.path)));
  }
  if (whole && finish) {
    struct stat st;
    if (::fchmod(fd.get(), f.mode) != 0 || ::fstat(fd.get(), &st) != 0) {
      return ErrnoStatus(errno, "cannot set the mode of " + QuotePath(f.path));
    }
    f.mtime_ns = TimespecNanos(st.st_mtim);
    f.ctime_ns = TimespecNanos(st.st_ctim);
    f.inode = st.st_ino;
  }
  return fd.Close(QuotePath(f.path));
}

}  // namespace

Status WriteFiles(Repository& repo, const BlobIndex& index, int dest_fd,
                  const std::vector<FileState*>& files, bool finish_files, int threads,
                  Progress* progress) {
  std::vector<Target> targets;
  uint64_t total_bytes = 0;
  for (uint32_t i = 0; i < files.size(); ++i) {
    const FileState& f = *files[i];
    total_bytes += f.size;
    uint64_t offset = 0;
    for (const ObjectId& c : f.chunks) {
      const BlobIndex::Location* loc = index.Find(c);
      if (loc == nullptr) {
        return Status::Corruption("content of " + QuotePath(f.path) + " (blob " + c.ShortHex() +
                                  ") is missing from store " + repo.store().Describe() +
                                  " (run 'proxima data fsck')");
      }
      targets.push_back({c, i, offset});
      offset += loc->raw_length;
    }
    if (offset != f.size) {
      return Status::Corruption("content of " + QuotePath(f.path) + " adds up to " +
                                std::to_string(offset) + " bytes, but the tree says " +
                                std::to_string(f.size));
    }
  }
  StartPhase(progress, "writing files", files.size(), total_bytes);
  for (FileState* f : files) {
    if (!f->chunks.empty()) continue;
    PROXIMA_RETURN_IF_ERROR(WriteAt(dest_fd, *f, 0, {}, finish_files));
    AddFiles(progress, 1);
  }
  std::sort(targets.begin(), targets.end(),
            [](const Target& a, const Target& b) { return a.blob < b.blob; });
  std::vector<ObjectId> blobs;
  for (const Target& t : targets) {
    if (blobs.empty() || blobs.back() != t.blob) blobs.push_back(t.blob);
  }
  auto written = std::make_unique<std::atomic<uint64_t>[]>(files.size());
  // A network store (a hub, S3) answers faster with more requests in
  // flight than there are cores; the work per blob is small either way.
  int fetchers = std::max(threads, repo.store().PreferredConcurrency());
  PROXIMA_RETURN_IF_ERROR(FetchBlobs(
      repo, index, blobs, fetchers, nullptr,
      [&](const ObjectId& id, std::string_view raw) -> Status {
        auto [lo, hi] =
            std::equal_range(targets.begin(), targets.end(), Target{id, 0, 0},
                             [](const Target& a, const Target& b) { return a.blob < b.blob; });
        for (auto it = lo; it != hi; ++it) {
          FileState& f = *files[it->file];
          PROXIMA_RETURN_IF_ERROR(WriteAt(dest_fd, f, it->offset, raw, finish_files));
          AddBytes(progress, raw.size());
          if (written[it->file].fetch_add(raw.size()) + raw.size() == f.size) {
            AddFiles(progress, 1);
          }
        }
        return Status::Ok();
      }));
  for (uint32_t i = 0; i < files.size(); ++i) {
    if (written[i].load() != files[i]->size) {
      return Status::Internal("file " + QuotePath(files[i]->path) + " was not completely written");
    }
  }
  return Status::Ok();
}

Result<RestoreReport> CloneCommit(Repository& repo, Clock& clock, const std::string& dataset,
                                  const ObjectId& commit_id, const std::string& dest, int threads,
                                  Progress* progress) {
  struct stat st;
  if (::lstat(dest.c_str(), &st) == 0 && !(S_ISDIR(st.st_mode) && IsEmptyDir(dest))) {
    // rename(2) replaces an empty directory, so an empty one is fine.
    return Status::AlreadyExists("cannot clone into '" + dest +
                                 "': it exists and is not an empty folder");
  }
  std::string parent = DirName(dest);
  std::string base = dest.substr(dest.find_last_of('/') + 1);
  std::string tmp = JoinPath(parent, "." + base + ".proxima-clone-" + UniqueTempSuffix());
  if (::mkdir(tmp.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, "cannot create a folder next to '" + dest + "'");
  }
  auto result = [&]() -> Result<RestoreReport> {
    RestoreReport report;
    report.commit = commit_id;
    PROXIMA_ASSIGN_OR_RETURN(Commit commit, repo.LoadCommit(commit_id));
    // The index first: its loading needs scratch memory that is free again
    // before the file list of a million entries is built.
    StartPhase(progress, "loading index", 0, 0);
    PROXIMA_ASSIGN_OR_RETURN(auto index, repo.LoadBlobIndex());
    StartPhase(progress, "reading trees", 0, 0);
    StatCache cache;
    cache.head = commit_id;
    PROXIMA_RETURN_IF_ERROR(FlattenTree(repo, commit.tree, "", &cache.entries, &cache.trees));
    UniqueFd root(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) return ErrnoStatus(errno, "cannot open '" + tmp + "'");
    std::vector<FileState*> files;
    for (FileState& e : cache.entries) {
      if (e.type == EntryType::kDirectory) {
        if (::mkdirat(root.get(), e.path.c_str(), 0700) != 0) {
          return ErrnoStatus(errno, "cannot create folder " + QuotePath(e.path));
        }
        ++report.dirs;
      } else if (e.type == EntryType::kFile) {
        files.push_back(&e);
        report.bytes_written += e.size;
      }
    }
    report.files_written = files.size();
    PROXIMA_RETURN_IF_ERROR(
        WriteFiles(repo, *index, root.get(), files, /*finish_files=*/true, threads, progress));
    // Links last: no file is ever written through one.
    for (const FileState& e : cache.entries) {
      if (e.type != EntryType::kSymlink) continue;
      if (::symlinkat(e.target.c_str(), root.get(), e.path.c_str()) != 0) {
        return ErrnoStatus(errno, "cannot create symbolic link " + QuotePath(e.path));
      }
      ++report.symlinks;
    }
    // Modes and stat fields of what WriteFiles did not finish: folders
    // (deepest first, so that a read-only one is closed last), links and
    // files written in several pieces.
    for (auto it = cache.entries.rbegin(); it != cache.entries.rend(); ++it) {
      bool finished = it->type == EntryType::kFile && it->inode != 0;
      if (it->type == EntryType::kSymlink || finished) continue;
      if (::fchmodat(root.get(), it->path.c_str(), it->mode, 0) != 0) {
        return ErrnoStatus(errno, "cannot set the mode of " + QuotePath(it->path));
      }
    }
    for (FileState& e : cache.entries) {
      if (e.type == EntryType::kFile && e.inode != 0) continue;
      PROXIMA_RETURN_IF_ERROR(StatEntry(root.get(), &e));
    }
    if (::fchmod(root.get(), 0755) != 0) return ErrnoStatus(errno, "cannot chmod '" + tmp + "'");
    PROXIMA_ASSIGN_OR_RETURN(WorkDir wd, WorkDir::Bind(tmp, dataset, commit_id));
    PROXIMA_RETURN_IF_ERROR(wd.WriteStatCache(cache, false, clock.NowUnixNanos()));
    StartPhase(progress, "flushing to disk", 0, 0);
    PROXIMA_RETURN_IF_ERROR(SyncFilesystem(root.get(), "'" + tmp + "'"));
    if (::rename(tmp.c_str(), dest.c_str()) != 0) {
      return ErrnoStatus(errno, "cannot move the clone into place at '" + dest + "'");
    }
    PROXIMA_RETURN_IF_ERROR(FsyncDir(parent));
    return report;
  }();
  if (!result.ok()) IgnoreError(RemoveAll(tmp));
  return result;
}

}  // namespace proxima
