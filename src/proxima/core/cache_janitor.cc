#include "proxima/core/cache_janitor.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "proxima/base/file_util.h"
#include "proxima/base/hash.h"
#include "proxima/base/parallel.h"
#include "proxima/core/folder_lock.h"
#include "proxima/core/fs_ops.h"
#include "proxima/core/tree_builder.h"

namespace proxima {

namespace {

std::string CacheName(std::string_view dataset, const ObjectId& commit) {
  return "'" + std::string(dataset) + "@" + commit.ShortHex() + "'";
}

std::string Hours(int64_t ns) {
  int64_t minutes = ns / 60'000'000'000;
  if (minutes < 120) return std::to_string(minutes) + "m";
  return std::to_string(minutes / 60) + "h";
}

// Bytes that removing the tree at `dir` frees: files no other tree links
// (a link count of 2: the pool's and this tree's), and copies.
void AddExclusiveBytes(int dir_fd, uint64_t* bytes) {
  DIR* d = ::fdopendir(dir_fd);
  if (d == nullptr) {
    ::close(dir_fd);
    return;
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (sub >= 0) AddExclusiveBytes(sub, bytes);
    } else if (S_ISREG(st.st_mode) && st.st_nlink <= 2) {
      *bytes += static_cast<uint64_t>(st.st_size);
    }
  }
  ::closedir(d);
}

uint64_t ExclusiveBytes(const std::string& tree) {
  uint64_t bytes = 0;
  int fd = ::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) AddExclusiveBytes(fd, &bytes);
  return bytes;
}

// Removes pool files that no tree links, temporary files and trash. Needs
// the pool lock exclusively: no fill is running.
// What cannot be removed now (a file still open on NFS, say) is reported
// and left for the next sweep; it never stops the rest.
Status SweepPool(const CacheVolume& vol, GcReport* report) {
  auto leave = [&](const Status& st) {
    if (!st.ok()) report->kept.push_back("sweep: " + st.message() + " (left for the next run)");
  };
  // Trees of fills that were killed (their lock is free) hold links that
  // keep pool files alive; the next fill of the commit builds its tree anew.
  std::string fills = JoinPath(vol.path(), ".proxima/fills");
  if (DIR* d = ::opendir(fills.c_str())) {
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    }
    ::closedir(d);
    for (const std::string& n : names) {
      PROXIMA_ASSIGN_OR_RETURN(auto lock,
                               FileLock::Take(JoinPath(vol.path(), ".proxima/locks/" + n),
                                              FileLock::Mode::kExclusive, false));
      if (lock != nullptr) leave(RemoveTree(fills + "/" + n));
    }
  }
  for (const std::string& dir : {vol.TmpDir(), vol.TrashDir()}) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(dir + "/" + n);
    }
    ::closedir(d);
    for (const std::string& p : names) leave(RemoveTree(p));
  }
  DIR* top = ::opendir(vol.PoolDir().c_str());
  if (top == nullptr) return ErrnoStatus(errno, "cannot list '" + vol.PoolDir() + "'");
  std::vector<std::string> subs;
  while (dirent* e = ::readdir(top)) {
    if (e->d_name[0] != '.') subs.push_back(vol.PoolDir() + "/" + e->d_name);
  }
  ::closedir(top);
  for (const std::string& sub : subs) {
    DIR* d = ::opendir(sub.c_str());
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      struct stat st;
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (!S_ISREG(st.st_mode) || st.st_nlink != 1) continue;
      if (::unlinkat(::dirfd(d), e->d_name, 0) != 0) {
        if (errno != ENOENT) {
          leave(ErrnoStatus(errno, "cannot remove pool file '" + sub + "/" + e->d_name + "'"));
        }
        continue;
      }
      ++report->pool_files_removed;
      report->pool_bytes_freed += static_cast<uint64_t>(st.st_size);
    }
    ::closedir(d);
  }
  return Status::Ok();
}

}  // namespace

Status FinishEviction(CacheServices& s, const CacheVolume& vol, std::string_view dataset,
                      const ObjectId& commit) {
  // Out of sight in one step (the commit point), then the row, then the
  // files at leisure: what is left behind is the sweep's.
  std::string tree = vol.TreePath(dataset, commit);
  std::string trash =
      vol.TrashDir() + "/" + std::string(dataset) + "@" + commit.Hex() + "." + RandomHex(8);
  // Moving a folder to another parent rewrites its "..": it must be writable.
  if (::chmod(tree.c_str(), 0755) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "cannot make '" + tree + "' writable to remove it");
  }
  if (::rename(tree.c_str(), trash.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "cannot move '" + tree + "' to the trash");
  }
  const std::string& volume = vol.record().name;
  for (int attempt = 0;; ++attempt) {
    PROXIMA_ASSIGN_OR_RETURN(auto row, s.catalog.GetCache(volume, dataset, commit));
    if (!row) break;
    Status st = s.catalog.DeleteCache(volume, dataset, commit, row->version);
    if (st.ok()) break;
    if (st.code() != StatusCode::kFailedPrecondition || attempt > 20) return st;
  }
  IgnoreError(RemoveTree(trash));
  return Status::Ok();
}

namespace {

// Evicts one cache whose row was read as `row`. Returns false (and says why
// in `kept`) when it cannot go now.
Result<bool> Evict(CacheServices& s, const CacheVolume& vol, const CacheRecord& row,
                   const std::string& why, bool dry_run, GcReport* report) {
  std::string name = CacheName(row.dataset, row.commit);
  PROXIMA_ASSIGN_OR_RETURN(auto lock, FileLock::Take(vol.CacheLockPath(row.dataset, row.commit),
                                                     FileLock::Mode::kExclusive, false));
  if (lock == nullptr) {
    report->kept.push_back(name + ": being filled");
    return false;
  }
  std::string tree = vol.TreePath(row.dataset, row.commit);
  Eviction ev{row.dataset, row.commit, why, ExclusiveBytes(tree)};
  if (!dry_run) {
    CacheRecord evicting = row;
    evicting.state = CacheState::kEvicting;
    Result<int64_t> v = s.catalog.PutCache(evicting);
    if (!v.ok()) {
      if (v.status().code() != StatusCode::kFailedPrecondition) return v.status();
      report->kept.push_back(name + ": used or changed meanwhile");
      return false;
    }
    PROXIMA_RETURN_IF_ERROR(FinishEviction(s, vol, row.dataset, row.commit));
  }
  report->evictions.push_back(std::move(ev));
  return true;
}

// Live leases by "dataset@commit-hex"; expired ones are deleted (counted).
Result<std::map<std::string, std::string>> LiveLeases(CacheServices& s, const std::string& volume,
                                                      bool dry_run, GcReport* report) {
  PROXIMA_ASSIGN_OR_RETURN(auto leases, s.catalog.ListLeases(volume));
  int64_t now = s.clock.NowUnixNanos();
  std::map<std::string, std::string> live;
  for (const LeaseRecord& l : leases) {
    if (l.expires_unix_ns > now) {
      live[l.dataset + "@" + l.commit.Hex()] = l.holder;
      continue;
    }
    ++report->leases_expired;
    if (!dry_run) {
      Status st = s.catalog.DeleteLease(l.id);
      if (!st.ok() && !st.IsNotFound()) return st;
    }
  }
  return live;
}

// The rows that are not ready: an eviction whose process died (its lock is
// free) is finished now; a failed or stopped fill idle past the TTL goes,
// unless its tree was published (the process died before marking it ready:
// it is marked now). A fill that holds its lock is left alone.
Status CollectUnfinished(CacheServices& s, const CacheVolume& vol, const CacheRecord& row,
                         int64_t now, bool dry_run, GcReport* report) {
  if (row.state == CacheState::kReady) return Status::Ok();
  int64_t idle = now - row.last_used_unix_ns;
  bool evicting = row.state == CacheState::kEvicting;
  if (!evicting && idle <= vol.record().ttl_ns) return Status::Ok();
  PROXIMA_ASSIGN_OR_RETURN(auto lock, FileLock::Take(vol.CacheLockPath(row.dataset, row.commit),
                                                     FileLock::Mode::kExclusive, false));
  if (lock == nullptr) return Status::Ok();  // being filled or evicted right now
  std::string what = evicting                           ? "an eviction that was interrupted"
                     : row.state == CacheState::kFailed ? "a failed fill"
                                                        : "a fill that stopped";
  if (!evicting && ::access(vol.TreePath(row.dataset, row.commit).c_str(), F_OK) == 0) {
    if (dry_run) return Status::Ok();
    PROXIMA_ASSIGN_OR_RETURN(Commit c, s.repo.LoadCommit(row.commit));
    Status marked =
        UpdateCacheRow(s.catalog, row.volume, row.dataset, row.commit, [&](CacheRecord& r) {
          if (r.state == CacheState::kReady || r.state == CacheState::kEvicting) return false;
          r.state = CacheState::kReady;
          r.files = c.stats.files;
          r.bytes = r.done_bytes = c.stats.bytes;
          r.reason.clear();
          return true;
        }).status();
    return marked.IsNotFound() ? Status::Ok() : marked;
  }
  if (!dry_run) {
    PROXIMA_RETURN_IF_ERROR(FinishEviction(s, vol, row.dataset, row.commit));
  }
  report->evictions.push_back({row.dataset, row.commit,
                               what + (evicting ? ""
                                                : ", idle for " + Hours(idle) + " (ttl " +
                                                      Hours(vol.record().ttl_ns) + ")"),
                               0});
  return Status::Ok();
}

}  // namespace

Result<GcReport> CollectGarbage(CacheServices& s, const VolumeRecord& volume,
                                const GcOptions& options) {
  PROXIMA_ASSIGN_OR_RETURN(CacheVolume vol, CacheVolume::Open(volume));
  GcReport report;
  PROXIMA_ASSIGN_OR_RETURN(report.before, vol.MeasureUsage());
  PROXIMA_ASSIGN_OR_RETURN(auto live, LiveLeases(s, volume.name, options.dry_run, &report));
  PROXIMA_ASSIGN_OR_RETURN(auto caches, s.catalog.ListCaches(volume.name));
  int64_t now = s.clock.NowUnixNanos();

  // What may go at all, least recently used first. Rows of fills that
  // failed, or stopped (killed, and nobody resumed them), go once idle past
  // the TTL: they hold no tree, and what they left in the pool is swept.
  std::vector<CacheRecord> candidates;
  for (CacheRecord& c : caches) {
    if (c.state != CacheState::kReady) {
      PROXIMA_RETURN_IF_ERROR(CollectUnfinished(s, vol, c, now, options.dry_run, &report));
      continue;
    }
    std::string name = CacheName(c.dataset, c.commit);
    if (c.pinned) {
      report.kept.push_back(name + ": pinned");
    } else if (auto it = live.find(c.dataset + "@" + c.commit.Hex()); it != live.end()) {
      report.kept.push_back(name + ": leased by " + it->second);
    } else {
      candidates.push_back(std::move(c));
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const CacheRecord& a, const CacheRecord& b) {
    return a.last_used_unix_ns < b.last_used_unix_ns;
  });

  // Estimates as evictions go: what each frees is what only it links.
  uint64_t used = report.before.used;
  uint64_t free = report.before.free;
  uint64_t capacity = report.before.capacity;
  std::vector<bool> gone(candidates.size(), false);
  auto evict = [&](size_t i, const std::string& why) -> Status {
    size_t before = report.evictions.size();
    PROXIMA_ASSIGN_OR_RETURN(bool evicted,
                             Evict(s, vol, candidates[i], why, options.dry_run, &report));
    gone[i] = true;
    if (evicted && report.evictions.size() > before) {
      uint64_t freed = report.evictions.back().bytes;
      used = used > freed ? used - freed : 0;
      free += freed;
    }
    return Status::Ok();
  };
  for (size_t i = 0; i < candidates.size(); ++i) {
    int64_t idle = now - candidates[i].last_used_unix_ns;
    if (idle > volume.ttl_ns) {
      PROXIMA_RETURN_IF_ERROR(
          evict(i, "idle for " + Hours(idle) + " (ttl " + Hours(volume.ttl_ns) + ")"));
    }
  }
  auto high = static_cast<uint64_t>(volume.high * static_cast<double>(capacity));
  auto low = static_cast<uint64_t>(volume.low * static_cast<double>(capacity));
  bool over_high = used > high;
  for (size_t i = 0; i < candidates.size(); ++i) {
    bool for_room = options.need_bytes > free;
    if (!(for_room || (over_high && used > low))) break;
    if (gone[i]) continue;
    PROXIMA_RETURN_IF_ERROR(evict(i, for_room
                                         ? "least recently used; making room for a new cache"
                                         : "least recently used; volume above its high watermark"));
  }

  if (options.dry_run) {
    report.after = report.before;
    report.after.used = used;
    report.after.free = free;
    return report;
  }
  PROXIMA_ASSIGN_OR_RETURN(
      auto pool_lock,
      FileLock::Take(vol.PoolLockPath(), FileLock::Mode::kExclusive, options.wait_for_sweep));
  if (pool_lock != nullptr) {
    PROXIMA_RETURN_IF_ERROR(SweepPool(vol, &report));
  } else {
    report.kept.push_back("pool sweep: a fill is running; unused pool files wait for the next run");
  }
  PROXIMA_ASSIGN_OR_RETURN(report.after, vol.MeasureUsage());
  return report;
}

Result<Eviction> RemoveCache(CacheServices& s, const VolumeRecord& volume, std::string_view dataset,
                             const ObjectId& commit, bool force) {
  PROXIMA_ASSIGN_OR_RETURN(CacheVolume vol, CacheVolume::Open(volume));
  std::string name = CacheName(dataset, commit);
  PROXIMA_ASSIGN_OR_RETURN(auto row, s.catalog.GetCache(volume.name, dataset, commit));
  if (!row) {
    return Status::NotFound("cache " + name + " is not on volume '" + volume.name +
                            "' (see 'proxima cache ls')");
  }
  GcReport report;
  PROXIMA_ASSIGN_OR_RETURN(auto live, LiveLeases(s, volume.name, false, &report));
  if (auto it = live.find(std::string(dataset) + "@" + commit.Hex()); it != live.end() && !force) {
    return Status::FailedPrecondition("cache " + name + " is leased by " + it->second +
                                      "; wait for it, or remove it anyway with --force");
  }
  if (row->state != CacheState::kReady) {
    // Queued, failed, stopped, or an interrupted eviction: with the lock
    // (no fill runs), whatever is there goes.
    PROXIMA_ASSIGN_OR_RETURN(auto lock, FileLock::Take(vol.CacheLockPath(dataset, commit),
                                                       FileLock::Mode::kExclusive, false));
    if (lock == nullptr) {
      return Status::FailedPrecondition("cache " + name +
                                        " is being filled or evicted now; "
                                        "remove it when that is done");
    }
    uint64_t bytes = ExclusiveBytes(vol.TreePath(dataset, commit));
    PROXIMA_RETURN_IF_ERROR(FinishEviction(s, vol, dataset, commit));
    report.evictions.push_back({std::string(dataset), commit, "removed", bytes});
  } else {
    PROXIMA_ASSIGN_OR_RETURN(bool evicted, Evict(s, vol, *row, "removed", false, &report));
    if (!evicted) {
      return Status::FailedPrecondition("cache " + name +
                                        " cannot be removed now: " + report.kept.back());
    }
  }
  PROXIMA_ASSIGN_OR_RETURN(auto pool_lock,
                           FileLock::Take(vol.PoolLockPath(), FileLock::Mode::kExclusive, false));
  if (pool_lock != nullptr) PROXIMA_RETURN_IF_ERROR(SweepPool(vol, &report));
  return report.evictions.back();
}

Result<LeaseRecord> TakeLease(CacheServices& s, const VolumeRecord& volume,
                              std::string_view dataset, const ObjectId& commit,
                              std::string_view holder, int64_t duration_ns) {
  int64_t now = s.clock.NowUnixNanos();
  LeaseRecord lease{
      RandomHex(8),      volume.name, std::string(dataset), commit, std::string(holder),
      now + duration_ns, ""};
  PROXIMA_RETURN_IF_ERROR(s.catalog.PutLease(lease));
  // The lease counts once the row, still ready, records the use: an
  // eviction that read the row before must then fail its compare-and-swap.
  bool ready = true;
  Result<CacheRecord> row =
      UpdateCacheRow(s.catalog, volume.name, dataset, commit, [&](CacheRecord& r) {
        ready = r.state == CacheState::kReady;
        if (!ready) return false;
        r.last_used_unix_ns = now;
        return true;
      });
  if (!row.ok() || !ready) {
    IgnoreError(s.catalog.DeleteLease(lease.id));
    PROXIMA_RETURN_IF_ERROR(row.status());
    return Status::FailedPrecondition("cache " + CacheName(dataset, commit) + " on volume '" +
                                      volume.name + "' is " +
                                      std::string(CacheStateName(row->state)) + ", not ready");
  }
  return lease;
}

Status RenewLease(CacheServices& s, LeaseRecord& lease, int64_t duration_ns) {
  int64_t now = s.clock.NowUnixNanos();
  lease.expires_unix_ns = now + duration_ns;
  PROXIMA_RETURN_IF_ERROR(s.catalog.PutLease(lease));
  return UpdateCacheRow(s.catalog, lease.volume, lease.dataset, lease.commit,
                        [&](CacheRecord& r) {
                          r.last_used_unix_ns = now;
                          return true;
                        })
      .status();
}

Status ReleaseLease(CacheServices& s, const LeaseRecord& lease) {
  Status st = s.catalog.DeleteLease(lease.id);
  if (!st.ok() && !st.IsNotFound()) return st;
  int64_t now = s.clock.NowUnixNanos();
  Status touched =
      UpdateCacheRow(s.catalog, lease.volume, lease.dataset, lease.commit, [&](CacheRecord& r) {
        if (r.state != CacheState::kReady) return false;
        r.last_used_unix_ns = now;
        return true;
      }).status();
  return touched.IsNotFound() ? Status::Ok() : touched;
}

Result<VerifyReport> VerifyCache(CacheServices& s, const VolumeRecord& volume,
                                 std::string_view dataset, const ObjectId& commit) {
  PROXIMA_ASSIGN_OR_RETURN(CacheVolume vol, CacheVolume::Open(volume));
  std::string tree = vol.TreePath(dataset, commit);
  PROXIMA_ASSIGN_OR_RETURN(auto row, s.catalog.GetCache(volume.name, dataset, commit));
  if (!row || row->state != CacheState::kReady) {
    return Status::FailedPrecondition("cache " + CacheName(dataset, commit) + " on volume '" +
                                      volume.name + "' is not ready (see 'proxima cache ls')");
  }
  PROXIMA_ASSIGN_OR_RETURN(Commit c, s.repo.LoadCommit(commit));
  PROXIMA_ASSIGN_OR_RETURN(auto index, s.repo.LoadBlobIndex());
  std::vector<FileState> entries;
  PROXIMA_RETURN_IF_ERROR(FlattenTree(s.repo, c.tree, "", &entries, nullptr));
  std::vector<const FileState*> files;
  uint64_t total = 0;
  for (const FileState& e : entries) {
    if (e.type != EntryType::kFile) continue;
    files.push_back(&e);
    total += e.size;
  }
  UniqueFd root(::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return ErrnoStatus(errno, "cannot open the cache at '" + tree + "'");
  StartPhase(s.progress, "verifying", files.size(), total);
  VerifyReport report;
  std::mutex mu;
  PROXIMA_RETURN_IF_ERROR(ParallelFor(files.size(), s.threads, [&](size_t i) -> Status {
    const FileState& f = *files[i];
    std::string problem;
    UniqueFd fd(::openat(root.get(), f.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!fd.valid()) {
      problem = std::string("cannot open: ") + std::strerror(errno);
    } else if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      problem = "not a regular file";
    } else if (Status ok = CheckContent(fd.get(), f, *index, "content"); !ok.ok()) {
      problem = ok.message();
    }
    AddFiles(s.progress, 1);
    AddBytes(s.progress, f.size);
    std::lock_guard<std::mutex> lock(mu);
    ++report.files;
    report.bytes += f.size;
    if (!problem.empty()) report.damaged.push_back(f.path + ": " + problem);
    return Status::Ok();
  }));
  std::sort(report.damaged.begin(), report.damaged.end());
  return report;
}

}  // namespace proxima
