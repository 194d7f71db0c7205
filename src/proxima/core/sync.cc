#include "proxima/core/sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <unordered_set>

#include "proxima/base/parallel.h"
#include "proxima/core/file_reader.h"
#include "proxima/core/folder_lock.h"
#include "proxima/core/fs_ops.h"
#include "proxima/core/merge.h"
#include "proxima/core/pack_writer.h"
#include "proxima/core/tree_builder.h"
#include "proxima/model/names.h"

namespace proxima {

namespace {

bool IsFileLike(EntryType t) { return t != EntryType::kDirectory; }

// Reads the packs listed in the journal of a killed sync and adds the blobs of
// those that are intact to `index`. Returns them for this sync's index object.
std::vector<IndexedPack> AdoptJournal(Repository& repo, const WorkDir& wd, BlobIndex* index) {
  std::vector<IndexedPack> adopted;
  auto ids = wd.ReadJournal();
  if (!ids.ok()) return adopted;
  for (const ObjectId& id : *ids) {
    if (index->HasPack(id)) continue;  // indexed already
    auto bytes = repo.store().Get(ObjectKey(ObjectKind::kPack, id));
    if (!bytes.ok()) continue;
    auto blobs = VerifyPack(*bytes, id, id.ShortHex());  // a torn pack fails here
    if (!blobs.ok()) continue;
    index->Add(id, *blobs);
    adopted.push_back({id, std::move(*blobs)});
  }
  index->Finalize();
  return adopted;
}

}  // namespace

Result<SyncReport> Syncer::Run(const WorkDir& wd, const SyncOptions& options) {
  const std::string& dataset = wd.dataset();
  if (!options.dry_run) PROXIMA_RETURN_IF_ERROR(ValidateMetadataJson(options.metadata_json));
  PROXIMA_ASSIGN_OR_RETURN(auto lock,
                           FileLock::Acquire(wd.StatePath("lock"), "'" + wd.root() + "'"));
  if (!options.dry_run) PROXIMA_RETURN_IF_ERROR(wd.RecoverPending(*refs_));

  PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> head, refs_->GetRef(dataset, kHeadRef));
  // Only the head now; the entries are streamed from `reader` after the scan,
  // so that a sync of a million files never holds the cache's bytes and the
  // scan's list (assembled from per-folder parts) at their peaks together.
  StatCacheReader reader;
  StatCache cache;  // its head and trees
  PROXIMA_ASSIGN_OR_RETURN(StatCacheReader::Header header,
                           StatCacheReader::ReadHeader(wd.StatePath("statcache")));
  cache.head = header.head;
  ObjectId head_id = head.value_or(ObjectId());
  const ObjectId dataset_head_id = head_id;
  if (cache.head != head_id && !options.force && (options.rebase || options.dry_run)) {
    // The folder is behind the dataset (someone else synced since): this
    // sync commits the folder's own changes on the commit it was synced to,
    // and then rebases them onto the head, as if the two syncs had raced.
    head = cache.head.IsZero() ? std::nullopt : std::optional<ObjectId>(cache.head);
    head_id = cache.head;
  } else if (cache.head != head_id && !options.force && !options.dry_run) {
    return Status::FailedPrecondition(
        "folder '" + wd.root() + "' was last synced at commit " +
        (cache.head.IsZero() ? std::string("(none)") : cache.head.ShortHex()) + " but dataset '" +
        dataset + "' is now at " + head_id.ShortHex() +
        "; run 'proxima data checkout' to move to it (local changes are lost) or 'proxima data "
        "sync --force' to commit this folder on top of it");
  }
  bool flattened = header.entries == 0 && !cache.head.IsZero();
  if (flattened) {
    // A folder freshly bound to a dataset that has commits: compare with them.
    PROXIMA_ASSIGN_OR_RETURN(Commit c, repo_->LoadCommit(cache.head));
    PROXIMA_RETURN_IF_ERROR(FlattenTree(*repo_, c.tree, "", &cache.entries, &cache.trees));
  }
  size_t flat_next = 0;
  auto next_cached = [&](FileState* out) -> Result<bool> {
    if (!flattened) return reader.Next(out);
    if (flat_next == cache.entries.size()) return false;
    *out = std::move(cache.entries[flat_next++]);
    return true;
  };

  SyncReport report;
  int64_t phase_start = clock_->MonotonicNanos();
  const char* phase_name = "preparing";
  auto phase = [&](const char* name, uint64_t files, uint64_t bytes) {
    int64_t now = clock_->MonotonicNanos();
    report.phase_seconds.emplace_back(phase_name, static_cast<double>(now - phase_start) / 1e9);
    phase_start = now;
    phase_name = name;
    StartPhase(progress_, name, files, bytes);
  };
  report.parent = head_id;
  report.folder_head = cache.head;
  report.dataset_head = dataset_head_id;
  phase("scanning", 0, 0);
  reader = StatCacheReader();
  // Ask the watcher before looking at anything: its token then predates
  // every stat this sync makes, so whatever changes after them is reported
  // to the next sync.
  std::optional<WatchToken> next_token;
  std::optional<ChangeSet> changes;
  if (options.change_feed != nullptr) {
    Result<ChangeSet> feed = options.change_feed->ChangesSince(wd.ReadWatchToken());
    if (!feed.ok()) {
      report.scan_note = feed.status().message();
    } else {
      next_token = feed->token;
      if (!feed->complete) {
        report.scan_note = "the watcher cannot vouch for the changes since the last sync";
      } else if (flattened || header.entries == 0) {
        report.scan_note = "no stat cache to start from";
      } else {
        changes = std::move(*feed);
      }
    }
  }
  // Which blobs the store holds is needed only once files are read, but
  // reading every index takes as long as a watched scan: do it meanwhile,
  // unless the watcher saw nothing change.
  std::future<Result<std::unique_ptr<BlobIndex>>> index_loading;
  if (!options.dry_run && !(changes && changes->paths.empty())) {
    index_loading = std::async(std::launch::async, [this] { return repo_->LoadBlobIndex(); });
  }
  Result<ScanResult> scanned = Status::Internal("not scanned");
  bool reader_open = false;  // the stat cache, read once for a watched scan
  if (changes) {
    Result<StatCacheReader> last = StatCacheReader::Open(wd.StatePath("statcache"));
    if (last.ok() && last->head() == cache.head) {
      report.watched_paths = changes->paths.size();
      scanned = ScanChanged(
          wd.root(), [&](FileState* f) { return last->Next(f); }, header.entries,
          std::move(changes->paths));
    }
    if (scanned.ok()) {
      report.scan = "watch";
      last->Rewind();  // for the merge below
      reader = std::move(*last);
      reader_open = true;
    } else {
      report.scan_note = last.ok() ? scanned.status().message() : last.status().message();
    }
  }
  if (!scanned.ok()) scanned = ScanFolder(wd.root());
  PROXIMA_ASSIGN_OR_RETURN(ScanResult scan, std::move(scanned));
  std::vector<FileState>& entries = scan.entries;
  report.skipped = std::move(scan.skipped);
  if (!flattened && !reader_open) {
    PROXIMA_ASSIGN_OR_RETURN(reader, StatCacheReader::Open(wd.StatePath("statcache")));
    if (reader.head() != cache.head) {
      return Status::Aborted("folder '" + wd.root() +
                             "' was synced by another command meanwhile; run the sync again");
    }
  }

  phase("comparing", 0, 0);
  // Merge the scan with the stat cache (both in walk order): reuse the
  // content of files whose stat is unchanged; the rest must be read. What
  // the cache said about those is kept aside and the cache is released, so a
  // sync of a million files holds one list of them, not two.
  // Counts always; the list of changes only when asked for (a first sync of
  // a million files would otherwise hold a million entries for nothing).
  auto record = [&](Change::Kind kind, const FileState& f, uint64_t old_size, uint64_t new_size) {
    if (kind == Change::kAdded) ++report.changes.added;
    if (kind == Change::kModified) ++report.changes.modified;
    if (kind == Change::kDeleted) ++report.changes.deleted;
    if (options.list_changes) report.changed.push_back({kind, f.path, f.type, old_size, new_size});
  };
  std::vector<size_t> to_read;
  // What the cache said about files that must be read: old_slot[k] indexes
  // `olds` for to_read[k], or is -1 when the file is new.
  std::vector<int32_t> old_slot;
  std::vector<FileState> olds;
  uint64_t bytes_to_read = 0;
  {
    auto deleted = [&](const FileState& gone) {
      if (IsFileLike(gone.type)) {
        record(Change::kDeleted, gone, gone.size, 0);
      }
    };
    FileState cur;
    PROXIMA_ASSIGN_OR_RETURN(bool have, next_cached(&cur));
    for (size_t i = 0; i < entries.size(); ++i) {
      FileState& e = entries[i];
      while (have && ComparePaths(cur.path, e.path) < 0) {
        deleted(cur);
        PROXIMA_ASSIGN_OR_RETURN(have, next_cached(&cur));
      }
      bool match = have && cur.path == e.path;
      if (e.type == EntryType::kFile && !(match && e.SameStat(cur))) {
        to_read.push_back(i);
        bytes_to_read += e.size;
        old_slot.push_back(match ? static_cast<int32_t>(olds.size()) : -1);
        if (match) olds.push_back(std::move(cur));
      } else if (e.type == EntryType::kFile) {
        e.chunks = std::move(cur.chunks);
      } else if (e.type == EntryType::kSymlink) {
        if (!match || cur.type == EntryType::kDirectory) {
          record(Change::kAdded, e, 0, e.size);
        } else if (!e.SameContent(cur)) {
          record(Change::kModified, e, cur.size, e.size);
        }
      }
      if (match) {
        PROXIMA_ASSIGN_OR_RETURN(have, next_cached(&cur));
      }
    }
    while (have) {
      deleted(cur);
      PROXIMA_ASSIGN_OR_RETURN(have, next_cached(&cur));
    }
    if (!flattened) {
      PROXIMA_ASSIGN_OR_RETURN(cache.trees, reader.Trees());
    }
    reader = StatCacheReader();  // release its bytes
    std::vector<FileState>().swap(cache.entries);
  }

  // Read and chunk what changed; new blobs go into packs.
  std::unique_ptr<BlobIndex> known;
  std::vector<IndexedPack> adopted;
  std::unique_ptr<PackWriter> writer;
  if (!to_read.empty() && !options.dry_run) {
    phase("loading index", 0, 0);
    PROXIMA_ASSIGN_OR_RETURN(known,
                             index_loading.valid() ? index_loading.get() : repo_->LoadBlobIndex());
    adopted = AdoptJournal(*repo_, wd, known.get());
    report.packs_adopted = adopted.size();
    PackWriter::Options wopts;
    wopts.compress = options.compress;
    wopts.uploaders = repo_->store().PreferredConcurrency();
    wopts.max_queued = static_cast<size_t>(wopts.uploaders);
    writer = std::make_unique<PackWriter>(
        repo_, known.get(), wopts, [&wd](const ObjectId& id) { return wd.AppendJournal(id); });
  }
  UniqueFd root(::open(wd.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return ErrnoStatus(errno, "cannot open folder '" + wd.root() + "'");
  Chunker chunker(repo_->config().chunker);
  std::vector<bool> dropped(entries.size(), false);
  std::mutex skipped_mu;
  phase(options.dry_run ? "hashing" : "uploading", to_read.size(), bytes_to_read);
  int threads = options.threads > 0 ? options.threads : DefaultThreads();
  Status read_status = ParallelFor(to_read.size(), threads, [&](size_t k) -> Status {
    size_t i = to_read[k];
    Status s = ReadAndChunkFile(root.get(), &entries[i], chunker, writer.get(), progress_);
    AddFiles(progress_, 1);
    if (s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kNotFound) {
      std::lock_guard guard(skipped_mu);
      report.skipped.push_back({entries[i].path, s.message()});
      dropped[i] = true;
      return Status::Ok();
    }
    return s;
  });
  if (!read_status.ok()) return read_status;  // ~PackWriter stops the uploader
  report.files_read = to_read.size();
  for (size_t i : to_read) report.bytes_read += dropped[i] ? 0 : entries[i].size;

  // Classify what was read against what the cache said, dropping unreadable
  // files (their previous version, if any, stays in the commit).
  {
    for (size_t k = 0; k < to_read.size(); ++k) {
      FileState& e = entries[to_read[k]];
      FileState* old = old_slot[k] < 0 ? nullptr : &olds[static_cast<size_t>(old_slot[k])];
      if (dropped[to_read[k]]) {
        if (old) {
          e = std::move(*old);  // keep the previous version rather than delete it
          dropped[to_read[k]] = false;
        }
        continue;
      }
      if (!old || old->type == EntryType::kDirectory) {
        record(Change::kAdded, e, 0, e.size);
      } else if (!e.SameContent(*old)) {
        record(Change::kModified, e, old->size, e.size);
      }
    }
    std::vector<FileState>().swap(olds);
    size_t kept = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (dropped[i]) continue;
      if (kept != i) entries[kept] = std::move(entries[i]);
      ++kept;
    }
    entries.resize(kept);
    std::sort(report.changed.begin(), report.changed.end(),
              [](const Change& a, const Change& b) { return ComparePaths(a.path, b.path) < 0; });
  }

  std::vector<IndexedPack> packs = std::move(adopted);
  if (writer) {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<IndexedPack> written, writer->Finish());
    report.packs_written = written.size();
    report.changes.bytes_added = writer->bytes_added();
    for (IndexedPack& p : written) packs.push_back(std::move(p));
  }

  // Trees: those not known to exist are written (children first), as deltas
  // against the folder's tree in the head commit where that pays.
  phase("writing trees", 0, 0);
  ObjectId head_tree;
  if (head) {
    PROXIMA_ASSIGN_OR_RETURN(Commit head_commit, repo_->LoadCommit(*head));
    head_tree = head_commit.tree;
  }
  std::unordered_set<ObjectId, Hash256Hasher> known_trees(cache.trees.begin(), cache.trees.end());
  // New trees are stored in parallel batches: each is a small object, and a
  // local store spends most of a small Put creating the file. A network
  // store (a hub, S3) takes more requests in flight than cores.
  TreeWriter tree_writer(repo_, head ? std::optional<ObjectId>(head_tree) : std::nullopt,
                         std::max(threads, repo_->store().PreferredConcurrency()));
  auto emit = [&](const std::string& path, const ObjectId& id, std::string full) -> Status {
    if (options.dry_run || !known_trees.insert(id).second) return Status::Ok();
    return tree_writer.Add({path, id, std::move(full)});
  };
  // Packs are durable before the index that lists them is written; trees
  // and the index before the commit; the commit before the ref.
  auto put_index = [&]() -> Status {
    if (packs.empty()) return Status::Ok();
    return repo_->PutObject(ObjectKind::kIndex, EncodeIndex(packs)).status();
  };
  PROXIMA_ASSIGN_OR_RETURN(BuiltTrees built, BuildTrees(entries, emit));
  report.stats = built.stats;

  // The watcher's token goes with the stat cache, written after it. Not when
  // a file could not be read: the old token makes the next sync look at it
  // again, as a full scan would.
  auto save_token = [&]() -> Status {
    if (!next_token) return Status::Ok();
    for (const SkippedPath& sp : report.skipped) {
      if (sp.reason.rfind("special file", 0) != 0) return Status::Ok();
    }
    return wd.WriteWatchToken(*next_token);
  };
  int64_t now = clock_->NowUnixNanos();
  StatCache next;
  next.entries = std::move(entries);
  next.trees = std::move(built.trees);
  if (options.dry_run || (head && built.root == head_tree)) {
    PROXIMA_RETURN_IF_ERROR(tree_writer.Finish());
    report.trees_written = tree_writer.written();
    report.tree_deltas = tree_writer.deltas();
    report.commit = head_id;
    if (!options.dry_run) {
      // Nothing to commit; remember fresh stat data so the next run is fast.
      next.head = cache.head;
      PROXIMA_RETURN_IF_ERROR(repo_->store().Sync());
      if (!packs.empty()) {
        // The index of packs a killed sync left is durable before the
        // journal that also lists them goes.
        PROXIMA_RETURN_IF_ERROR(put_index());
        PROXIMA_RETURN_IF_ERROR(repo_->store().Sync());
      }
      PROXIMA_RETURN_IF_ERROR(wd.WriteStatCache(next, /*pending=*/false, now));
      PROXIMA_RETURN_IF_ERROR(wd.ClearJournal());
      PROXIMA_RETURN_IF_ERROR(save_token());
    }
    phase("", 0, 0);
    return report;
  }

  Commit commit;
  commit.dataset = dataset;
  commit.tree = built.root;
  if (head) commit.parents.push_back(*head);
  commit.author = options.author;
  commit.message = options.message;
  commit.time_unix_ns = now;
  commit.stats = report.stats;
  commit.changes = report.changes;
  commit.metadata_json = options.metadata_json;
  PROXIMA_ASSIGN_OR_RETURN(std::string commit_bytes, EncodeCommit(commit));
  const ObjectId commit_id = Sha256(commit_bytes);
  // The stat cache of the new commit is written while its trees are stored:
  // it takes effect only when renamed over the old one, after the head moved
  // (a pending one whose commit is not the head is deleted; RecoverPending).
  next.head = commit_id;
  std::future<Status> cache_written = std::async(
      std::launch::async, [&] { return wd.WriteStatCache(next, /*pending=*/true, now); });
  Status trees_stored = tree_writer.Finish();
  Status cache_status = cache_written.get();
  if (!trees_stored.ok() || !cache_status.ok()) {
    ::unlink(wd.StatePath("statcache.pending").c_str());
    return trees_stored.ok() ? cache_status : trees_stored;
  }
  report.trees_written = tree_writer.written();
  report.tree_deltas = tree_writer.deltas();

  phase("committing", 0, 0);
  PROXIMA_RETURN_IF_ERROR(repo_->store().Sync());  // packs and trees
  PROXIMA_RETURN_IF_ERROR(put_index());
  PROXIMA_RETURN_IF_ERROR(repo_->PutObject(ObjectKind::kCommit, commit_bytes).status());
  PROXIMA_RETURN_IF_ERROR(repo_->store().Sync());  // the index and the commit before the ref
  Status cas = refs_->CompareAndSwapRef(dataset, kHeadRef, head, commit_id);
  if (!cas.ok()) {
    ::unlink(wd.StatePath("statcache.pending").c_str());
    if (cas.code() != StatusCode::kAborted) return cas;
    if (!options.rebase) {
      return Status::Aborted("dataset '" + dataset +
                             "' moved on while this sync ran (another sync published first); "
                             "run the sync again");
    }
    phase("rebasing", 0, 0);
    PROXIMA_ASSIGN_OR_RETURN(
        ObjectId merged, RebaseAndPublish(dataset, head, head_tree, commit, next.entries, &report));
    // The folder holds this sync's own commit; 'proxima data checkout' (which
    // the CLI runs next) brings the other sync's changes into it. Until then
    // the folder is simply behind the dataset, which every command handles.
    PROXIMA_RETURN_IF_ERROR(wd.WriteStatCache(next, /*pending=*/false, now));
    PROXIMA_RETURN_IF_ERROR(wd.ClearJournal());
    PROXIMA_RETURN_IF_ERROR(save_token());
    report.committed = true;
    report.folder_commit = commit_id;
    report.commit = merged;
    phase("", 0, 0);
    return report;
  }
  PROXIMA_RETURN_IF_ERROR(wd.PublishPending());
  PROXIMA_RETURN_IF_ERROR(wd.ClearJournal());
  PROXIMA_RETURN_IF_ERROR(save_token());
  report.committed = true;
  report.commit = commit_id;
  phase("", 0, 0);
  return report;
}

Result<ObjectId> Syncer::RebaseAndPublish(const std::string& dataset,
                                          const std::optional<ObjectId>& base,
                                          const ObjectId& base_tree, const Commit& ours,
                                          const std::vector<FileState>& ours_entries,
                                          SyncReport* report) {
  std::vector<FileState> base_entries;
  if (base) PROXIMA_RETURN_IF_ERROR(FlattenTree(*repo_, base_tree, "", &base_entries, nullptr));
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> theirs, refs_->GetRef(dataset, kHeadRef));
    if (!theirs) {
      return Status::FailedPrecondition("the head of dataset '" + dataset +
                                        "' was removed while this sync ran; nothing published");
    }
    PROXIMA_ASSIGN_OR_RETURN(Commit theirs_commit, repo_->LoadCommit(*theirs));
    std::vector<FileState> theirs_entries;
    PROXIMA_RETURN_IF_ERROR(FlattenTree(*repo_, theirs_commit.tree, "", &theirs_entries, nullptr));
    std::vector<std::string> conflicts;
    std::vector<FileState> merged =
        MergeFlat(base_entries, ours_entries, theirs_entries, &conflicts);
    if (!conflicts.empty()) {
      std::string list;
      for (size_t i = 0; i < conflicts.size() && i < 10; ++i) {
        list += (i ? ", " : "") + QuotePath(conflicts[i]);
      }
      if (conflicts.size() > 10) list += " and " + std::to_string(conflicts.size() - 10) + " more";
      return Status::FailedPrecondition(
          "dataset '" + dataset + "' moved on to " + theirs->ShortHex() +
          " while this sync ran, and both changed " + list +
          "; nothing was published. Keep this folder's version with 'proxima data sync "
          "--force', or take the other with 'proxima data checkout --force'");
    }
    // Stored like a sync's trees, as deltas against theirs where that pays.
    TreeWriter writer(repo_, theirs_commit.tree,
                      std::max(DefaultThreads(), repo_->store().PreferredConcurrency()));
    PROXIMA_ASSIGN_OR_RETURN(
        BuiltTrees built,
        BuildTrees(merged, [&](const std::string& path, const ObjectId& id, std::string full) {
          return writer.Add({path, id, std::move(full)});
        }));
    PROXIMA_RETURN_IF_ERROR(writer.Finish());
    report->trees_written += writer.written();
    report->tree_deltas += writer.deltas();
    Commit commit = ours;
    commit.parents = {*theirs};
    commit.tree = built.root;
    commit.stats = built.stats;
    commit.time_unix_ns = clock_->NowUnixNanos();
    PROXIMA_ASSIGN_OR_RETURN(std::string bytes, EncodeCommit(commit));
    PROXIMA_RETURN_IF_ERROR(repo_->store().Sync());  // trees before the commit
    PROXIMA_ASSIGN_OR_RETURN(ObjectId id, repo_->PutObject(ObjectKind::kCommit, bytes));
    PROXIMA_RETURN_IF_ERROR(repo_->store().Sync());  // the commit before the ref
    Status cas = refs_->CompareAndSwapRef(dataset, kHeadRef, theirs, id);
    if (cas.ok()) {
      report->rebased_onto = *theirs;
      report->parent = *theirs;
      report->stats = built.stats;
      return id;
    }
    if (cas.code() != StatusCode::kAborted) return cas;
  }
  return Status::Aborted("dataset '" + dataset + "' kept moving while this sync rebased (" +
                         std::to_string(kAttempts) + " tries); run the sync again");
}

}  // namespace proxima
