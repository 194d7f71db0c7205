// `proxima volume ...`: cache volumes in the catalog, and their usage.
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "proxima/base/units.h"
#include "proxima/cli/cache_cli.h"
#include "proxima/cli/output.h"
#include "proxima/core/cache_volume.h"
#include "proxima/model/names.h"

namespace proxima::cache_cli {
int CmdVolumeAdd(CommandContext& ctx, const CacheArgs& a) {
  if (Status s = ctx.OpenCaches(); !s.ok()) return ReportError(s);
  VolumeRecord v;
  v.name = a.name;
  if (Status s = ValidateDatasetName(a.name); !s.ok()) {
    return ReportError(Status::InvalidArgument("volume name '" + a.name +
                                               "': use letters, digits, '.', '_' and '-'"));
  }
  char resolved[PATH_MAX];
  if (::realpath(a.path.c_str(), resolved) == nullptr) {
    return ReportError(
        ErrnoStatus(errno, "volume '" + a.name + "': cannot use --path '" + a.path + "'"));
  }
  v.path = resolved;
  v.resource = a.resource;
  if (!a.capacity.empty()) {
    auto cap = ParseByteSize(a.capacity, "--capacity");
    if (!cap.ok()) return ReportError(cap.status());
    v.capacity_bytes = *cap;
  }
  auto ttl = ParseDuration(a.ttl, "--ttl");
  if (!ttl.ok()) return ReportError(ttl.status());
  if (*ttl < 60 * kSecond) {
    return ReportError(Status::InvalidArgument("--ttl: at least 1m (caches idle this long go)"));
  }
  v.ttl_ns = *ttl;
  if (!(a.low > 0 && a.low < a.high && a.high <= 1)) {
    return ReportError(Status::InvalidArgument(
        "watermarks: need 0 < --low < --high <= 1 (fractions of the capacity)"));
  }
  v.high = a.high;
  v.low = a.low;
  v.created_unix_ns = ctx.env.clock->NowUnixNanos();
  auto opened = CacheVolume::Create(v);
  if (!opened.ok()) return ReportError(opened.status());
  if (Status s = ctx.caches().CreateVolume(v); !s.ok()) return ReportError(s);
  auto usage = opened->MeasureUsage();
  if (!ctx.quiet && usage.ok()) {
    std::printf("volume %s at %s: %s capacity, %s free\n", v.name.c_str(), v.path.c_str(),
                HumanBytes(usage->capacity).c_str(), HumanBytes(usage->free).c_str());
  }
  return 0;
}

int CmdVolumeLs(CommandContext& ctx) {
  if (Status s = ctx.OpenCaches(); !s.ok()) return ReportError(s);
  auto volumes = ctx.caches().ListVolumes();
  if (!volumes.ok()) return ReportError(volumes.status());
  json out = json::array();
  if (!ctx.json) {
    std::printf("%-16s %-10s %10s %10s %10s %10s %6s  %s\n", "NAME", "RESOURCE", "CAPACITY", "USED",
                "FREE", "COMMITTED", "CACHES", "PATH");
  }
  for (const VolumeRecord& v : *volumes) {
    auto caches = ctx.caches().ListCaches(v.name);
    size_t n = caches.ok() ? caches->size() : 0;
    uint64_t committed = 0;
    if (caches.ok()) {
      for (const CacheRecord& c : *caches) committed += c.bytes;
    }
    auto vol = CacheVolume::Open(v);
    Result<CacheVolume::Usage> usage =
        vol.ok() ? vol->MeasureUsage() : Result<CacheVolume::Usage>(vol.status());
    if (ctx.json) {
      json j = VolumeJson(v);
      j["caches"] = n;
      j["committed_bytes"] = committed;
      if (usage.ok()) {
        j["usage"] = {{"capacity", usage->capacity},
                      {"used", usage->used},
                      {"free", usage->free},
                      {"pool_bytes", usage->pool_bytes}};
      } else {
        j["error"] = usage.status().message();
      }
      out.push_back(j);
      continue;
    }
    if (usage.ok()) {
      std::printf("%-16s %-10s %10s %10s %10s %10s %6zu  %s\n", v.name.c_str(), v.resource.c_str(),
                  HumanBytes(usage->capacity).c_str(), HumanBytes(usage->used).c_str(),
                  HumanBytes(usage->free).c_str(), HumanBytes(committed).c_str(), n,
                  v.path.c_str());
    } else {
      std::printf("%-16s %-10s %43s %6zu  %s  (%s)\n", v.name.c_str(), v.resource.c_str(),
                  "unreachable here", n, v.path.c_str(), usage.status().message().c_str());
    }
  }
  if (ctx.json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int CmdVolumeShow(CommandContext& ctx, const std::string& name) {
  if (Status s = ctx.OpenCaches(); !s.ok()) return ReportError(s);
  auto v = ctx.caches().GetVolume(name);
  if (!v.ok()) return ReportError(v.status());
  auto vol = CacheVolume::Open(*v);
  if (!vol.ok()) return ReportError(vol.status());
  auto usage = vol->MeasureUsage();
  if (!usage.ok()) return ReportError(usage.status());
  auto caches = ctx.caches().ListCaches(name);
  if (!caches.ok()) return ReportError(caches.status());
  auto leases = ctx.caches().ListLeases(name);
  if (!leases.ok()) return ReportError(leases.status());
  int64_t now = ctx.env.clock->NowUnixNanos();
  std::map<std::string, int> live;
  for (const LeaseRecord& l : *leases) {
    if (l.expires_unix_ns > now) ++live[l.dataset + "@" + l.commit.Hex()];
  }
  std::sort(caches->begin(), caches->end(), [](const CacheRecord& a, const CacheRecord& b) {
    return a.last_used_unix_ns > b.last_used_unix_ns;
  });
  uint64_t committed = 0;
  for (const CacheRecord& c : *caches) committed += c.bytes;
  if (ctx.json) {
    json j = VolumeJson(*v);
    j["usage"] = {{"capacity", usage->capacity},
                  {"used", usage->used},
                  {"free", usage->free},
                  {"pool_bytes", usage->pool_bytes},
                  {"pool_files", usage->pool_files},
                  {"committed_bytes", committed}};
    j["quotas"] = json::array();
    if (auto quotas = ctx.caches().ListQuotas(name); quotas.ok()) {
      for (const QuotaRecord& q : *quotas) {
        j["quotas"].push_back({{"team", q.team}, {"bytes", q.bytes}});
      }
    }
    j["caches"] = json::array();
    for (const CacheRecord& c : *caches) {
      json cj = CacheJson(c, vol->TreePath(c.dataset, c.commit), now);
      cj["leases"] = live[c.dataset + "@" + c.commit.Hex()];
      j["caches"].push_back(cj);
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  constexpr int kBar = 40;
  double used = usage->capacity == 0
                    ? 0
                    : static_cast<double>(usage->used) / static_cast<double>(usage->capacity);
  int filled = std::clamp(static_cast<int>(used * kBar + 0.5), 0, kBar);
  int high_at = std::clamp(static_cast<int>(v->high * kBar), 0, kBar - 1);
  std::string bar;
  for (int i = 0; i < kBar; ++i) bar += i == high_at ? '|' : i < filled ? '#' : '.';
  std::printf("volume    %s  %s  (next to %s)\n", v->name.c_str(), v->path.c_str(),
              v->resource.c_str());
  std::printf("capacity  [%s] %s used\n", bar.c_str(),
              Percent(usage->used, usage->capacity).c_str());
  std::printf("          %s of %s used, %s free%s\n", HumanBytes(usage->used).c_str(),
              HumanBytes(usage->capacity).c_str(), HumanBytes(usage->free).c_str(),
              v->capacity_bytes == 0 ? " (the file system's own figures)" : "");
  std::printf(
      "pool      %s in %s files; caches commit %s (%s saved by sharing)\n",
      HumanBytes(usage->pool_bytes).c_str(), Grouped(usage->pool_files).c_str(),
      HumanBytes(committed).c_str(),
      HumanBytes(committed > usage->pool_bytes ? committed - usage->pool_bytes : 0).c_str());
  std::printf(
      "policy    evict after %s idle; above %s evict down to %s ('|' marks the high "
      "watermark)\n",
      FormatDuration(v->ttl_ns).c_str(),
      Percent(static_cast<uint64_t>(v->high * 1000), 1000).c_str(),
      Percent(static_cast<uint64_t>(v->low * 1000), 1000).c_str());
  auto quotas = ctx.caches().ListQuotas(name);
  if (!quotas.ok()) return ReportError(quotas.status());
  for (const QuotaRecord& q : *quotas) {
    uint64_t team_bytes = 0;
    for (const CacheRecord& c : *caches) {
      if (c.team == q.team && c.state != CacheState::kFailed) team_bytes += c.bytes;
    }
    std::printf("quota     team %s: %s of %s (%s)\n", q.team.c_str(),
                HumanBytes(team_bytes).c_str(), HumanBytes(q.bytes).c_str(),
                Percent(team_bytes, q.bytes).c_str());
  }
  if (caches->empty()) {
    std::printf("caches    none ('proxima cache add NAME@REV --volume %s')\n", v->name.c_str());
    return 0;
  }
  std::printf("caches, most recently used first:\n");
  std::printf("  %-28s %-10s %10s %10s %-14s %s\n", "DATASET@COMMIT", "STATE", "FILES", "SIZE",
              "LAST USED", "HELD BY");
  for (const CacheRecord& c : *caches) {
    int n = live[c.dataset + "@" + c.commit.Hex()];
    std::string held = (c.pinned ? std::string("pin ") : "") +
                       (n > 0 ? std::to_string(n) + (n == 1 ? " lease" : " leases") : "");
    std::printf("  %-28s %-10s %10s %10s %-14s %s\n", ShortName(c).c_str(),
                StateText(c, false).c_str(), Grouped(c.files).c_str(), HumanBytes(c.bytes).c_str(),
                Ago(now, c.last_used_unix_ns).c_str(), held.c_str());
  }
  return 0;
}

int CmdVolumeQuota(CommandContext& ctx, const CacheArgs& a) {
  if (Status s = ctx.OpenCaches(); !s.ok()) return ReportError(s);
  if (Status s = ValidateDatasetName(a.team); !s.ok()) {
    return ReportError(Status::InvalidArgument("team name '" + a.team + "' is not valid"));
  }
  uint64_t bytes = 0;
  if (a.quota != "none") {
    auto parsed = ParseByteSize(a.quota, "quota");
    if (!parsed.ok()) return ReportError(parsed.status());
    if (*parsed == 0)
      return ReportError(Status::InvalidArgument("quota: say 'none' to remove one"));
    bytes = *parsed;
  }
  if (Status s = ctx.caches().PutQuota({a.name, a.team, bytes}); !s.ok()) return ReportError(s);
  if (!ctx.quiet) {
    if (bytes == 0) {
      std::printf("team %s has no quota on volume %s\n", a.team.c_str(), a.name.c_str());
    } else {
      std::printf("team %s may commit %s to caches on volume %s\n", a.team.c_str(),
                  HumanBytes(bytes).c_str(), a.name.c_str());
    }
  }
  return 0;
}

int CmdVolumeRm(CommandContext& ctx, const std::string& name) {
  if (Status s = ctx.OpenCaches(); !s.ok()) return ReportError(s);
  if (Status s = ctx.caches().DeleteVolume(name); !s.ok()) return ReportError(s);
  if (!ctx.quiet) {
    std::printf("volume %s removed from the catalog (its folder is left as it is)\n", name.c_str());
  }
  return 0;
}

}  // namespace proxima::cache_cli
