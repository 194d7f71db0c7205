#include <cstdio>
#include <nlohmann/json.hpp>

#include "proxima/cli/change_output.h"
#include "proxima/cli/data_commands.h"
#include "proxima/cli/output.h"
#include "proxima/core/diff.h"
#include "proxima/core/fsck.h"
#include "proxima/core/history.h"
#include "proxima/model/names.h"

namespace proxima {

using nlohmann::json;

namespace {

json CommitJson(const ObjectId& id, const Commit& c) {
  json parents = json::array();
  for (const ObjectId& p : c.parents) parents.push_back(p.Hex());
  return {{"id", id.Hex()},
          {"dataset", c.dataset},
          {"tree", c.tree.Hex()},
          {"parents", parents},
          {"author", c.author},
          {"message", c.message},
          {"time", FormatUtc(c.time_unix_ns)},
          {"files", c.stats.files},
          {"bytes", c.stats.bytes},
          {"dirs", c.stats.dirs},
          {"symlinks", c.stats.symlinks},
          {"added", c.changes.added},
          {"modified", c.changes.modified},
          {"deleted", c.changes.deleted},
          {"bytes_added", c.changes.bytes_added},
          {"metadata", json::parse(c.metadata_json)},
          {"lineage", json::parse(c.lineage_json)}};
}

}  // namespace

int CmdLog(CommandContext& ctx, const std::string& spec, size_t limit) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  auto rev = ResolveRevision(ctx.repo(), ctx.refs(), spec);
  if (!rev.ok()) return ReportError(rev.status());
  auto log = CommitLog(ctx.repo(), rev->commit, limit);
  if (!log.ok()) return ReportError(log.status());
  if (ctx.json) {
    json out = json::array();
    for (const LogEntry& e : *log) out.push_back(CommitJson(e.id, e.commit));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  for (const LogEntry& e : *log) {
    const Commit& c = e.commit;
    std::printf("%s  %s  %-20s %10s files %10s  +%s ~%s -%s  %s\n", e.id.ShortHex().c_str(),
                FormatUtc(c.time_unix_ns).c_str(), c.author.c_str(), Grouped(c.stats.files).c_str(),
                HumanBytes(c.stats.bytes).c_str(), Grouped(c.changes.added).c_str(),
                Grouped(c.changes.modified).c_str(), Grouped(c.changes.deleted).c_str(),
                c.message.c_str());
  }
  return 0;
}

int CmdLs(CommandContext& ctx, const std::string& spec, const std::string& path) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  auto rev = ResolveRevision(ctx.repo(), ctx.refs(), spec);
  if (!rev.ok()) return ReportError(rev.status());
  auto commit = ctx.repo().LoadCommit(rev->commit);
  if (!commit.ok()) return ReportError(commit.status());
  auto entries = ListPath(ctx.repo(), commit->tree, path);
  if (!entries.ok()) {
    return ReportError(entries.status().WithContext(rev->dataset + "@" + rev->commit.ShortHex()));
  }
  if (ctx.json) {
    json out = json::array();
    for (const TreeEntry& e : *entries) {
      json j = {{"name", JsonPath(e.name)},
                {"type", EntryTypeName(e.type)},
                {"mode", e.mode},
                {"size", e.size}};
      if (e.type == EntryType::kDirectory) j["files"] = e.file_count;
      if (e.type == EntryType::kSymlink) j["target"] = JsonPath(e.target);
      out.push_back(j);
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  for (const TreeEntry& e : *entries) {
    std::string extra;
    if (e.type == EntryType::kDirectory) extra = "  (" + Grouped(e.file_count) + " files)";
    if (e.type == EntryType::kSymlink) extra = " -> " + QuotePath(e.target);
    std::printf("%s %12s  %s%s%s\n", ModeString(e.type, e.mode).c_str(), HumanBytes(e.size).c_str(),
                QuotePath(e.name).c_str(), e.type == EntryType::kDirectory ? "/" : "",
                extra.c_str());
  }
  return 0;
}

int CmdDiff(CommandContext& ctx, const std::string& a, const std::string& b) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  auto ra = ResolveRevision(ctx.repo(), ctx.refs(), a);
  if (!ra.ok()) return ReportError(ra.status());
  auto rb = ResolveRevision(ctx.repo(), ctx.refs(), b);
  if (!rb.ok()) return ReportError(rb.status());
  auto ca = ctx.repo().LoadCommit(ra->commit);
  if (!ca.ok()) return ReportError(ca.status());
  auto cb = ctx.repo().LoadCommit(rb->commit);
  if (!cb.ok()) return ReportError(cb.status());
  auto changes = DiffTrees(ctx.repo(), ca->tree, cb->tree);
  if (!changes.ok()) return ReportError(changes.status());
  uint64_t added = 0, modified = 0, deleted = 0, bytes_in = 0, bytes_out = 0;
  for (const Change& c : *changes) {
    if (c.kind == Change::kAdded) ++added;
    if (c.kind == Change::kModified) ++modified;
    if (c.kind == Change::kDeleted) ++deleted;
    bytes_in += c.new_size;
    bytes_out += c.old_size;
  }
  if (ctx.json) {
    json list = json::array();
    for (const Change& c : *changes) list.push_back(ChangeJson(c));
    json out = {{"from", ra->commit.Hex()}, {"to", rb->commit.Hex()}, {"added", added},
                {"modified", modified},     {"deleted", deleted},     {"changes", list}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  for (const Change& c : *changes) PrintChange(c);
  std::printf("%s added, %s modified, %s deleted (%s -> %s)\n", Grouped(added).c_str(),
              Grouped(modified).c_str(), Grouped(deleted).c_str(), HumanBytes(bytes_out).c_str(),
              HumanBytes(bytes_in).c_str());
  return 0;
}

int CmdShow(CommandContext& ctx, const std::string& spec) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  auto rev = ResolveRevision(ctx.repo(), ctx.refs(), spec);
  if (!rev.ok()) return ReportError(rev.status());
  auto c = ctx.repo().LoadCommit(rev->commit);
  if (!c.ok()) return ReportError(c.status());
  if (ctx.json) {
    std::printf("%s\n", CommitJson(rev->commit, *c).dump(2).c_str());
    return 0;
  }
  std::printf("commit   %s\n", rev->commit.Hex().c_str());
  std::printf("dataset  %s\n", c->dataset.c_str());
  for (const ObjectId& p : c->parents) std::printf("parent   %s\n", p.Hex().c_str());
  std::printf("author   %s\n", c->author.c_str());
  std::printf("date     %s\n", FormatUtc(c->time_unix_ns).c_str());
  std::printf("tree     %s\n", c->tree.Hex().c_str());
  std::printf("content  %s files, %s folders, %s links, %s\n", Grouped(c->stats.files).c_str(),
              Grouped(c->stats.dirs).c_str(), Grouped(c->stats.symlinks).c_str(),
              HumanBytes(c->stats.bytes).c_str());
  std::printf("changes  %s added, %s modified, %s deleted, %s new content stored\n",
              Grouped(c->changes.added).c_str(), Grouped(c->changes.modified).c_str(),
              Grouped(c->changes.deleted).c_str(), HumanBytes(c->changes.bytes_added).c_str());
  if (c->metadata_json != "{}") std::printf("metadata %s\n", c->metadata_json.c_str());
  std::printf("\n    %s\n", c->message.c_str());
  return 0;
}

int CmdList(CommandContext& ctx) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  auto datasets = ctx.refs().ListDatasets();
  if (!datasets.ok()) return ReportError(datasets.status());
  json out = json::array();
  if (!ctx.json && !datasets->empty()) {
    std::printf("%-24s %-14s %12s %12s  %s\n", "DATASET", "HEAD", "FILES", "SIZE", "UPDATED");
  }
  for (const DatasetRecord& d : *datasets) {
    auto head = ctx.refs().GetRef(d.name, kHeadRef);
    if (!head.ok()) return ReportError(head.status());
    Commit c;
    if (*head) {
      auto loaded = ctx.repo().LoadCommit(**head);
      if (!loaded.ok()) return ReportError(loaded.status());
      c = *loaded;
    }
    if (ctx.json) {
      out.push_back({{"name", d.name},
                     {"head", *head ? (*head)->Hex() : ""},
                     {"files", c.stats.files},
                     {"bytes", c.stats.bytes},
                     {"updated", *head ? FormatUtc(c.time_unix_ns) : ""},
                     {"created", FormatUtc(d.created_unix_ns)}});
    } else {
      std::printf("%-24s %-14s %12s %12s  %s\n", d.name.c_str(),
                  *head ? (*head)->ShortHex().c_str() : "(empty)", Grouped(c.stats.files).c_str(),
                  HumanBytes(c.stats.bytes).c_str(),
                  *head ? FormatUtc(c.time_unix_ns).c_str() : "-");
    }
  }
  if (ctx.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else if (datasets->empty()) {
    std::printf("No datasets yet. Create one with 'proxima data init NAME DIR'.\n");
  }
  return 0;
}

int CmdFsck(CommandContext& ctx, bool read_data) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  Result<FsckReport> report = [&] {
    ProgressPrinter printer(&ctx.progress, ctx.env.clock, ctx.env.stderr_is_tty && !ctx.quiet);
    return CheckStore(ctx.repo(), ctx.refs(), read_data, ctx.threads > 0 ? ctx.threads : 4,
                      &ctx.progress);
  }();
  if (!report.ok()) return ReportError(report.status());
  const FsckReport& r = *report;
  if (ctx.json) {
    json out = {{"ok", r.problems.empty()},
                {"refs", r.refs},
                {"commits", r.commits},
                {"trees", r.trees},
                {"blobs", r.blobs},
                {"packs", r.packs},
                {"bytes_verified", r.bytes_verified},
                {"problems", r.problems}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    for (const std::string& n : r.notes) std::printf("note: %s\n", n.c_str());
    for (const std::string& p : r.problems) std::printf("problem: %s\n", p.c_str());
    std::printf("%s: %s refs, %s commits, %s trees, %s blobs in %s packs%s.\n",
                r.problems.empty() ? "Store is healthy" : "Store has problems",
                Grouped(r.refs).c_str(), Grouped(r.commits).c_str(), Grouped(r.trees).c_str(),
                Grouped(r.blobs).c_str(), Grouped(r.packs).c_str(),
                read_data ? (", " + HumanBytes(r.bytes_verified) + " verified").c_str() : "");
  }
  return r.problems.empty() ? 0 : 1;
}

}  // namespace proxima
