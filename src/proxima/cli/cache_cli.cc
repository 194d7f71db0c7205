#include "proxima/cli/cache_cli.h"

#include <algorithm>
#include <cstdio>

#include "proxima/base/file_util.h"
#include "proxima/base/parallel.h"
#include "proxima/base/units.h"
#include "proxima/model/commit.h"

namespace proxima::cache_cli {

std::string ShortName(const CacheRecord& c) { return c.dataset + "@" + c.commit.ShortHex(); }

std::string Ago(int64_t now, int64_t then) {
  if (then <= 0) return "never";
  return FormatDuration(std::max<int64_t>(0, now - then)) + " ago";
}

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%.0f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

std::string StateText(const CacheRecord& c, bool stalled) {
  std::string s(CacheStateName(c.state));
  if (c.state == CacheState::kFilling) {
    s += " " + Percent(c.done_bytes, c.bytes);
    if (stalled) s += " (stalled: its fill stopped; 'proxima cache add' resumes it)";
  }
  return s;
}

json VolumeJson(const VolumeRecord& v) {
  return {{"name", v.name},
          {"path", v.path},
          {"resource", v.resource},
          {"capacity_bytes", v.capacity_bytes},
          {"ttl_seconds", v.ttl_ns / kSecond},
          {"high", v.high},
          {"low", v.low}};
}

json CacheJson(const CacheRecord& c, const std::string& path, int64_t now) {
  return {{"volume", c.volume},
          {"dataset", c.dataset},
          {"commit", c.commit.Hex()},
          {"state", CacheStateName(c.state)},
          {"path", path},
          {"files", c.files},
          {"bytes", c.bytes},
          {"done_bytes", c.done_bytes},
          {"fetched_bytes", c.fetched_bytes},
          {"reason", c.reason},
          {"pinned", c.pinned},
          {"team", c.team},
          {"created", FormatUtc(c.created_unix_ns)},
          {"last_used", FormatUtc(c.last_used_unix_ns)},
          {"idle_seconds", (now - c.last_used_unix_ns) / kSecond}};
}

Result<Target> Resolve(CommandContext& ctx, const std::string& spec, const std::string& volume) {
  PROXIMA_RETURN_IF_ERROR(ctx.OpenCaches());
  Target t;
  PROXIMA_ASSIGN_OR_RETURN(t.volume, ctx.caches().GetVolume(volume));
  PROXIMA_ASSIGN_OR_RETURN(t.rev, ResolveRevision(ctx.repo(), ctx.refs(), spec));
  return t;
}

CacheServices Services(CommandContext& ctx) {
  CacheServices s{ctx.repo(), ctx.caches(), *ctx.env.clock, ctx.threads, &ctx.progress, {}};
  if (s.threads <= 0) s.threads = DefaultThreads();  // I/O bound: several per core
  if (!ctx.quiet) {
    s.note = [](const std::string& what) { std::fprintf(stderr, "proxima: %s\n", what.c_str()); };
  }
  return s;
}

bool ShowProgress(CommandContext& ctx) { return ctx.env.stderr_is_tty && !ctx.quiet; }

// --- volumes ---

std::string CachePath(const VolumeRecord& volume, const CacheRecord& c) {
  return JoinPath(JoinPath(volume.path, c.dataset), c.commit.Hex());
}

bool IsStalled(const VolumeRecord& volume, const CacheRecord& c) {
  if (c.state != CacheState::kFilling) return false;
  Result<bool> running = FillIsRunning(volume, c.dataset, c.commit);
  return running.ok() && !*running;
}

}  // namespace proxima::cache_cli
