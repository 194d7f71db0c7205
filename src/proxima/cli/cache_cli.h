#pragma once

// What the volume and cache commands share (not a public header).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "proxima/cli/context.h"
#include "proxima/core/cache_fill.h"
#include "proxima/core/history.h"

namespace proxima::cache_cli {

using nlohmann::json;

inline constexpr int64_t kSecond = 1'000'000'000;

// Where the parsed options of the volume and cache commands land.
struct CacheArgs {
  std::string name, path, resource = "local", capacity, ttl = "1d", volume, spec, lease = "5m";
  std::string team, quota;
  double high = 0.9, low = 0.7;
  bool wait = false, force = false, dry_run = false;
  std::vector<std::string> command;
};

// A volume and a commit, as the command line named them.
struct Target {
  VolumeRecord volume;
  Revision rev;
};

// Opens the catalog and resolves NAME[@REV] and the volume.
Result<Target> Resolve(CommandContext& ctx, const std::string& spec, const std::string& volume);
// The services of the cache operations, with the I/O thread default and
// notes on stderr (unless -q).
CacheServices Services(CommandContext& ctx);
bool ShowProgress(CommandContext& ctx);

std::string ShortName(const CacheRecord& c);  // "xray@3f2a9c1b0d4e"
std::string Ago(int64_t now, int64_t then);   // "3h ago"
std::string Percent(uint64_t part, uint64_t whole);
std::string StateText(const CacheRecord& c, bool stalled);
json VolumeJson(const VolumeRecord& v);
json CacheJson(const CacheRecord& c, const std::string& path, int64_t now);
// <volume>/<dataset>/<commit>
std::string CachePath(const VolumeRecord& volume, const CacheRecord& c);
// A row that says filling while no process fills it: a killed fill.
bool IsStalled(const VolumeRecord& volume, const CacheRecord& c);

// Each returns the process exit code.
int CmdVolumeAdd(CommandContext& ctx, const CacheArgs& a);
int CmdVolumeLs(CommandContext& ctx);
int CmdVolumeShow(CommandContext& ctx, const std::string& name);
int CmdVolumeQuota(CommandContext& ctx, const CacheArgs& a);
int CmdVolumeRm(CommandContext& ctx, const std::string& name);
int CmdCacheUse(CommandContext& ctx, const CacheArgs& a);

}  // namespace proxima::cache_cli
