#include <pwd.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "proxima/base/parallel.h"
#include "proxima/cli/change_output.h"
#include "proxima/cli/data_commands.h"
#include "proxima/cli/output.h"
#include "proxima/core/history.h"
#include "proxima/core/restore.h"
#include "proxima/core/sync.h"
#include "proxima/model/names.h"

namespace proxima {

using nlohmann::json;

namespace {

std::string DefaultAuthor() {
  if (const char* a = std::getenv("PROXIMA_AUTHOR"); a && *a) return a;
  const char* user = std::getenv("USER");
  if (user == nullptr || *user == '\0') {
    const struct passwd* pw = getpwuid(getuid());
    user = pw != nullptr ? pw->pw_name : nullptr;
  }
  char host[HOST_NAME_MAX + 1] = "localhost";
  gethostname(host, sizeof(host));
  return std::string(user && *user ? user : "unknown") + "@" + host;
}

// Prints skipped paths; returns 3 when some files could not be read.
int ReportSkipped(const CommandContext& ctx, const std::vector<SkippedPath>& skipped) {
  bool unreadable = false;
  for (const SkippedPath& s : skipped) {
    if (s.reason.rfind("special file", 0) != 0) unreadable = true;
  }
  if (skipped.empty()) return 0;
  if (ctx.verbose || skipped.size() <= 10) {
    for (const SkippedPath& s : skipped) {
      std::fprintf(stderr, "proxima: warning: skipped %s: %s\n", QuotePath(s.path).c_str(),
                   s.reason.c_str());
    }
  } else {
    std::fprintf(stderr,
                 "proxima: warning: skipped %zu paths (special files or unreadable; list them "
                 "with --verbose)\n",
                 skipped.size());
  }
  return unreadable ? 3 : 0;
}

json PhasesJson(const SyncReport& r) {
  json out = json::object();
  for (const auto& [name, secs] : r.phase_seconds) out[name] = secs;
  return out;
}

void PrintPhases(const SyncReport& r) {
  if (r.scan == "watch") {
    std::printf("Looked at the %llu paths the folder's watcher saw change.\n",
                static_cast<unsigned long long>(r.watched_paths));
  } else if (!r.scan_note.empty()) {
    std::printf("Scanned every file: %s.\n", r.scan_note.c_str());
  }
  std::string line = "Time by phase:";
  for (const auto& [name, secs] : r.phase_seconds) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), " %s %.2fs,", name.c_str(), secs);
    line += buf;
  }
  line.pop_back();
  std::printf("%s\n", line.c_str());
}

json SkippedJson(const std::vector<SkippedPath>& skipped) {
  json out = json::array();
  for (const SkippedPath& s : skipped)
    out.push_back({{"path", JsonPath(s.path)}, {"reason", s.reason}});
  return out;
}

}  // namespace

int CmdInit(CommandContext& ctx, const std::string& name, const std::string& dir) {
  if (Status s = ValidateDatasetName(name); !s.ok()) return ReportError(s);
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  auto exists = ctx.refs().DatasetExists(name);
  if (!exists.ok()) return ReportError(exists.status());
  if (!*exists) {
    Status s = ctx.refs().CreateDataset(name, ctx.env.clock->NowUnixNanos());
    if (!s.ok() && !s.IsAlreadyExists()) return ReportError(s);
  }
  auto head = ctx.refs().GetRef(name, kHeadRef);
  if (!head.ok()) return ReportError(head.status());
  auto wd = WorkDir::Bind(dir, name, head->value_or(ObjectId()));
  if (!wd.ok()) return ReportError(wd.status());
  if (!ctx.quiet) {
    std::printf("Bound '%s' to %s dataset '%s'%s. Run 'proxima data sync' there to upload it.\n",
                wd->root().c_str(), *exists ? "existing" : "new", name.c_str(),
                *head ? (" (head " + (*head)->ShortHex() + ")").c_str() : "");
  }
  return 0;
}

int CmdSync(CommandContext& ctx, const SyncArgs& args) {
  auto wd = WorkDir::Find(ctx.dir);
  if (!wd.ok()) return ReportError(wd.status());
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  SyncOptions opts;
  opts.message = args.message.empty() ? "sync" : args.message;
  opts.author = DefaultAuthor();
  opts.metadata_json = args.metadata;
  opts.force = args.force;
  opts.threads = ctx.threads;
  opts.compress = args.compress;
  opts.list_changes = ctx.verbose;
  std::unique_ptr<ChangeFeed> feed;
  if (!args.full_scan) feed = FolderChangeFeed(ctx, *wd);
  opts.change_feed = feed.get();
  int64_t start = ctx.env.clock->MonotonicNanos();
  Syncer syncer(&ctx.repo(), &ctx.refs(), ctx.env.clock, &ctx.progress);
  Result<SyncReport> report = [&] {
    ProgressPrinter printer(&ctx.progress, ctx.env.clock, ctx.env.stderr_is_tty && !ctx.quiet);
    return syncer.Run(*wd, opts);
  }();
  if (!report.ok()) return ReportError(report.status());
  const SyncReport& r = *report;
  // Another sync published first and this one was rebased onto it: bring
  // its changes into the folder too, so that folder and head agree again.
  std::string rebase_note;
  if (!r.rebased_onto.IsZero()) {
    Result<RestoreReport> pulled = CheckoutCommit(ctx.repo(), ctx.refs(), *ctx.env.clock, *wd,
                                                  r.commit, /*force=*/false, ctx.threads, nullptr);
    rebase_note = "Another sync had published " + r.rebased_onto.ShortHex() +
                  " meanwhile; this one was rebased onto it (they changed different paths)";
    if (pulled.ok()) {
      rebase_note += ", and its changes were brought into the folder (" +
                     Grouped(pulled->files_written) + " written, " +
                     Grouped(pulled->files_removed) + " removed).";
    } else {
      rebase_note += ". The folder still lacks its changes (" + pulled.status().message() +
                     "); run 'proxima data checkout' there.";
    }
  }
  double secs = static_cast<double>(ctx.env.clock->MonotonicNanos() - start) / 1e9;
  int rc = ReportSkipped(ctx, r.skipped);
  if (ctx.json) {
    json out = {{"dataset", wd->dataset()},
                {"committed", r.committed},
                {"commit", r.commit.IsZero() ? "" : r.commit.Hex()},
                {"parent", r.parent.IsZero() ? "" : r.parent.Hex()},
                {"rebased_onto", r.rebased_onto.IsZero() ? "" : r.rebased_onto.Hex()},
                {"files", r.stats.files},
                {"bytes", r.stats.bytes},
                {"added", r.changes.added},
                {"modified", r.changes.modified},
                {"deleted", r.changes.deleted},
                {"bytes_added", r.changes.bytes_added},
                {"files_read", r.files_read},
                {"bytes_read", r.bytes_read},
                {"packs_written", r.packs_written},
                {"packs_adopted", r.packs_adopted},
                {"trees_written", r.trees_written},
                {"tree_deltas", r.tree_deltas},
                {"scan", r.scan},
                {"watched_paths", r.watched_paths},
                {"scan_note", r.scan_note},
                {"seconds", secs},
                {"phases", PhasesJson(r)},
                {"skipped", SkippedJson(r.skipped)}};
    std::printf("%s\n", out.dump(2).c_str());
    return rc;
  }
  if (ctx.quiet) return rc;
  if (ctx.verbose) {
    for (const Change& c : r.changed) PrintChange(c);
    PrintPhases(r);
  }
  if (!rebase_note.empty()) std::printf("%s\n", rebase_note.c_str());
  if (r.packs_adopted > 0) {
    std::printf("Resumed an interrupted sync: reused %llu packs it had uploaded.\n",
                static_cast<unsigned long long>(r.packs_adopted));
  }
  if (!r.committed) {
    std::printf("Nothing to commit: '%s' matches %s@%s (%s files, %s).\n", wd->root().c_str(),
                wd->dataset().c_str(), r.commit.ShortHex().c_str(), Grouped(r.stats.files).c_str(),
                HumanBytes(r.stats.bytes).c_str());
    return rc;
  }
  std::printf(
      "Committed %s@%s: %s added, %s modified, %s deleted; %s files, %s in all.\n"
      "Read %s files (%s), stored %s of new content in %llu packs, in %.1f s.\n",
      wd->dataset().c_str(), r.commit.ShortHex().c_str(), Grouped(r.changes.added).c_str(),
      Grouped(r.changes.modified).c_str(), Grouped(r.changes.deleted).c_str(),
      Grouped(r.stats.files).c_str(), HumanBytes(r.stats.bytes).c_str(),
      Grouped(r.files_read).c_str(), HumanBytes(r.bytes_read).c_str(),
      HumanBytes(r.changes.bytes_added).c_str(), static_cast<unsigned long long>(r.packs_written),
      secs);
  return rc;
}

int CmdStatus(CommandContext& ctx, bool full_scan) {
  auto wd = WorkDir::Find(ctx.dir);
  if (!wd.ok()) return ReportError(wd.status());
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  SyncOptions opts;
  opts.dry_run = true;
  opts.threads = ctx.threads;
  std::unique_ptr<ChangeFeed> feed;
  if (!full_scan) feed = FolderChangeFeed(ctx, *wd);
  opts.change_feed = feed.get();
  Syncer syncer(&ctx.repo(), &ctx.refs(), ctx.env.clock, &ctx.progress);
  Result<SyncReport> report = [&] {
    ProgressPrinter printer(&ctx.progress, ctx.env.clock, ctx.env.stderr_is_tty && !ctx.quiet);
    return syncer.Run(*wd, opts);
  }();
  if (!report.ok()) return ReportError(report.status());
  const SyncReport& r = *report;
  if (ctx.json) {
    json changes = json::array();
    for (const Change& c : r.changed) changes.push_back(ChangeJson(c));
    json out = {{"dataset", wd->dataset()},
                {"head", r.folder_head.IsZero() ? "" : r.folder_head.Hex()},
                {"dataset_head", r.dataset_head.IsZero() ? "" : r.dataset_head.Hex()},
                {"clean", r.changed.empty()},
                {"changes", changes},
                {"files_read", r.files_read},
                {"scan", r.scan},
                {"watched_paths", r.watched_paths},
                {"scan_note", r.scan_note},
                {"skipped", SkippedJson(r.skipped)}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  ReportSkipped(ctx, r.skipped);
  if (r.folder_head != r.dataset_head) {
    std::printf(
        "The folder is at %s; dataset '%s' has moved on to %s. A sync commits the changes "
        "below on top of it, unless it changed the same paths ('proxima data checkout' brings "
        "the folder up to date).\n",
        r.folder_head.IsZero() ? "(no commit)" : r.folder_head.ShortHex().c_str(),
        wd->dataset().c_str(), r.dataset_head.ShortHex().c_str());
  }
  for (const Change& c : r.changed) PrintChange(c);
  if (r.changed.empty()) {
    std::printf("Nothing to sync: '%s' matches %s@%s.\n", wd->root().c_str(), wd->dataset().c_str(),
                r.folder_head.IsZero() ? "(no commits yet)" : r.folder_head.ShortHex().c_str());
  } else {
    std::printf("%s added, %s modified, %s deleted. Run 'proxima data sync' to commit.\n",
                Grouped(r.changes.added).c_str(), Grouped(r.changes.modified).c_str(),
                Grouped(r.changes.deleted).c_str());
  }
  return 0;
}

int CmdClone(CommandContext& ctx, const std::string& spec, const std::string& dest) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  auto rev = ResolveRevision(ctx.repo(), ctx.refs(), spec);
  if (!rev.ok()) return ReportError(rev.status());
  int64_t start = ctx.env.clock->MonotonicNanos();
  char abs[PATH_MAX];
  std::string target = dest;
  if (dest.empty() || dest[0] != '/') {
    if (getcwd(abs, sizeof(abs)) == nullptr) return ReportError(ErrnoStatus(errno, "getcwd"));
    target = std::string(abs) + "/" + dest;
  }
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  Result<RestoreReport> report = [&] {
    ProgressPrinter printer(&ctx.progress, ctx.env.clock, ctx.env.stderr_is_tty && !ctx.quiet);
    return CloneCommit(ctx.repo(), *ctx.env.clock, rev->dataset, rev->commit, target,
                       ctx.threads > 0 ? ctx.threads : DefaultThreads(), &ctx.progress);
  }();
  if (!report.ok()) return ReportError(report.status());
  double secs = static_cast<double>(ctx.env.clock->MonotonicNanos() - start) / 1e9;
  if (ctx.json) {
    json out = {
        {"dataset", rev->dataset},        {"commit", rev->commit.Hex()},    {"dir", target},
        {"files", report->files_written}, {"bytes", report->bytes_written}, {"seconds", secs}};
    std::printf("%s\n", out.dump(2).c_str());
  } else if (!ctx.quiet) {
    std::printf("Cloned %s@%s into '%s': %s files, %s, verified, in %.1f s.\n",
                rev->dataset.c_str(), rev->commit.ShortHex().c_str(), target.c_str(),
                Grouped(report->files_written).c_str(), HumanBytes(report->bytes_written).c_str(),
                secs);
  }
  return 0;
}

int CmdCheckout(CommandContext& ctx, const std::string& rev_arg, bool force) {
  auto wd = WorkDir::Find(ctx.dir);
  if (!wd.ok()) return ReportError(wd.status());
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  std::string spec = rev_arg;
  if (rev_arg.empty() || rev_arg == wd->dataset()) {
    spec = wd->dataset();
  } else if (rev_arg.find('@') == std::string::npos) {
    spec = wd->dataset() + "@" + rev_arg;  // a commit id or tag of the folder's dataset
  }
  auto rev = ResolveRevision(ctx.repo(), ctx.refs(), spec);
  if (!rev.ok()) return ReportError(rev.status());
  if (rev->dataset != wd->dataset()) {
    return ReportError(Status::InvalidArgument("folder '" + wd->root() + "' is bound to dataset '" +
                                               wd->dataset() + "', not '" + rev->dataset + "'"));
  }
  Result<RestoreReport> report = [&] {
    ProgressPrinter printer(&ctx.progress, ctx.env.clock, ctx.env.stderr_is_tty && !ctx.quiet);
    return CheckoutCommit(ctx.repo(), ctx.refs(), *ctx.env.clock, *wd, rev->commit, force,
                          ctx.threads > 0 ? ctx.threads : DefaultThreads(), &ctx.progress);
  }();
  if (!report.ok()) return ReportError(report.status());
  for (const std::string& note : report->notes) {
    std::fprintf(stderr, "proxima: note: %s\n", note.c_str());
  }
  if (!ctx.quiet) {
    std::printf("'%s' is now at %s@%s: %s files written (%s), %s removed.\n", wd->root().c_str(),
                rev->dataset.c_str(), rev->commit.ShortHex().c_str(),
                Grouped(report->files_written).c_str(), HumanBytes(report->bytes_written).c_str(),
                Grouped(report->files_removed).c_str());
  }
  return 0;
}

int CmdTag(CommandContext& ctx, const std::string& spec, const std::string& tag) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  auto rev = ResolveRevision(ctx.repo(), ctx.refs(), spec);
  if (!rev.ok()) return ReportError(rev.status());
  if (Status s = CreateTag(ctx.refs(), *rev, tag); !s.ok()) return ReportError(s);
  if (!ctx.quiet) {
    std::printf("Tagged %s@%s as '%s'.\n", rev->dataset.c_str(), rev->commit.ShortHex().c_str(),
                tag.c_str());
  }
  return 0;
}

}  // namespace proxima
