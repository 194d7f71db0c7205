#include "proxima/cli/cache_commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "proxima/base/file_util.h"
#include "proxima/base/units.h"
#include "proxima/cli/cache_cli.h"
#include "proxima/cli/detached.h"
#include "proxima/cli/output.h"
#include "proxima/core/cache_janitor.h"
#include "proxima/model/commit.h"

namespace proxima {

namespace {

using namespace cache_cli;  // NOLINT(google-build-using-namespace): the commands' own helpers

constexpr const char* kVolumeHelp = R"(Cache volumes: folders on shared storage next to compute.

A volume holds dataset caches (see 'proxima cache'). Its capacity is the size
of its file system unless set; caches idle longer than the TTL are evicted,
and above the high watermark the least recently used go until usage is below
the low one. Pinned caches and caches with a live lease always stay.

  proxima volume add nfs1 --path /mnt/nfs/proxima --capacity 2T --ttl 1d
  proxima volume show nfs1
)";

constexpr const char* kCacheHelp = R"(Dataset caches: a commit materialized once on a volume.

Files of a cache are read-only hard links into the volume's pool of verified
content, so commits that share files share disk space. A ready cache's path
is stable: <volume>/<dataset>/<commit>.

  proxima cache add xray@v1 --volume nfs1 --wait     fill it, print its path
  proxima cache use xray@v1 --volume nfs1 -- python train.py
                                     holds a lease while the command runs and
                                     passes the path in PROXIMA_DATA_XRAY
  proxima cache ls
  proxima cache gc --volume nfs1 --dry-run
)";

// Starts `proxima cache add SPEC --volume V --wait` detached from this
// terminal, logging to the volume; returns its pid.
Result<pid_t> FillInBackground(CommandContext& ctx, const Target& t, const CacheVolume& vol,
                               const std::string& team) {
  std::string logs = JoinPath(vol.path(), ".proxima/logs");
  PROXIMA_RETURN_IF_ERROR(MakeDirs(logs));
  std::string log = logs + "/" + t.rev.dataset + "@" + t.rev.commit.Hex() + ".log";
  std::string spec = t.rev.dataset + "@" + t.rev.commit.Hex();
  std::vector<std::string> args = {"proxima", "-q",       "cache",       "add",
                                   spec,      "--volume", t.volume.name, "--wait"};
  if (ctx.threads > 0) args.insert(args.begin() + 1, {"-j", std::to_string(ctx.threads)});
  if (!ctx.env.hub_flag.empty()) args.insert(args.begin() + 1, {"--hub", ctx.env.hub_flag});
  return StartDetached(ctx.env.self_exe, std::move(args), {log});
}

int CmdCacheAdd(CommandContext& ctx, const CacheArgs& a) {
  auto t = Resolve(ctx, a.spec, a.volume);
  if (!t.ok()) return ReportError(t.status());
  CacheServices s = Services(ctx);
  if (!a.wait) {
    auto vol = CacheVolume::Open(t->volume);
    if (!vol.ok()) return ReportError(vol.status());
    auto row = RequestCache(s, t->volume, t->rev.dataset, t->rev.commit, FillOptions{a.team});
    if (!row.ok()) return ReportError(row.status());
    std::string path = vol->TreePath(t->rev.dataset, t->rev.commit);
    if (row->state == CacheState::kReady) {
      std::printf("%s\n", path.c_str());
      return 0;
    }
    auto pid = FillInBackground(ctx, *t, *vol, a.team);
    if (!pid.ok()) return ReportError(pid.status());
    if (ctx.json) {
      std::printf("%s\n",
                  json({{"state", "queued"}, {"path", path}, {"pid", *pid}}).dump().c_str());
    } else if (!ctx.quiet) {
      std::printf(
          "%s@%s queued on volume %s: filling in the background (pid %d)\n"
          "  progress: proxima cache show %s@%s --volume %s\n  path when ready: %s\n",
          t->rev.dataset.c_str(), t->rev.commit.ShortHex().c_str(), t->volume.name.c_str(),
          static_cast<int>(*pid), t->rev.dataset.c_str(), t->rev.commit.ShortHex().c_str(),
          t->volume.name.c_str(), path.c_str());
    }
    return 0;
  }
  Result<FillReport> r = Status::Internal("not run");
  {
    ProgressPrinter printer(&ctx.progress, ctx.env.clock, ShowProgress(ctx));
    r = FillCache(s, t->volume, t->rev.dataset, t->rev.commit, FillOptions{a.team});
  }
  if (!r.ok()) return ReportError(r.status());
  if (ctx.json) {
    json j = CacheJson(r->cache, r->path, ctx.env.clock->NowUnixNanos());
    j["filled"] = r->filled;
    j["files_reused"] = r->files_reused;
    j["files_fetched"] = r->files_fetched;
    j["bytes_fetched"] = r->bytes_fetched;
    j["bytes_rehashed"] = r->bytes_rehashed;
    j["copies"] = r->copies;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  if (!ctx.quiet && r->filled) {
    std::fprintf(
        stderr,
        "proxima: cached %s files (%s): %s downloaded, %s files shared with "
        "other caches%s\n",
        Grouped(r->cache.files).c_str(), HumanBytes(r->cache.bytes).c_str(),
        HumanBytes(r->bytes_fetched).c_str(), Grouped(r->files_reused).c_str(),
        r->copies > 0 ? (", " + Grouped(r->copies) + " copied (no hard links)").c_str() : "");
  }
  std::printf("%s\n", r->path.c_str());
  return 0;
}

int CmdCacheLs(CommandContext& ctx, const std::string& volume) {
  if (Status s = ctx.OpenCaches(); !s.ok()) return ReportError(s);
  if (!volume.empty()) {
    if (auto v = ctx.caches().GetVolume(volume); !v.ok()) return ReportError(v.status());
  }
  auto caches = ctx.caches().ListCaches(volume);
  if (!caches.ok()) return ReportError(caches.status());
  auto volumes = ctx.caches().ListVolumes();
  if (!volumes.ok()) return ReportError(volumes.status());
  std::map<std::string, VolumeRecord> by_name;
  for (VolumeRecord& v : *volumes) by_name[v.name] = v;
  int64_t now = ctx.env.clock->NowUnixNanos();
  json out = json::array();
  if (!ctx.json) {
    std::printf("%-12s %-28s %-12s %10s %10s %-14s %s\n", "VOLUME", "DATASET@COMMIT", "STATE",
                "FILES", "SIZE", "LAST USED", "PATH");
  }
  for (const CacheRecord& c : *caches) {
    const VolumeRecord& v = by_name[c.volume];
    std::string path = CachePath(v, c);
    bool stalled = IsStalled(v, c);
    if (ctx.json) {
      json j = CacheJson(c, path, now);
      j["stalled"] = stalled;
      out.push_back(j);
      continue;
    }
    std::printf("%-12s %-28s %-12s %10s %10s %-14s %s\n", c.volume.c_str(), ShortName(c).c_str(),
                StateText(c, false).c_str(), Grouped(c.files).c_str(), HumanBytes(c.bytes).c_str(),
                Ago(now, c.last_used_unix_ns).c_str(),
                c.state == CacheState::kReady    ? path.c_str()
                : stalled                        ? "(stalled: 'proxima cache add' resumes it)"
                : c.state == CacheState::kFailed ? c.reason.c_str()
                                                 : "");
  }
  if (ctx.json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int CmdCacheShow(CommandContext& ctx, const CacheArgs& a) {
  auto t = Resolve(ctx, a.spec, a.volume);
  if (!t.ok()) return ReportError(t.status());
  auto row = ctx.caches().GetCache(a.volume, t->rev.dataset, t->rev.commit);
  if (!row.ok()) return ReportError(row.status());
  if (!row->has_value()) {
    return ReportError(Status::NotFound("no cache of " + t->rev.dataset + "@" +
                                        t->rev.commit.ShortHex() + " on volume '" + a.volume +
                                        "' (add one with 'proxima cache add')"));
  }
  const CacheRecord& c = **row;
  auto leases = ctx.caches().ListLeases(a.volume);
  if (!leases.ok()) return ReportError(leases.status());
  int64_t now = ctx.env.clock->NowUnixNanos();
  std::string path = CachePath(t->volume, c);
  bool stalled = IsStalled(t->volume, c);
  std::vector<const LeaseRecord*> mine;
  for (const LeaseRecord& l : *leases) {
    if (l.dataset == c.dataset && l.commit == c.commit && l.expires_unix_ns > now) {
      mine.push_back(&l);
    }
  }
  if (ctx.json) {
    json j = CacheJson(c, path, now);
    j["stalled"] = stalled;
    j["leases"] = json::array();
    for (const LeaseRecord* l : mine) {
      j["leases"].push_back(
          {{"id", l->id}, {"holder", l->holder}, {"expires", FormatUtc(l->expires_unix_ns)}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("cache      %s@%s on volume %s\n", c.dataset.c_str(), c.commit.Hex().c_str(),
              c.volume.c_str());
  std::printf("state      %s\n", StateText(c, stalled).c_str());
  if (c.state == CacheState::kFilling) {
    std::printf("progress   %s of %s\n", HumanBytes(c.done_bytes).c_str(),
                HumanBytes(c.bytes).c_str());
  }
  if (!c.reason.empty()) {
    std::printf("%-10s %s\n", c.state == CacheState::kFailed ? "reason" : "note", c.reason.c_str());
  }
  std::printf("path       %s%s\n", path.c_str(),
              c.state == CacheState::kReady ? "" : " (once ready)");
  std::printf("files      %s, %s (%s downloaded by its fill)\n", Grouped(c.files).c_str(),
              HumanBytes(c.bytes).c_str(), HumanBytes(c.fetched_bytes).c_str());
  std::printf("created    %s\n", FormatUtc(c.created_unix_ns).c_str());
  std::printf("last used  %s (%s)\n", FormatUtc(c.last_used_unix_ns).c_str(),
              Ago(now, c.last_used_unix_ns).c_str());
  std::printf("pinned     %s\n", c.pinned ? "yes" : "no");
  if (!c.team.empty()) std::printf("team       %s (counts against its quota)\n", c.team.c_str());
  std::printf("readers    %zu\n", mine.size());
  for (const LeaseRecord* l : mine) {
    std::printf("  %s  %s, lease until %s\n", l->id.c_str(), l->holder.c_str(),
                FormatUtc(l->expires_unix_ns).c_str());
  }
  return 0;
}

int CmdCacheRm(CommandContext& ctx, const CacheArgs& a) {
  auto t = Resolve(ctx, a.spec, a.volume);
  if (!t.ok()) return ReportError(t.status());
  CacheServices s = Services(ctx);
  auto r = RemoveCache(s, t->volume, t->rev.dataset, t->rev.commit, a.force);
  if (!r.ok()) return ReportError(r.status());
  if (!ctx.quiet) {
    std::printf("removed %s@%s from volume %s (%s freed)\n", t->rev.dataset.c_str(),
                t->rev.commit.ShortHex().c_str(), a.volume.c_str(), HumanBytes(r->bytes).c_str());
  }
  return 0;
}

int CmdCachePin(CommandContext& ctx, const CacheArgs& a, bool pin) {
  auto t = Resolve(ctx, a.spec, a.volume);
  if (!t.ok()) return ReportError(t.status());
  auto r =
      UpdateCacheRow(ctx.caches(), a.volume, t->rev.dataset, t->rev.commit, [&](CacheRecord& c) {
        if (c.pinned == pin) return false;
        c.pinned = pin;
        return true;
      });
  if (!r.ok()) return ReportError(r.status());
  if (!ctx.quiet) {
    std::printf("%s@%s on volume %s is %s\n", t->rev.dataset.c_str(),
                t->rev.commit.ShortHex().c_str(), a.volume.c_str(),
                pin ? "pinned: eviction leaves it alone" : "no longer pinned");
  }
  return 0;
}

int CmdCacheGc(CommandContext& ctx, const CacheArgs& a) {
  if (Status s = ctx.OpenCaches(); !s.ok()) return ReportError(s);
  auto v = ctx.caches().GetVolume(a.volume);
  if (!v.ok()) return ReportError(v.status());
  CacheServices s = Services(ctx);
  GcOptions options;
  options.dry_run = a.dry_run;
  auto r = CollectGarbage(s, *v, options);
  if (!r.ok()) return ReportError(r.status());
  if (ctx.json) {
    json j = {{"dry_run", a.dry_run},
              {"leases_expired", r->leases_expired},
              {"pool_files_removed", r->pool_files_removed},
              {"pool_bytes_freed", r->pool_bytes_freed},
              {"used_before", r->before.used},
              {"used_after", r->after.used},
              {"kept", r->kept},
              {"evictions", json::array()}};
    for (const Eviction& e : r->evictions) {
      j["evictions"].push_back(
          {{"dataset", e.dataset}, {"commit", e.commit.Hex()}, {"why", e.why}, {"bytes", e.bytes}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  const char* verb = a.dry_run ? "would evict" : "evicted";
  for (const Eviction& e : r->evictions) {
    std::printf("%s %s@%s (%s): %s\n", verb, e.dataset.c_str(), e.commit.ShortHex().c_str(),
                HumanBytes(e.bytes).c_str(), e.why.c_str());
  }
  for (const std::string& k : r->kept) std::printf("kept %s\n", k.c_str());
  std::printf("%s: used %s -> %s of %s%s; %s expired leases collected\n", a.volume.c_str(),
              HumanBytes(r->before.used).c_str(), HumanBytes(r->after.used).c_str(),
              HumanBytes(r->before.capacity).c_str(), a.dry_run ? " (estimated; dry run)" : "",
              Grouped(r->leases_expired).c_str());
  return 0;
}

int CmdCacheVerify(CommandContext& ctx, const CacheArgs& a) {
  auto t = Resolve(ctx, a.spec, a.volume);
  if (!t.ok()) return ReportError(t.status());
  CacheServices s = Services(ctx);
  // A reader like any other: the lease keeps the janitor away meanwhile.
  auto lease = TakeLease(s, t->volume, t->rev.dataset, t->rev.commit,
                         "cache verify (pid " + std::to_string(::getpid()) + ")", 3600 * kSecond);
  if (!lease.ok()) return ReportError(lease.status());
  Result<VerifyReport> r = Status::Internal("not run");
  {
    ProgressPrinter printer(&ctx.progress, ctx.env.clock, ShowProgress(ctx));
    r = VerifyCache(s, t->volume, t->rev.dataset, t->rev.commit);
  }
  IgnoreError(ReleaseLease(s, *lease));
  if (!r.ok()) return ReportError(r.status());
  if (ctx.json) {
    std::printf(
        "%s\n",
        json({{"files", r->files}, {"bytes", r->bytes}, {"damaged", r->damaged}}).dump(2).c_str());
  } else {
    for (const std::string& d : r->damaged) std::printf("damaged: %s\n", d.c_str());
    if (!ctx.quiet || !r->damaged.empty()) {
      std::printf("%s files (%s) checked, %s damaged\n", Grouped(r->files).c_str(),
                  HumanBytes(r->bytes).c_str(), Grouped(r->damaged.size()).c_str());
    }
  }
  if (!r->damaged.empty()) {
    std::fprintf(stderr,
                 "proxima: error: cache %s@%s on volume %s is damaged; 'proxima cache rm' and "
                 "'proxima cache add' fetch it again\n",
                 t->rev.dataset.c_str(), t->rev.commit.ShortHex().c_str(), a.volume.c_str());
    return 1;
  }
  return 0;
}

// The environment variable that carries a dataset's path to a command:
}  // namespace

void AddCacheCommands(CLI::App& app, CommandContext& ctx, int* rc) {
  static CacheArgs a;  // outlives parsing, as the callbacks need
  auto json_flag = [&](CLI::App* cmd) {
    cmd->add_flag("--json", ctx.json, "Print JSON for scripts");
  };
  CLI::App* volume = app.add_subcommand("volume", kVolumeHelp);
  volume->require_subcommand(1);
  CLI::App* vadd = volume->add_subcommand("add", "Register a folder on shared storage as a volume");
  vadd->add_option("NAME", a.name, "Volume name: letters, digits, '.', '_', '-'")->required();
  vadd->add_option("--path", a.path, "The folder (it must exist)")->required();
  vadd->add_option("--capacity", a.capacity,
                   "What caches may use: 500G, 2T, 64Gi (default: the file system's size)");
  vadd->add_option("--ttl", a.ttl, "Evict caches idle this long (default 1d): 12h, 2d, 1w");
  vadd->add_option("--high", a.high, "High watermark, a fraction of the capacity (default 0.9)");
  vadd->add_option("--low", a.low, "Evict down to this fraction (default 0.7)");
  vadd->add_option("--resource", a.resource, "The compute resource it sits next to");
  vadd->callback([&, rc] { *rc = CmdVolumeAdd(ctx, a); });
  CLI::App* vls = volume->add_subcommand("ls", "List volumes with capacity, use and free space");
  json_flag(vls);
  vls->callback([&, rc] { *rc = CmdVolumeLs(ctx); });
  CLI::App* vshow = volume->add_subcommand("show", "A volume's usage, policy and caches");
  vshow->add_option("NAME", a.name, "Volume")->required();
  json_flag(vshow);
  vshow->callback([&, rc] { *rc = CmdVolumeShow(ctx, a.name); });
  CLI::App* vquota =
      volume->add_subcommand("quota", "Limit the bytes a team's caches may commit to a volume");
  vquota->add_option("NAME", a.name, "Volume")->required();
  vquota->add_option("TEAM", a.team, "Team")->required();
  vquota->add_option("SIZE", a.quota, "500G, 2T, 64Gi..., or 'none' to remove the quota")
      ->required();
  vquota->callback([&, rc] { *rc = CmdVolumeQuota(ctx, a); });
  CLI::App* vrm = volume->add_subcommand("rm", "Forget a volume that holds no caches");
  vrm->add_option("NAME", a.name, "Volume")->required();
  vrm->callback([&, rc] { *rc = CmdVolumeRm(ctx, a.name); });

  CLI::App* cache = app.add_subcommand("cache", kCacheHelp);
  cache->require_subcommand(1);
  auto sub = [&](const char* name, const char* help, bool needs_spec = true) {
    CLI::App* cmd = cache->add_subcommand(name, help);
    if (needs_spec) {
      cmd->add_option("NAME[@REV]", a.spec, "Dataset and commit (default: head)")->required();
      cmd->add_option("--volume", a.volume, "The volume")->required();
    }
    return cmd;
  };
  CLI::App* add = sub("add", "Fill a cache of a commit on a volume (in the background)");
  add->add_flag("--wait", a.wait, "Fill it now, with progress, and print its path when ready");
  add->add_option("--team", a.team, "The team it counts against (for the volume's quotas)");
  json_flag(add);
  add->callback([&, rc] { *rc = CmdCacheAdd(ctx, a); });
  CLI::App* ls = sub("ls", "List caches with state, size and last use", false);
  ls->add_option("--volume", a.volume, "Only this volume");
  json_flag(ls);
  ls->callback([&, rc] { *rc = CmdCacheLs(ctx, a.volume); });
  CLI::App* show = sub("show", "A cache's state, progress, path and readers");
  json_flag(show);
  show->callback([&, rc] { *rc = CmdCacheShow(ctx, a); });
  CLI::App* rm = sub("rm", "Evict a cache now");
  rm->add_flag("--force", a.force, "Even while leased (its readers lose their files)");
  rm->callback([&, rc] { *rc = CmdCacheRm(ctx, a); });
  CLI::App* pin = sub("pin", "Keep a cache: eviction leaves it alone");
  pin->callback([&, rc] { *rc = CmdCachePin(ctx, a, true); });
  CLI::App* unpin = sub("unpin", "Let eviction take a cache again");
  unpin->callback([&, rc] { *rc = CmdCachePin(ctx, a, false); });
  CLI::App* use = sub("use", "Run a command with a cache, holding a lease while it runs");
  use->add_option("--lease", a.lease, "Lease length, renewed every third of it (default 5m)");
  use->add_option("COMMAND", a.command, "The command and its arguments, after --")->required();
  use->callback([&, rc] { *rc = CmdCacheUse(ctx, a); });
  CLI::App* gc =
      sub("gc", "Evict idle caches and those above the watermark; free pool files", false);
  gc->add_option("--volume", a.volume, "The volume")->required();
  gc->add_flag("--dry-run", a.dry_run, "Say what would go and why, remove nothing");
  json_flag(gc);
  gc->callback([&, rc] { *rc = CmdCacheGc(ctx, a); });
  CLI::App* verify = sub("verify", "Read every file of a cache and check it against its hash");
  json_flag(verify);
  verify->callback([&, rc] { *rc = CmdCacheVerify(ctx, a); });
}
}  // namespace proxima
