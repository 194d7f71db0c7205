#include "proxima/core/cache_fill.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>

#include "proxima/base/file_util.h"
#include "proxima/base/parallel.h"
#include "proxima/core/blob_fetcher.h"
#include "proxima/core/cache_janitor.h"
#include "proxima/core/cache_volume.h"
#include "proxima/core/folder_lock.h"
#include "proxima/core/fs_ops.h"
#include "proxima/core/tree_builder.h"
#include "proxima/model/names.h"

namespace proxima {

namespace {

constexpr int64_t kProgressEveryNs = 1'000'000'000;
constexpr uint64_t kBlock = 4096;

std::string CacheName(std::string_view dataset, const ObjectId& commit) {
  return "'" + std::string(dataset) + "@" + commit.ShortHex() + "'";
}

uint64_t OnDisk(uint64_t bytes) { return (bytes + kBlock - 1) / kBlock * kBlock; }

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Moves `from` to `to` unless `to` exists (then `from` is removed: the
// content is the same, and the pool keeps the inode others may link).
Status PlaceNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::Ok();
  }
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {  // NFS and others: link, then unlink
    if (::link(from.c_str(), to.c_str()) == 0 || errno == EEXIST) {
      ::unlink(from.c_str());
      return Status::Ok();
    }
    err = errno;
  }
  if (err == EEXIST) {
    ::unlink(from.c_str());
    return Status::Ok();
  }
  return ErrnoStatus(err, "cannot move '" + from + "' into the pool");
}

// One pool file the commit needs.
struct PoolItem {
  std::string key;
  const FileState* file = nullptr;  // the first file with this content
  bool present = false;
};

// Where a fetched blob goes: pool item `item` at byte `offset`.
struct Target {
  ObjectId blob;
  uint32_t item;
  uint64_t offset;
};

class Fill {
 public:
  Fill(CacheServices& s, CacheVolume& volume, std::string_view dataset, const ObjectId& commit,
       std::string team, FillReport& report)
      : s_(s),
        vol_(volume),
        dataset_(dataset),
        commit_id_(commit),
        team_(std::move(team)),
        report_(report) {}

  Status Run() {
    PROXIMA_RETURN_IF_ERROR(Plan());
    ReportProgress(true);  // the row shows the commit's size from now on (quotas count it)
    PROXIMA_RETURN_IF_ERROR(AdmitTeam());
    PROXIMA_ASSIGN_OR_RETURN(auto pool_lock,
                             FileLock::Take(vol_.PoolLockPath(), FileLock::Mode::kShared, true));
    PROXIMA_RETURN_IF_ERROR(ClassifyPool());
    if (Status fits = Admit(); !fits.ok()) {
      if (fits.code() != StatusCode::kResourceExhausted) return fits;
      // Make room: the janitor's sweep needs the pool to itself.
      pool_lock.reset();
      PROXIMA_RETURN_IF_ERROR(MakeRoom());
      PROXIMA_ASSIGN_OR_RETURN(pool_lock,
                               FileLock::Take(vol_.PoolLockPath(), FileLock::Mode::kShared, true));
      PROXIMA_RETURN_IF_ERROR(ClassifyPool());
      PROXIMA_RETURN_IF_ERROR(Admit());
    }
    PROXIMA_RETURN_IF_ERROR(Fetch());
    PROXIMA_RETURN_IF_ERROR(Link());
    return Publish();
  }

 private:
  Status Plan() {
    StartPhase(s_.progress, "reading trees", 0, 0);
    PROXIMA_ASSIGN_OR_RETURN(commit_, s_.repo.LoadCommit(commit_id_));
    PROXIMA_ASSIGN_OR_RETURN(index_, s_.repo.LoadBlobIndex());
    PROXIMA_RETURN_IF_ERROR(FlattenTree(s_.repo, commit_.tree, "", &entries_, nullptr));
    std::unordered_map<std::string, uint32_t> seen;
    for (const FileState& e : entries_) {
      if (e.type != EntryType::kFile) continue;
      ++files_;
      bytes_ += e.size;
      std::string key = PoolKeyOf(e);
      auto [it, fresh] = seen.emplace(key, static_cast<uint32_t>(items_.size()));
      if (fresh) items_.push_back({std::move(key), &e, false});
      file_items_.push_back(it->second);
    }
    return Status::Ok();
  }

  // Refuses a cache that would take its team over its quota on the volume:
  // the bytes its team's caches there commit (a failed fill's none).
  Status AdmitTeam() {
    if (team_.empty()) return Status::Ok();
    const std::string& vname = vol_.record().name;
    PROXIMA_ASSIGN_OR_RETURN(std::vector<QuotaRecord> quotas, s_.catalog.ListQuotas(vname));
    auto quota = std::find_if(quotas.begin(), quotas.end(),
                              [&](const QuotaRecord& q) { return q.team == team_; });
    if (quota == quotas.end()) return Status::Ok();
    PROXIMA_ASSIGN_OR_RETURN(std::vector<CacheRecord> caches, s_.catalog.ListCaches(vname));
    uint64_t used = 0;
    size_t count = 0;
    for (const CacheRecord& c : caches) {
      bool self = c.dataset == dataset_ && c.commit == commit_id_;
      if (self || c.team != team_ || c.state == CacheState::kFailed) continue;
      used += c.bytes;
      ++count;
    }
    if (used + bytes_ <= quota->bytes) return Status::Ok();
    return Status::ResourceExhausted(
        "cache " + CacheName(dataset_, commit_id_) + " would take team '" + team_ +
        "' over its quota on volume '" + vname + "': the quota is " + std::to_string(quota->bytes) +
        " bytes, its " + std::to_string(count) + " caches there commit " + std::to_string(used) +
        " and this one " + std::to_string(bytes_) +
        " (remove one with 'proxima cache rm', or ask for more)");
  }

  // Refuses a cache that cannot fit, before anything is written:
  // ResourceExhausted with the sizes.
  Status Admit() {
    uint64_t need = 0;
    for (const PoolItem& item : items_) {
      if (!item.present) need += OnDisk(item.file->size);
    }
    PROXIMA_ASSIGN_OR_RETURN(CacheVolume::Usage usage, vol_.MeasureUsage(/*scan_pool=*/false));
    need_ = need;
    if (need <= usage.free) return Status::Ok();
    return Status::ResourceExhausted(
        "cache " + CacheName(dataset_, commit_id_) + " does not fit on volume '" +
        vol_.record().name + "': it needs " + std::to_string(need) + " bytes more, and " +
        std::to_string(usage.free) + " are free of " + std::to_string(usage.capacity) +
        (report_.evicted > 0 ? " after evicting " + std::to_string(report_.evicted) + " idle caches"
                             : "") +
        " (pinned and leased caches stay; see 'proxima volume show " + vol_.record().name + "')");
  }

  // Evicts what may be evicted to make room for `need_` bytes.
  Status MakeRoom() {
    Note("volume '" + vol_.record().name + "' lacks room for the " + std::to_string(need_) +
         " bytes the cache needs: evicting");
    GcOptions gc;
    gc.need_bytes = need_;
    gc.wait_for_sweep = true;
    PROXIMA_ASSIGN_OR_RETURN(GcReport freed, CollectGarbage(s_, vol_.record(), gc));
    report_.evicted += freed.evictions.size();
    return Status::Ok();
  }

  // Which pool files are there already. One linked from a tree was flushed
  // to disk before that tree was built, so its size is checked; one that
  // nothing links may be the leftover of an interrupted fill and is hashed.
  Status ClassifyPool() {
    StartPhase(s_.progress, "checking the pool", items_.size(), 0);
    std::atomic<uint64_t> rehashed{0};
    PROXIMA_RETURN_IF_ERROR(ParallelFor(items_.size(), s_.threads, [&](size_t i) -> Status {
      PoolItem& item = items_[i];
      item.present = false;
      std::string path = vol_.PoolPath(item.key);
      AddFiles(s_.progress, 1);
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0) return Status::Ok();
      if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == item.file->size &&
          st.st_nlink >= 2) {
        item.present = true;
        return Status::Ok();
      }
      if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == item.file->size) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) return ErrnoStatus(errno, "cannot read pool file '" + path + "'");
        if (CheckContent(fd.get(), *item.file, *index_, path).ok()) {
          item.present = true;
          rehashed += item.file->size;
          return Status::Ok();
        }
        // Damaged. Remove it only if it is still the file that was checked:
        // another fill may have replaced it with a good one meanwhile.
        struct stat opened, now;
        if (::fstat(fd.get(), &opened) != 0 || ::lstat(path.c_str(), &now) != 0 ||
            opened.st_ino != now.st_ino || opened.st_dev != now.st_dev) {
          return Status::Ok();  // replaced: the fetch below writes it if still missing
        }
      }
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return ErrnoStatus(errno, "cannot remove the damaged pool file '" + path + "'");
      }
      return Status::Ok();
    }));
    report_.bytes_rehashed = rehashed.load();
    return Status::Ok();
  }

  std::string TmpPath(const PoolItem& item) const {
    return vol_.TmpDir() + "/" + item.key + "." + tmp_suffix_;
  }

  // Writes the finished temporary file of `item` into the pool, read-only.
  Status Seal(const PoolItem& item, int fd) {
    std::string tmp = TmpPath(item);
    mode_t mode = (item.file->mode & 0111) != 0 ? 0555 : 0444;
    if (::fchmod(fd, mode) != 0) return ErrnoStatus(errno, "cannot chmod '" + tmp + "'");
    return PlaceNoReplace(tmp, vol_.PoolPath(item.key));
  }

  Status Fetch() {
    std::vector<Target> targets;
    uint64_t total = 0, present_bytes = 0;
    for (uint32_t i = 0; i < items_.size(); ++i) {
      const PoolItem& item = items_[i];
      if (item.present) {
        present_bytes += item.file->size;
        continue;
      }
      total += item.file->size;
      uint64_t offset = 0;
      for (const ObjectId& c : item.file->chunks) {
        const BlobIndex::Location* loc = index_->Find(c);
        if (loc == nullptr) {
          return Status::Corruption("content of " + QuotePath(item.file->path) + " (blob " +
                                    c.ShortHex() + ") is missing from store " +
                                    s_.repo.store().Describe() + " (run 'proxima data fsck')");
        }
        targets.push_back({c, i, offset});
        offset += loc->raw_length;
      }
    }
    for (uint32_t i = 0; i < file_items_.size(); ++i) {
      if (items_[file_items_[i]].present) ++report_.files_reused;
    }
    done_bytes_ = present_bytes;
    StartPhase(s_.progress, "downloading", 0, total);
    // Empty files have no blob to wait for.
    for (const PoolItem& item : items_) {
      if (item.present || !item.file->chunks.empty()) continue;
      UniqueFd fd(::open(TmpPath(item).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      if (!fd.valid()) return ErrnoStatus(errno, "cannot create '" + TmpPath(item) + "'");
      PROXIMA_RETURN_IF_ERROR(Seal(item, fd.get()));
      ++report_.files_fetched;
    }
    std::sort(targets.begin(), targets.end(),
              [](const Target& a, const Target& b) { return a.blob < b.blob; });
    std::vector<ObjectId> blobs;
    for (const Target& t : targets) {
      if (blobs.empty() || blobs.back() != t.blob) blobs.push_back(t.blob);
    }
    auto written = std::make_unique<std::atomic<uint64_t>[]>(items_.size());
    std::atomic<uint64_t> fetched_files{0}, fetched_bytes{0};
    int fetchers = std::max(s_.threads, s_.repo.store().PreferredConcurrency());
    PROXIMA_RETURN_IF_ERROR(FetchBlobs(
        s_.repo, *index_, blobs, fetchers, nullptr,
        [&](const ObjectId& id, std::string_view raw) -> Status {
          auto [lo, hi] =
              std::equal_range(targets.begin(), targets.end(), Target{id, 0, 0},
                               [](const Target& a, const Target& b) { return a.blob < b.blob; });
          for (auto it = lo; it != hi; ++it) {
            const PoolItem& item = items_[it->item];
            std::string tmp = TmpPath(item);
            bool whole = item.file->chunks.size() == 1;
            int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (whole ? O_EXCL : 0);
            UniqueFd fd(::open(tmp.c_str(), flags, 0600));
            if (!fd.valid()) return ErrnoStatus(errno, "cannot create '" + tmp + "'");
            if (whole && raw.size() >= kDirectIoMinBytes) {
              PROXIMA_RETURN_IF_ERROR(WriteDirect(fd.get(), raw, "'" + tmp + "'"));
            } else {
              PROXIMA_RETURN_IF_ERROR(PwriteAll(fd.get(), raw, it->offset, "'" + tmp + "'"));
            }
            if (written[it->item].fetch_add(raw.size()) + raw.size() == item.file->size) {
              PROXIMA_RETURN_IF_ERROR(Seal(item, fd.get()));
              ++fetched_files;
              fetched_bytes += item.file->size;
            }
            PROXIMA_RETURN_IF_ERROR(fd.Close("'" + tmp + "'"));
            AddBytes(s_.progress, raw.size());
            done_bytes_ += raw.size();
          }
          ReportProgress(false);
          return Status::Ok();
        }));
    for (uint32_t i = 0; i < items_.size(); ++i) {
      if (!items_[i].present && !items_[i].file->chunks.empty() &&
          written[i].load() != items_[i].file->size) {
        return Status::Internal("pool file of " + QuotePath(items_[i].file->path) +
                                " was not completely written");
      }
    }
    report_.files_fetched += fetched_files.load();
    report_.bytes_fetched = fetched_bytes.load();
    // The pool is flushed before any tree links it: a linked pool file is
    // trusted by later fills without hashing it again.
    StartPhase(s_.progress, "flushing to disk", 0, 0);
    UniqueFd pool(::open(vol_.PoolDir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!pool.valid()) return ErrnoStatus(errno, "cannot open '" + vol_.PoolDir() + "'");
    return SyncFilesystem(pool.get(), "volume '" + vol_.record().name + "'");
  }

  // Builds the tree beside its final place: folders, hard links into the
  // pool (copies where the file system refuses links), symbolic links; then
  // makes the folders read-only.
  Status Link() {
    std::string dir = vol_.FillPath(dataset_, commit_id_);
    PROXIMA_RETURN_IF_ERROR(RemoveTree(dir));  // what an interrupted fill left
    if (::mkdir(dir.c_str(), 0755) != 0) return ErrnoStatus(errno, "cannot create '" + dir + "'");
    UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) return ErrnoStatus(errno, "cannot open '" + dir + "'");
    std::vector<const FileState*> files;
    for (const FileState& e : entries_) {
      if (e.type == EntryType::kDirectory) {
        if (::mkdirat(root.get(), e.path.c_str(), 0755) != 0) {
          return ErrnoStatus(errno, "cannot create folder " + QuotePath(e.path));
        }
      } else if (e.type == EntryType::kFile) {
        files.push_back(&e);
      } else if (::symlinkat(e.target.c_str(), root.get(), e.path.c_str()) != 0) {
        return ErrnoStatus(errno, "cannot create symbolic link " + QuotePath(e.path));
      }
    }
    StartPhase(s_.progress, "linking", files.size(), 0);
    constexpr size_t kBatch = 512;
    std::atomic<uint64_t> copies{0};
    PROXIMA_RETURN_IF_ERROR(
        ParallelFor((files.size() + kBatch - 1) / kBatch, s_.threads, [&](size_t b) -> Status {
          size_t end = std::min(files.size(), (b + 1) * kBatch);
          for (size_t i = b * kBatch; i < end; ++i) {
            const FileState& f = *files[i];
            std::string pool = vol_.PoolPath(items_[file_items_[i]].key);
            if (::linkat(AT_FDCWD, pool.c_str(), root.get(), f.path.c_str(), 0) != 0) {
              int err = errno;
              if (err != EXDEV && err != EPERM && err != EMLINK && err != ENOTSUP) {
                return ErrnoStatus(err, "cannot link " + QuotePath(f.path) + " to the pool");
              }
              PROXIMA_RETURN_IF_ERROR(CopyFromPool(pool, root.get(), f));
              ++copies;
            }
          }
          AddFiles(s_.progress, end - b * kBatch);
          return Status::Ok();
        }));
    report_.copies = copies.load();
    if (report_.copies > 0) {
      Note(std::to_string(report_.copies) +
           " files were copied, not linked: the file system refused hard links");
    }
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (it->type != EntryType::kDirectory) continue;
      if (::fchmodat(root.get(), it->path.c_str(), (it->mode & 07777) & ~0222u, 0) != 0) {
        return ErrnoStatus(errno, "cannot set the mode of " + QuotePath(it->path));
      }
    }
    // The top folder stays writable until it is in place: moving a folder to
    // another parent rewrites its "..", which needs write permission.
    return SyncFilesystem(root.get(), "volume '" + vol_.record().name + "'");
  }

  Status CopyFromPool(const std::string& pool, int root, const FileState& f) {
    UniqueFd in(::open(pool.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in.valid()) return ErrnoStatus(errno, "cannot read pool file '" + pool + "'");
    UniqueFd out(::openat(root, f.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out.valid()) return ErrnoStatus(errno, "cannot create " + QuotePath(f.path));
    std::string buf;
    for (uint64_t offset = 0; offset < f.size;) {
      buf.clear();
      size_t n = static_cast<size_t>(std::min<uint64_t>(f.size - offset, 1 << 20));
      PROXIMA_RETURN_IF_ERROR(PreadAll(in.get(), n, offset, &buf, pool));
      if (buf.empty()) return Status::Corruption("pool file '" + pool + "' is truncated");
      PROXIMA_RETURN_IF_ERROR(PwriteAll(out.get(), buf, offset, QuotePath(f.path)));
      offset += buf.size();
    }
    mode_t mode = (f.mode & 0111) != 0 ? 0555 : 0444;
    if (::fchmod(out.get(), mode) != 0) return ErrnoStatus(errno, "cannot chmod " + f.path);
    return out.Close(QuotePath(f.path));
  }

  // One rename makes the whole tree visible.
  Status Publish() {
    std::string parent = JoinPath(vol_.path(), dataset_);
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create '" + parent + "'");
    }
    std::string from = vol_.FillPath(dataset_, commit_id_);
    std::string to = vol_.TreePath(dataset_, commit_id_);
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
      int err = errno;
      if (err == EINVAL || err == ENOSYS) {  // no RENAME_NOREPLACE here (NFS): we hold the lock
        if (Exists(to)) {
          err = EEXIST;
        } else {
          err = ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
        }
      }
      if (err != 0) return ErrnoStatus(err, "cannot publish the cache at '" + to + "'");
    }
    if (::chmod(to.c_str(), 0555) != 0) return ErrnoStatus(errno, "cannot chmod '" + to + "'");
    PROXIMA_RETURN_IF_ERROR(FsyncDir(parent));
    report_.filled = true;
    return Status::Ok();
  }

  void Note(const std::string& what) {
    if (s_.note) s_.note(what);
  }

 public:
  // Records progress in the catalog row, at most once a second (or now).
  void ReportProgress(bool now) {
    int64_t t = s_.clock.MonotonicNanos();
    if (!now && t - last_progress_ns_.load() < kProgressEveryNs) return;
    std::unique_lock<std::mutex> lock(progress_mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    last_progress_ns_ = t;
    uint64_t done = done_bytes_.load();
    IgnoreError(
        UpdateCacheRow(s_.catalog, vol_.record().name, dataset_, commit_id_, [&](CacheRecord& row) {
          if (row.state != CacheState::kFilling) return false;
          row.done_bytes = done;
          row.files = files_;
          row.bytes = bytes_;
          return true;
        }).status());
  }

  uint64_t files() const { return files_; }
  uint64_t bytes() const { return bytes_; }
  std::string notes() const {
    return report_.copies == 0
               ? ""
               : std::to_string(report_.copies) + " files copied: the file system refused links";
  }

 private:
  CacheServices& s_;
  CacheVolume& vol_;
  std::string dataset_;
  ObjectId commit_id_;
  std::string team_;
  FillReport& report_;
  std::string tmp_suffix_ = RandomHex(8);  // unique across the nodes sharing the volume

  Commit commit_;
  std::unique_ptr<BlobIndex> index_;
  std::vector<FileState> entries_;
  std::vector<PoolItem> items_;
  std::vector<uint32_t> file_items_;  // per file (in entry order), its item
  uint64_t files_ = 0;
  uint64_t bytes_ = 0;
  uint64_t need_ = 0;  // bytes the pool lacks, rounded up to blocks
  std::atomic<uint64_t> done_bytes_{0};
  std::atomic<int64_t> last_progress_ns_{0};
  std::mutex progress_mu_;
};

// The row of the cache, created as queued when there is none.
Result<CacheRecord> EnsureRow(CacheServices& s, const VolumeRecord& volume,
                              std::string_view dataset, const ObjectId& commit,
                              const std::string& team) {
  for (int attempt = 0;; ++attempt) {
    PROXIMA_ASSIGN_OR_RETURN(auto row, s.catalog.GetCache(volume.name, dataset, commit));
    if (row) return *row;
    CacheRecord fresh;
    fresh.volume = volume.name;
    fresh.dataset = std::string(dataset);
    fresh.commit = commit;
    fresh.team = team;
    fresh.created_unix_ns = fresh.last_used_unix_ns = s.clock.NowUnixNanos();
    Result<int64_t> v = s.catalog.PutCache(fresh);
    if (v.ok()) {
      fresh.version = *v;
      return fresh;
    }
    if (v.status().code() != StatusCode::kFailedPrecondition || attempt > 10) return v.status();
  }
}

}  // namespace

Result<CacheRecord> UpdateCacheRow(CacheCatalog& catalog, std::string_view volume,
                                   std::string_view dataset, const ObjectId& commit,
                                   const std::function<bool(CacheRecord&)>& change) {
  for (int attempt = 0;; ++attempt) {
    PROXIMA_ASSIGN_OR_RETURN(auto row, catalog.GetCache(volume, dataset, commit));
    if (!row) {
      return Status::NotFound("cache " + CacheName(dataset, commit) + " is not on volume '" +
                              std::string(volume) + "' (see 'proxima cache ls')");
    }
    if (!change(*row)) return *row;
    Result<int64_t> v = catalog.PutCache(*row);
    if (v.ok()) {
      row->version = *v;
      return *row;
    }
    if (v.status().code() != StatusCode::kFailedPrecondition || attempt > 20) return v.status();
  }
}

Result<CacheRecord> RequestCache(CacheServices& s, const VolumeRecord& volume,
                                 std::string_view dataset, const ObjectId& commit,
                                 const FillOptions& options) {
  PROXIMA_RETURN_IF_ERROR(ValidateDatasetName(dataset));
  PROXIMA_RETURN_IF_ERROR(CacheVolume::Open(volume).status());
  PROXIMA_ASSIGN_OR_RETURN(CacheRecord row, EnsureRow(s, volume, dataset, commit, options.team));
  if (row.state != CacheState::kFailed) return row;
  return UpdateCacheRow(s.catalog, volume.name, dataset, commit, [](CacheRecord& r) {
    if (r.state != CacheState::kFailed) return false;
    r.state = CacheState::kQueued;
    r.reason.clear();
    return true;
  });
}

Result<bool> FillIsRunning(const VolumeRecord& volume, std::string_view dataset,
                           const ObjectId& commit) {
  PROXIMA_ASSIGN_OR_RETURN(CacheVolume vol, CacheVolume::Open(volume));
  PROXIMA_ASSIGN_OR_RETURN(auto lock, FileLock::Take(vol.CacheLockPath(dataset, commit),
                                                     FileLock::Mode::kExclusive, false));
  return lock == nullptr;
}

Result<FillReport> FillCache(CacheServices& s, const VolumeRecord& volume_record,
                             std::string_view dataset, const ObjectId& commit,
                             const FillOptions& options) {
  PROXIMA_RETURN_IF_ERROR(ValidateDatasetName(dataset));
  PROXIMA_ASSIGN_OR_RETURN(CacheVolume volume, CacheVolume::Open(volume_record));
  FillReport report;
  report.path = volume.TreePath(dataset, commit);
  const std::string& vname = volume_record.name;
  PROXIMA_ASSIGN_OR_RETURN(CacheRecord row,
                           EnsureRow(s, volume_record, dataset, commit, options.team));
  // Marks the row ready and used now. Without `stats` only a row that is
  // ready already (the fast path, without the lock): false when it is not.
  auto ready_now = [&](const CommitStats* stats) -> Result<std::optional<CacheRecord>> {
    int64_t now = s.clock.NowUnixNanos();
    bool refused = false;
    PROXIMA_ASSIGN_OR_RETURN(CacheRecord r,
                             UpdateCacheRow(s.catalog, vname, dataset, commit, [&](CacheRecord& r) {
                               if (r.state != CacheState::kReady) {
                                 if (stats == nullptr || r.state == CacheState::kEvicting) {
                                   refused = true;
                                   return false;
                                 }
                                 r.files = stats->files;
                                 r.bytes = stats->bytes;
                                 r.done_bytes = stats->bytes;
                                 r.reason.clear();
                               }
                               r.state = CacheState::kReady;
                               r.last_used_unix_ns = now;
                               return true;
                             }));
    if (refused) return std::optional<CacheRecord>();
    return std::optional<CacheRecord>(std::move(r));
  };
  if (row.state == CacheState::kReady && Exists(report.path)) {
    PROXIMA_ASSIGN_OR_RETURN(auto ready, ready_now(nullptr));
    if (ready && Exists(report.path)) {
      report.cache = std::move(*ready);
      return report;
    }
  }
  PROXIMA_ASSIGN_OR_RETURN(auto lock, FileLock::Take(volume.CacheLockPath(dataset, commit),
                                                     FileLock::Mode::kExclusive, false));
  if (lock == nullptr) {
    if (s.note) {
      s.note("another process is filling or evicting " + CacheName(dataset, commit) +
             " on volume '" + vname + "'; waiting for it");
    }
    report.waited = true;
    PROXIMA_ASSIGN_OR_RETURN(lock, FileLock::Take(volume.CacheLockPath(dataset, commit),
                                                  FileLock::Mode::kExclusive, true));
  }
  // Under the lock, the row again: the holder may have evicted the cache
  // (or died evicting it: then the eviction is finished first).
  PROXIMA_ASSIGN_OR_RETURN(row, EnsureRow(s, volume_record, dataset, commit, options.team));
  if (row.state == CacheState::kEvicting) {
    PROXIMA_RETURN_IF_ERROR(FinishEviction(s, volume, dataset, commit));
    PROXIMA_ASSIGN_OR_RETURN(row, EnsureRow(s, volume_record, dataset, commit, options.team));
  }
  // A tree in place is complete (filled by the fill this one waited for, or
  // by a node that records caches in another catalog).
  if (Exists(report.path)) {
    PROXIMA_ASSIGN_OR_RETURN(Commit c, s.repo.LoadCommit(commit));
    PROXIMA_ASSIGN_OR_RETURN(auto ready, ready_now(&c.stats));
    if (!ready) return Status::Internal("cache row changed under the lock");
    report.cache = std::move(*ready);
    return report;
  }
  PROXIMA_RETURN_IF_ERROR(UpdateCacheRow(s.catalog, vname, dataset, commit, [&](CacheRecord& r) {
                            r.state = CacheState::kFilling;
                            r.done_bytes = 0;
                            r.reason.clear();
                            return true;
                          }).status());
  Fill fill(s, volume, dataset, commit, row.team, report);
  Status status = fill.Run();
  if (!status.ok()) {
    std::string reason = status.ToString();
    if (reason.size() > 1000) {
      size_t cut = 1000;
      while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
      reason = reason.substr(0, cut) + "...";
    }
    IgnoreError(UpdateCacheRow(s.catalog, vname, dataset, commit, [&](CacheRecord& r) {
                  r.state = CacheState::kFailed;
                  r.reason = reason;
                  return true;
                }).status());
    return status;
  }
  int64_t now = s.clock.NowUnixNanos();
  PROXIMA_ASSIGN_OR_RETURN(report.cache,
                           UpdateCacheRow(s.catalog, vname, dataset, commit, [&](CacheRecord& r) {
                             r.state = CacheState::kReady;
                             r.files = fill.files();
                             r.bytes = fill.bytes();
                             r.done_bytes = fill.bytes();
                             r.fetched_bytes = report.bytes_fetched;
                             r.reason = fill.notes();
                             r.last_used_unix_ns = now;
                             return true;
                           }));
  return report;
}

}  // namespace proxima
