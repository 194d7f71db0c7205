// `proxima run` and `proxima job ls|show|logs|cancel|wait` (docs/scheduler.md).
//
// Through a hub, the hub's scheduler runs the job and these commands watch
// it. Without one, `proxima run` schedules on this machine itself while it
// waits (unless a `proxima server` on this machine holds the scheduler lock,
// which then does), so a fresh install runs jobs with no server at all.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "proxima/base/file_util.h"
#include "proxima/base/units.h"
#include "proxima/cli/compute_commands.h"
#include "proxima/cli/context.h"
#include "proxima/cli/output.h"
#include "proxima/core/folder_lock.h"
#include "proxima/core/history.h"
#include "proxima/core/scheduler.h"
#include "proxima/ports/compute_codec.h"

namespace proxima {

namespace {

using nlohmann::json;

struct JobArgs {
  std::string queue, template_name, image, workdir, timeout, state;
  std::vector<std::string> datasets, env, command;
  int retries = 2;
  bool retry_on_exit = false, detach = false, follow = false, all = false;
  int64_t id = 0;
  size_t limit = 20;
};

std::atomic<int> g_interrupts{0};
void OnInterrupt(int) { g_interrupts.fetch_add(1); }

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`") == std::string::npos;
    out += (out.empty() ? "" : " ") + (plain ? a : "'" + a + "'");
  }
  return out;
}

// Reads the job's output as it grows, attempt by attempt.
class LogTail {
 public:
  LogTail(CommandContext& ctx, bool hub) : ctx_(ctx), hub_(hub) {}

  // Prints what the current attempt wrote since the last call.
  void Pump(const JobRecord& job) {
    if (job.handle.empty()) return;
    if (job.handle != handle_) {
      if (!handle_.empty()) {
        std::fprintf(stderr, "proxima: --- attempt %d on '%s' ---\n", job.attempts,
                     job.resource.c_str());
      }
      handle_ = job.handle;
      offset_ = 0;
    }
    for (int i = 0; i < 64; ++i) {
      Result<std::string> chunk = Read(job);
      if (!chunk.ok() || chunk->empty()) return;
      std::fwrite(chunk->data(), 1, chunk->size(), stdout);
      std::fflush(stdout);
      offset_ += chunk->size();
    }
  }

 private:
  Result<std::string> Read(const JobRecord& job) {
    constexpr size_t kChunk = 1 << 20;
    if (hub_) {
      return ctx_.env.hub_call("GET",
                               "/api/v1/jobs/" + std::to_string(job.id) + "/logs?offset=" +
                                   std::to_string(offset_) + "&limit=" + std::to_string(kChunk),
                               "");
    }
    PROXIMA_ASSIGN_OR_RETURN(ResourceRecord r, ctx_.compute().GetResource(job.resource));
    Executor* ex = ctx_.env.executor_for ? ctx_.env.executor_for(r) : nullptr;
    if (ex == nullptr) return std::string();
    return ex->ReadLog(job.handle, offset_, kChunk);
  }

  CommandContext& ctx_;
  bool hub_;
  std::string handle_;
  uint64_t offset_ = 0;
};

// The scheduler a `proxima run` without a hub drives while it waits.
struct LocalScheduler {
  std::unique_ptr<FileLock> lock;
  std::unique_ptr<Scheduler> scheduler;
};

Result<std::unique_ptr<LocalScheduler>> StartLocalScheduler(CommandContext& ctx) {
  PROXIMA_RETURN_IF_ERROR(ctx.OpenCaches());
  std::string jobs_dir = ctx.env.home + "/jobs";
  PROXIMA_RETURN_IF_ERROR(MakeDirs(jobs_dir));
  auto local = std::make_unique<LocalScheduler>();
  PROXIMA_ASSIGN_OR_RETURN(local->lock, FileLock::Take(jobs_dir + "/.scheduler.lock",
                                                       FileLock::Mode::kExclusive, false));
  if (local->lock == nullptr) return local;  // a server on this machine schedules
  SchedulerServices services{ctx.compute(),
                             ctx.caches(),
                             ctx.repo(),
                             *ctx.env.clock,
                             ctx.env.executor_for,
                             [&ctx](const std::string& line) {
                               if (ctx.verbose) std::fprintf(stderr, "proxima: %s\n", line.c_str());
                             }};
  SchedulerOptions options;
  options.jobs_dir = jobs_dir;
  local->scheduler = std::make_unique<Scheduler>(services, options);
  return local;
}

// Without a hub, the job commands schedule too (one pass first, so that
// what they show is current), unless a server on this machine does.
Result<std::unique_ptr<LocalScheduler>> LocalSchedulerIfEmbedded(CommandContext& ctx) {
  PROXIMA_RETURN_IF_ERROR(ctx.OpenCompute());
  PROXIMA_ASSIGN_OR_RETURN(bool hub, ctx.env.uses_hub());
  if (hub) return std::unique_ptr<LocalScheduler>();
  PROXIMA_ASSIGN_OR_RETURN(auto local, StartLocalScheduler(ctx));
  if (local->scheduler != nullptr) PROXIMA_RETURN_IF_ERROR(local->scheduler->RunOnce().status());
  return local;
}

// The exit code a command that waited for `job` returns: the job's own when
// it ran to an exit, 1 (with the reason) when it ended otherwise.
int ExitCodeOf(const JobRecord& job) {
  if (job.state == JobState::kSucceeded) return 0;
  std::fprintf(stderr, "proxima: job %lld %s%s%s\n", static_cast<long long>(job.id),
               std::string(JobStateName(job.state)).c_str(), job.reason.empty() ? "" : ": ",
               job.reason.c_str());
  if (job.failure == JobFailure::kExit && job.exit_code > 0) return job.exit_code;
  return 1;
}

// Waits for the job to end, printing its output when `logs`, driving the
// local scheduler when there is one. Ctrl-C cancels the job (a second one
// stops waiting). `timeout_ns` 0: no limit.
Result<JobRecord> Follow(CommandContext& ctx, int64_t id, bool logs, LocalScheduler* local,
                         int64_t timeout_ns, bool cancel_on_interrupt) {
  PROXIMA_ASSIGN_OR_RETURN(bool hub, ctx.env.uses_hub());
  LogTail tail(ctx, hub);
  g_interrupts = 0;
  auto old_int = std::signal(SIGINT, OnInterrupt);
  auto old_term = std::signal(SIGTERM, OnInterrupt);
  int64_t start = ctx.env.clock->MonotonicNanos();
  bool cancelling = false;
  Result<JobRecord> result = Status::Internal("not run");
  std::string last_placement;
  for (;;) {
    bool busy = false;
    if (local != nullptr && local->scheduler != nullptr) {
      Result<PassReport> pass = local->scheduler->RunOnce();
      if (!pass.ok()) {
        result = pass.status();
        break;
      }
      busy = pass->busy;
    }
    Result<JobRecord> job = ctx.compute().GetJob(id);
    if (!job.ok()) {
      result = job.status();
      break;
    }
    if (logs) tail.Pump(*job);
    if (job->state == JobState::kQueued && !job->placement.empty() &&
        job->placement != last_placement && !ctx.quiet) {
      std::fprintf(stderr, "proxima: job %lld: %s\n", static_cast<long long>(id),
                   job->placement.c_str());
      last_placement = job->placement;
    }
    if (JobIsFinished(job->state)) {
      result = std::move(job);
      break;
    }
    int interrupts = g_interrupts.load();
    if (interrupts >= 2 || (interrupts == 1 && !cancel_on_interrupt)) {
      result = Status::Cancelled("stopped waiting; job " + std::to_string(id) +
                                 " goes on ('proxima job cancel " + std::to_string(id) + "')");
      break;
    }
    if (interrupts == 1 && !cancelling) {
      cancelling = true;
      std::fprintf(stderr, "proxima: cancelling job %lld (Ctrl-C again to stop waiting)\n",
                   static_cast<long long>(id));
      if (Status st = RequestCancel(ctx.compute(), id).status(); !st.ok()) {
        result = st;
        break;
      }
    }
    if (timeout_ns > 0 && ctx.env.clock->MonotonicNanos() - start > timeout_ns) {
      result = Status::DeadlineExceeded("job " + std::to_string(id) + " is still " +
                                        std::string(JobStateName(job->state)) + " after " +
                                        FormatDuration(timeout_ns));
      break;
    }
    ctx.env.clock->SleepFor(busy || local == nullptr ? 50'000'000 : 200'000'000);
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  return result;
}

Result<JobSpec> BuildSpec(CommandContext& ctx, const JobArgs& a) {
  JobSpec spec;
  spec.command = a.command;
  if (spec.command.empty()) {
    return Status::InvalidArgument("no command: proxima run [OPTIONS] -- COMMAND [ARGS...]");
  }
  if (!a.queue.empty() && !a.template_name.empty()) {
    return Status::InvalidArgument("give --queue or --template, not both");
  }
  spec.queue = a.queue;
  spec.template_name = a.template_name;
  spec.image = a.image;
  spec.workdir = a.workdir;
  spec.max_retries = a.retries;
  spec.retry_on_exit = a.retry_on_exit;
  if (a.retries < 0 || a.retries > 100) {
    return Status::InvalidArgument("--retries: from 0 to 100");
  }
  if (!a.timeout.empty()) {
    PROXIMA_ASSIGN_OR_RETURN(spec.timeout_ns, ParseDuration(a.timeout, "--timeout"));
  }
  for (const std::string& e : a.env) {
    size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--env '" + e + "': expected NAME=VALUE");
    }
    spec.env.emplace_back(e.substr(0, eq), e.substr(eq + 1));
  }
  if (!a.datasets.empty()) PROXIMA_RETURN_IF_ERROR(ctx.Open());
  for (std::string d : a.datasets) {
    JobDataset jd;
    jd.cached = false;
    const std::string suffix = ":cached";
    if (d.size() > suffix.size() &&
        d.compare(d.size() - suffix.size(), suffix.size(), suffix) == 0) {
      jd.cached = true;
      d.resize(d.size() - suffix.size());
    }
    PROXIMA_ASSIGN_OR_RETURN(Revision rev, ResolveRevision(ctx.repo(), ctx.refs(), d));
    jd.name = rev.dataset;
    jd.commit = rev.commit;
    for (const JobDataset& other : spec.datasets) {
      if (other.name == jd.name) {
        return Status::InvalidArgument("--dataset " + jd.name + " is given twice");
      }
    }
    spec.datasets.push_back(std::move(jd));
  }
  if (spec.queue.empty() && spec.template_name.empty()) spec.queue = "default";
  return spec;
}

int CmdRun(CommandContext& ctx, const JobArgs& a) {
  Result<JobSpec> spec = BuildSpec(ctx, a);
  if (!spec.ok()) return ReportError(spec.status());
  if (Status s = ctx.OpenCompute(); !s.ok()) return ReportError(s);
  Result<bool> hub = ctx.env.uses_hub();
  if (!hub.ok()) return ReportError(hub.status());
  if (!*hub) {
    Status st =
        EnsureDefaultCompute(ctx.compute(), ctx.env.local_capacity, ctx.env.clock->NowUnixNanos());
    if (!st.ok()) return ReportError(st);
  }
  JobRecord job;
  const char* user = std::getenv("USER");
  job.owner = user != nullptr && *user != '\0' ? user : "local";
  job.spec = std::move(*spec);
  job.submitted_unix_ns = ctx.env.clock->NowUnixNanos();
  Result<JobRecord> created = ctx.compute().CreateJob(job);
  if (!created.ok()) return ReportError(created.status());
  std::unique_ptr<LocalScheduler> local;
  if (!*hub) {
    auto started = StartLocalScheduler(ctx);
    if (!started.ok()) return ReportError(started.status());
    local = std::move(*started);
  }
  if (a.detach) {
    if (!*hub && local->scheduler != nullptr) {
      // Nobody else would run it: schedule it now, then leave it running.
      for (int i = 0; i < 100; ++i) {
        IgnoreError(local->scheduler->RunOnce().status());
        Result<JobRecord> now = ctx.compute().GetJob(created->id);
        // Placed, or waiting for room (it says so): the next command of
        // this machine, or a server, takes it from there.
        if (!now.ok() || now->state != JobState::kQueued || !now->placement.empty()) break;
        ctx.env.clock->SleepFor(20'000'000);
      }
    }
    if (ctx.json) {
      std::printf("%s\n", json::parse(EncodeJob(*created)).dump(2).c_str());
    } else {
      std::printf("%lld\n", static_cast<long long>(created->id));
    }
    return 0;
  }
  if (!ctx.quiet) {
    std::fprintf(stderr, "proxima: job %lld submitted (%s)\n", static_cast<long long>(created->id),
                 created->spec.queue.empty() ? ("template " + created->spec.template_name).c_str()
                                             : ("queue " + created->spec.queue).c_str());
  }
  Result<JobRecord> done = Follow(ctx, created->id, true, local.get(), 0, true);
  if (!done.ok()) return ReportError(done.status());
  return ExitCodeOf(*done);
}

std::string Age(int64_t now, int64_t then) {
  if (then <= 0) return "-";
  return FormatDuration(std::max<int64_t>(0, now - then));
}

std::string Duration(const JobRecord& j, int64_t now) {
  if (j.started_unix_ns <= 0) return "-";
  int64_t end = j.finished_unix_ns > 0 ? j.finished_unix_ns : now;
  return FormatDuration(std::max<int64_t>(0, end - j.started_unix_ns));
}

int CmdJobLs(CommandContext& ctx, const JobArgs& a) {
  auto local = LocalSchedulerIfEmbedded(ctx);
  if (!local.ok()) return ReportError(local.status());
  JobFilter filter;
  filter.limit = a.limit;
  if (!a.state.empty()) {
    size_t start = 0;
    while (start <= a.state.size()) {
      size_t comma = std::min(a.state.find(',', start), a.state.size());
      auto s = ParseJobState(a.state.substr(start, comma - start));
      if (!s) {
        return ReportError(Status::InvalidArgument(
            "--state: queued, staging, running, succeeded, failed, cancelled or timed_out"));
      }
      filter.states.push_back(*s);
      start = comma + 1;
    }
  } else if (!a.all) {
    filter.states = {JobState::kQueued, JobState::kPlacing, JobState::kStaging, JobState::kRunning};
  }
  auto jobs = ctx.compute().ListJobs(filter);
  if (!jobs.ok()) return ReportError(jobs.status());
  if (ctx.json) {
    json out = json::array();
    for (const JobRecord& j : *jobs) out.push_back(json::parse(EncodeJob(j)));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  int64_t now = ctx.env.clock->NowUnixNanos();
  std::printf("%-6s %-10s %-10s %-14s %-12s %-8s %-8s %s\n", "ID", "STATE", "OWNER", "WHERE",
              "QUEUE", "AGE", "RAN", "COMMAND");
  for (const JobRecord& j : *jobs) {
    std::string state(JobStateName(j.state));
    if (j.state == JobState::kFailed && j.failure == JobFailure::kExit) {
      state += "(" + std::to_string(j.exit_code) + ")";
    }
    std::string cmd = CommandLine(j.spec.command);
    if (cmd.size() > 50) cmd = cmd.substr(0, 47) + "...";
    std::printf("%-6lld %-10s %-10s %-14s %-12s %-8s %-8s %s\n", static_cast<long long>(j.id),
                state.c_str(), j.owner.c_str(),
                j.template_name.empty() ? "-" : j.template_name.c_str(),
                j.spec.queue.empty() ? "-" : j.spec.queue.c_str(),
                Age(now, j.submitted_unix_ns).c_str(), Duration(j, now).c_str(), cmd.c_str());
  }
  if (jobs->empty()) {
    std::fprintf(stderr, a.all || !a.state.empty()
                             ? "no jobs\n"
                             : "no active jobs (--all shows finished ones)\n");
  }
  return 0;
}

int CmdJobShow(CommandContext& ctx, const JobArgs& a) {
  auto local = LocalSchedulerIfEmbedded(ctx);
  if (!local.ok()) return ReportError(local.status());
  auto j = ctx.compute().GetJob(a.id);
  if (!j.ok()) return ReportError(j.status());
  if (ctx.json) {
    std::printf("%s\n", json::parse(EncodeJob(*j)).dump(2).c_str());
    return 0;
  }
  int64_t now = ctx.env.clock->NowUnixNanos();
  std::printf("job %lld\n", static_cast<long long>(j->id));
  std::printf("  state       %s", std::string(JobStateName(j->state)).c_str());
  if (j->failure != JobFailure::kNone) {
    std::printf(" (%s)", std::string(JobFailureName(j->failure)).c_str());
  }
  if (j->cancel_requested && !JobIsFinished(j->state)) std::printf(", cancelling");
  std::printf("\n");
  if (!j->reason.empty()) std::printf("  reason      %s\n", j->reason.c_str());
  if (j->exit_code >= 0) std::printf("  exit code   %d\n", j->exit_code);
  std::printf("  owner       %s\n", j->owner.c_str());
  std::printf("  command     %s\n", CommandLine(j->spec.command).c_str());
  std::printf("  asked for   %s\n", j->spec.queue.empty()
                                        ? ("template " + j->spec.template_name).c_str()
                                        : ("queue " + j->spec.queue).c_str());
  if (!j->template_name.empty()) {
    std::printf("  placed on   template %s, resource %s\n", j->template_name.c_str(),
                j->resource.c_str());
  }
  if (!j->placement.empty()) std::printf("  why         %s\n", j->placement.c_str());
  // Where each dataset stands on the resource's volume (a staging job's
  // progress).
  std::vector<VolumeRecord> volumes;
  if (!j->spec.datasets.empty() && !j->resource.empty() && ctx.OpenCaches().ok()) {
    if (auto all = ctx.caches().ListVolumes(); all.ok()) {
      for (VolumeRecord& v : *all) {
        if (v.resource == j->resource) volumes.push_back(std::move(v));
      }
    }
  }
  for (const JobDataset& d : j->spec.datasets) {
    std::string where;
    for (const VolumeRecord& v : volumes) {
      auto row = ctx.caches().GetCache(v.name, d.name, d.commit);
      if (!row.ok() || !row->has_value()) continue;
      const CacheRecord& c = **row;
      where = "; on volume " + v.name + ": " + std::string(CacheStateName(c.state));
      if (c.state == CacheState::kFilling && c.bytes > 0) {
        where += " " + std::to_string(c.done_bytes * 100 / c.bytes) + "% of " + HumanBytes(c.bytes);
      }
      break;
    }
    std::printf("  dataset     %s@%s%s%s\n", d.name.c_str(), d.commit.ShortHex().c_str(),
                d.cached ? " (cached)" : "", where.c_str());
  }
  if (!j->spec.image.empty()) std::printf("  image       %s\n", j->spec.image.c_str());
  if (!j->gpu_ids.empty()) {
    std::string ids;
    for (int g : j->gpu_ids) ids += (ids.empty() ? "" : ",") + std::to_string(g);
    std::printf("  GPUs        %s\n", ids.c_str());
  }
  std::printf("  attempts    %d (retries on infrastructure failures: %d)\n", j->attempts,
              j->spec.max_retries);
  if (j->spec.timeout_ns > 0) {
    std::printf("  timeout     %s\n", FormatDuration(j->spec.timeout_ns).c_str());
  }
  std::printf("  submitted   %s ago\n", Age(now, j->submitted_unix_ns).c_str());
  if (j->started_unix_ns > 0) std::printf("  ran         %s\n", Duration(*j, now).c_str());
  if (!j->handle.empty()) std::printf("  handle      %s\n", j->handle.c_str());
  return 0;
}

int CmdJobLogs(CommandContext& ctx, const JobArgs& a) {
  auto local = LocalSchedulerIfEmbedded(ctx);
  if (!local.ok()) return ReportError(local.status());
  if (a.follow) {
    Result<JobRecord> done = Follow(ctx, a.id, true, local->get(), 0, false);
    return done.ok() ? 0 : ReportError(done.status());
  }
  auto j = ctx.compute().GetJob(a.id);
  if (!j.ok()) return ReportError(j.status());
  Result<bool> hub = ctx.env.uses_hub();
  if (!hub.ok()) return ReportError(hub.status());
  LogTail tail(ctx, *hub);
  tail.Pump(*j);
  return 0;
}

int CmdJobCancel(CommandContext& ctx, const JobArgs& a) {
  auto local = LocalSchedulerIfEmbedded(ctx);
  if (!local.ok()) return ReportError(local.status());
  auto j = RequestCancel(ctx.compute(), a.id);
  if (!j.ok()) return ReportError(j.status());
  if (JobIsFinished(j->state)) {
    std::printf("job %lld is %s\n", static_cast<long long>(a.id),
                std::string(JobStateName(j->state)).c_str());
  } else {
    std::printf("job %lld: cancellation requested (it is %s)\n", static_cast<long long>(a.id),
                std::string(JobStateName(j->state)).c_str());
  }
  return 0;
}

int CmdJobWait(CommandContext& ctx, const JobArgs& a) {
  auto local = LocalSchedulerIfEmbedded(ctx);
  if (!local.ok()) return ReportError(local.status());
  int64_t timeout_ns = 0;
  if (!a.timeout.empty()) {
    auto t = ParseDuration(a.timeout, "--timeout");
    if (!t.ok()) return ReportError(t.status());
    timeout_ns = *t;
  }
  Result<JobRecord> done = Follow(ctx, a.id, false, local->get(), timeout_ns, false);
  if (!done.ok()) return ReportError(done.status());
  if (!ctx.quiet) {
    std::printf("job %lld %s\n", static_cast<long long>(a.id),
                std::string(JobStateName(done->state)).c_str());
  }
  return ExitCodeOf(*done);
}

}  // namespace

void AddJobCommands(CLI::App& app, CommandContext& ctx, int* rc) {
  static JobArgs a;  // outlives parsing, as the callbacks need
  CLI::App* run = app.add_subcommand(
      "run", "Run a command as a job on the queue's best place, with its datasets");
  run->add_option("--queue", a.queue, "The queue (default: 'default')");
  run->add_option("--template", a.template_name, "Exactly this template instead of a queue");
  run->add_option("--dataset", a.datasets,
                  "NAME[@REV][:cached], repeatable: at /data/NAME in a container, in "
                  "$PROXIMA_DATA_NAME otherwise; ':cached' requires a cache volume")
      ->allow_extra_args(false);
  run->add_option("--env", a.env, "NAME=VALUE for the job, repeatable")->allow_extra_args(false);
  run->add_option("--image", a.image, "Container image (overrides the template's)");
  run->add_option("--workdir", a.workdir, "Where the command starts (default: its output folder)");
  run->add_option("--timeout", a.timeout, "Stop it after this long (30m, 2h)");
  run->add_option("--retries", a.retries,
                  "Retries after infrastructure failures: node or agent lost (default 2)");
  run->add_flag("--retry-on-exit", a.retry_on_exit, "Also retry when the command fails");
  run->add_flag("--detach,-d", a.detach, "Print the job id and return at once");
  run->add_flag("--json", ctx.json, "With --detach: print the job as JSON");
  run->add_option("COMMAND", a.command, "The command and its arguments, after --")->required();
  run->callback([&, rc] { *rc = CmdRun(ctx, a); });

  CLI::App* job = app.add_subcommand("job", "Jobs: list, inspect, follow, cancel, wait");
  job->require_subcommand(1);
  CLI::App* ls = job->add_subcommand("ls", "List jobs, newest first (active ones by default)");
  ls->add_flag("--all,-a", a.all, "Finished jobs too");
  ls->add_option("--state", a.state, "Only these states, comma-separated");
  ls->add_option("--limit", a.limit, "At most this many (default 20)");
  ls->add_flag("--json", ctx.json, "Print JSON");
  ls->callback([&, rc] { *rc = CmdJobLs(ctx, a); });
  auto with_id = [&](const char* name, const char* help) {
    CLI::App* cmd = job->add_subcommand(name, help);
    cmd->add_option("ID", a.id, "The job's id")->required();
    return cmd;
  };
  CLI::App* show = with_id("show", "A job's state, placement and why, datasets and attempts");
  show->add_flag("--json", ctx.json, "Print JSON");
  show->callback([&, rc] { *rc = CmdJobShow(ctx, a); });
  CLI::App* logs = with_id("logs", "A job's output (stdout and stderr)");
  logs->add_flag("--follow,-f", a.follow, "Keep printing until the job ends");
  logs->callback([&, rc] { *rc = CmdJobLogs(ctx, a); });
  CLI::App* cancel = with_id("cancel", "Cancel a job (running ones get SIGTERM, then SIGKILL)");
  cancel->callback([&, rc] { *rc = CmdJobCancel(ctx, a); });
  CLI::App* wait = with_id("wait", "Wait for a job to end; exits with its exit code");
  wait->add_option("--timeout", a.timeout, "Give up after this long");
  wait->callback([&, rc] { *rc = CmdJobWait(ctx, a); });
}

}  // namespace proxima
