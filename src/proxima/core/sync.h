#pragma once

#include <string>
#include <vector>

#include "proxima/core/progress.h"
#include "proxima/core/repository.h"
#include "proxima/core/scanner.h"
#include "proxima/core/workdir.h"
#include "proxima/ports/change_feed.h"
#include "proxima/ports/clock.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

struct SyncOptions {
  std::string message;
  std::string author;
  std::string metadata_json = "{}";
  // Commit the folder's content on top of the dataset head even when the
  // folder was last synced to an older commit (someone else synced since).
  bool force = false;
  // Report what a sync would do; store nothing, change nothing (status).
  bool dry_run = false;
  int threads = 0;  // 0: DefaultThreads()
  bool compress = false;
  // Fill SyncReport::changed with every change (counts are always kept).
  bool list_changes = true;
  // When another sync publishes first, rebase onto it if the two touched
  // different paths (otherwise fail, naming the paths in conflict).
  bool rebase = true;
  // The folder's watcher (nullptr: none): when it vouches for what changed
  // since the last sync, only those paths are looked at (ScanChanged) instead
  // of every file. Not owned.
  ChangeFeed* change_feed = nullptr;
};

struct Change {
  enum Kind : char { kAdded = 'A', kModified = 'M', kDeleted = 'D' };
  Kind kind;
  std::string path;
  EntryType type = EntryType::kFile;
  uint64_t old_size = 0;
  uint64_t new_size = 0;
};

struct SyncReport {
  bool committed = false;
  ObjectId commit;        // the new commit, or the unchanged head
  ObjectId parent;        // zero for a dataset's first commit
  ObjectId folder_head;   // the commit the folder was last synced to or checked out
  ObjectId dataset_head;  // the dataset's head when the sync started
  CommitStats stats;
  CommitChanges changes;
  std::vector<Change> changed;  // walk order; only with list_changes
  std::vector<SkippedPath> skipped;
  uint64_t files_read = 0;
  uint64_t bytes_read = 0;
  uint64_t packs_written = 0;
  uint64_t trees_written = 0;
  uint64_t tree_deltas = 0;    // of trees_written, stored as deltas
  uint64_t packs_adopted = 0;  // from a sync that was killed
  // Set when another sync published first and this one was rebased onto its
  // commit: `commit` then holds both, while the folder still matches
  // `folder_commit` (its own changes on the old head) until it is checked
  // out at `commit`.
  ObjectId rebased_onto;
  ObjectId folder_commit;
  // How the folder was looked at: "full" (every entry), or "watch" (only
  // the `watched_paths` the change feed reported). `scan_note` says why a
  // sync with a change feed still scanned everything.
  std::string scan = "full";
  uint64_t watched_paths = 0;
  std::string scan_note;
  // Wall time of each phase, in order: where a sync spends its time.
  std::vector<std::pair<std::string, double>> phase_seconds;
};

// `proxima data sync` and `status`: scans a bound folder, reads only what the
// stat cache cannot vouch for, uploads new blobs, writes trees and a commit in
// the documented order and moves the dataset head by compare-and-swap.
// A failure at any step publishes nothing; a killed sync is finished by the
// next one (its packs are adopted from the journal).
class Syncer {
 public:
  Syncer(Repository* repo, RefStore* refs, Clock* clock, Progress* progress)
      : repo_(repo), refs_(refs), clock_(clock), progress_(progress) {}

  Result<SyncReport> Run(const WorkDir& wd, const SyncOptions& options);

 private:
  // Merges `ours` (a commit made on `base`, whose entries are `ours_entries`)
  // onto the dataset's current head and publishes the result, retrying if
  // the head moves again. FailedPrecondition naming the paths when both
  // changed the same ones.
  Result<ObjectId> RebaseAndPublish(const std::string& dataset, const std::optional<ObjectId>& base,
                                    const ObjectId& base_tree, const Commit& ours,
                                    const std::vector<FileState>& ours_entries, SyncReport* report);

  Repository* repo_;
  RefStore* refs_;
  Clock* clock_;
  Progress* progress_;
};

}  // namespace proxima
