#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include "proxima/base/file_util.h"
#include "proxima/base/parallel.h"
#include "proxima/core/chunker.h"
#include "proxima/core/file_reader.h"
#include "proxima/core/folder_lock.h"
#include "proxima/core/fs_ops.h"
#include "proxima/core/restore.h"
#include "proxima/core/scanner.h"
#include "proxima/core/tree_builder.h"
#include "proxima/model/names.h"

namespace proxima {

namespace {

// The folder as it is now, with the content of every file: stat-clean files
// take their blobs from the stat cache, the others are read (nothing stored).
Result<std::vector<FileState>> CurrentContent(Repository& repo, int root_fd,
                                              const std::string& root, const StatCache& cache,
                                              int threads) {
  PROXIMA_ASSIGN_OR_RETURN(ScanResult scan, ScanFolder(root));
  std::vector<FileState>& entries = scan.entries;
  std::vector<size_t> to_read;
  size_t c = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    while (c < cache.entries.size() && ComparePaths(cache.entries[c].path, entries[i].path) < 0) {
      ++c;
    }
    bool cached = c < cache.entries.size() && cache.entries[c].path == entries[i].path;
    if (entries[i].type != EntryType::kFile) continue;
    if (cached && entries[i].SameStat(cache.entries[c])) {
      entries[i].chunks = cache.entries[c].chunks;
    } else {
      to_read.push_back(i);
    }
  }
  Chunker chunker(repo.config().chunker);
  PROXIMA_RETURN_IF_ERROR(ParallelFor(to_read.size(), threads, [&](size_t k) {
    return ReadAndChunkFile(root_fd, &entries[to_read[k]], chunker, nullptr, nullptr);
  }));
  return std::move(entries);
}

// The first difference between the folder and what its head commit holds.
std::optional<std::string> FirstLocalChange(const std::vector<FileState>& current,
                                            const std::vector<FileState>& cached) {
  size_t a = 0, b = 0;
  auto skip_dirs = [](const std::vector<FileState>& v, size_t* i) {
    while (*i < v.size() && v[*i].type == EntryType::kDirectory) ++*i;
  };
  for (;;) {
    skip_dirs(current, &a);
    skip_dirs(cached, &b);
    if (a == current.size() && b == cached.size()) return std::nullopt;
    if (a == current.size()) return "deleted " + QuotePath(cached[b].path);
    if (b == cached.size()) return "added " + QuotePath(current[a].path);
    if (current[a].path != cached[b].path) {
      return ComparePaths(current[a].path, cached[b].path) < 0
                 ? "added " + QuotePath(current[a].path)
                 : "deleted " + QuotePath(cached[b].path);
    }
    if (!current[a].SameContent(cached[b])) return "modified " + QuotePath(current[a].path);
    ++a;
    ++b;
  }
}

}  // namespace

Result<RestoreReport> CheckoutCommit(Repository& repo, RefStore& refs, Clock& clock,
                                     const WorkDir& wd, const ObjectId& commit_id, bool force,
                                     int threads, Progress* progress) {
  PROXIMA_ASSIGN_OR_RETURN(auto lock,
                           FileLock::Acquire(wd.StatePath("lock"), "'" + wd.root() + "'"));
  PROXIMA_RETURN_IF_ERROR(wd.RecoverPending(refs));
  PROXIMA_ASSIGN_OR_RETURN(StatCache cache, wd.LoadStatCache());
  if (cache.entries.empty() && !cache.head.IsZero()) {
    PROXIMA_ASSIGN_OR_RETURN(Commit c, repo.LoadCommit(cache.head));
    PROXIMA_RETURN_IF_ERROR(FlattenTree(repo, c.tree, "", &cache.entries, nullptr));
  }
  UniqueFd root(::open(wd.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return ErrnoStatus(errno, "cannot open folder '" + wd.root() + "'");

  StartPhase(progress, "scanning", 0, 0);
  PROXIMA_ASSIGN_OR_RETURN(std::vector<FileState> current,
                           CurrentContent(repo, root.get(), wd.root(), cache, threads));
  if (!force) {
    if (auto change = FirstLocalChange(current, cache.entries)) {
      return Status::FailedPrecondition("folder '" + wd.root() +
                                        "' has changes that are not synced (" + *change +
                                        "); sync them first, or use --force to discard them");
    }
  }

  RestoreReport report;
  report.commit = commit_id;
  StatCache next;
  next.head = commit_id;
  PROXIMA_ASSIGN_OR_RETURN(Commit commit, repo.LoadCommit(commit_id));
  StartPhase(progress, "reading trees", 0, 0);
  PROXIMA_RETURN_IF_ERROR(FlattenTree(repo, commit.tree, "", &next.entries, &next.trees));
  std::vector<FileState>& target = next.entries;

  // Plan: what to remove (current entries absent or of another type in the
  // target) and what to create or rewrite.
  std::vector<const FileState*> removals;
  std::vector<size_t> creates;    // indexes into target
  std::vector<size_t> mode_only;  // entries that keep their content
  {
    size_t a = 0, b = 0;
    while (a < current.size() || b < target.size()) {
      int cmp = a == current.size()  ? 1
                : b == target.size() ? -1
                                     : ComparePaths(current[a].path, target[b].path);
      if (cmp < 0) {
        removals.push_back(&current[a++]);
      } else if (cmp > 0) {
        creates.push_back(b++);
      } else {
        const FileState& cur = current[a++];
        const FileState& want = target[b];
        if (cur.type != want.type) {
          removals.push_back(&cur);
          creates.push_back(b);
        } else if (want.type != EntryType::kDirectory && !cur.SameContent(want)) {
          if (want.type == EntryType::kSymlink) removals.push_back(&cur);
          creates.push_back(b);
        } else if (cur.mode != want.mode) {
          mode_only.push_back(b);
        }
        ++b;
      }
    }
  }

  // Stage new content under .proxima and verify it before touching the folder.
  std::string staging = wd.StatePath(("staging-" + UniqueTempSuffix()).c_str());
  if (::mkdir(staging.c_str(), 0700) != 0) return ErrnoStatus(errno, "cannot create " + staging);
  auto result = [&]() -> Status {
    UniqueFd staging_fd(::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!staging_fd.valid()) return ErrnoStatus(errno, "cannot open " + staging);
    std::vector<FileState> staged;
    std::vector<size_t> staged_of;  // target index of each staged file
    for (size_t i : creates) {
      const FileState& want = target[i];
      if (want.type != EntryType::kFile) continue;
      staged.push_back(want);
      staged.back().path = std::to_string(staged.size());
      staged_of.push_back(i);
    }
    if (!staged.empty()) {
      StartPhase(progress, "loading index", 0, 0);
      PROXIMA_ASSIGN_OR_RETURN(auto index, repo.LoadBlobIndex());
      std::vector<FileState*> ptrs;
      for (FileState& f : staged) ptrs.push_back(&f);
      PROXIMA_RETURN_IF_ERROR(WriteFiles(repo, *index, staging_fd.get(), ptrs,
                                         /*finish_files=*/false, threads, progress));
      PROXIMA_RETURN_IF_ERROR(SyncFilesystem(staging_fd.get(), "'" + staging + "'"));
    }

    StartPhase(progress, "applying", 0, 0);
    for (auto it = removals.rbegin(); it != removals.rend(); ++it) {
      const FileState& r = **it;
      int flags = r.type == EntryType::kDirectory ? AT_REMOVEDIR : 0;
      if (::unlinkat(root.get(), r.path.c_str(), flags) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST) {
          report.notes.push_back("kept folder " + QuotePath(r.path) +
                                 ": it holds files that are not part of any commit");
          continue;
        }
        if (errno != ENOENT) return ErrnoStatus(errno, "cannot remove " + QuotePath(r.path));
      }
      if (r.type != EntryType::kDirectory) ++report.files_removed;
    }
    size_t s = 0;
    for (size_t i : creates) {
      const FileState& want = target[i];
      if (want.type == EntryType::kDirectory) {
        if (::mkdirat(root.get(), want.path.c_str(), 0700) != 0 && errno != EEXIST) {
          return ErrnoStatus(errno, "cannot create folder " + QuotePath(want.path));
        }
        ++report.dirs;
      } else if (want.type == EntryType::kFile) {
        while (staged_of[s] != i) ++s;
        if (::renameat(staging_fd.get(), staged[s].path.c_str(), root.get(), want.path.c_str()) !=
            0) {
          return ErrnoStatus(errno, "cannot move " + QuotePath(want.path) + " into place");
        }
        ++report.files_written;
        report.bytes_written += want.size;
      } else {
        if (::symlinkat(want.target.c_str(), root.get(), want.path.c_str()) != 0) {
          return ErrnoStatus(errno, "cannot create symbolic link " + QuotePath(want.path));
        }
        ++report.symlinks;
      }
    }
    creates.insert(creates.end(), mode_only.begin(), mode_only.end());
    std::sort(creates.begin(), creates.end());
    for (auto it = creates.rbegin(); it != creates.rend(); ++it) {
      const FileState& want = target[*it];
      if (want.type == EntryType::kSymlink) continue;
      if (::fchmodat(root.get(), want.path.c_str(), want.mode, 0) != 0) {
        return ErrnoStatus(errno, "cannot set the mode of " + QuotePath(want.path));
      }
    }
    for (FileState& e : target) PROXIMA_RETURN_IF_ERROR(StatEntry(root.get(), &e));
    PROXIMA_RETURN_IF_ERROR(SyncFilesystem(root.get(), "'" + wd.root() + "'"));
    return wd.WriteStatCache(next, /*pending=*/false, clock.NowUnixNanos());
  }();
  IgnoreError(RemoveAll(staging));
  PROXIMA_RETURN_IF_ERROR(result);
  return report;
}

}  // namespace proxima
