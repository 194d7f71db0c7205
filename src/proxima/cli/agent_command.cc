// `proxima agent`: a compute host that dials out to the hub and runs the
// attempts the hub's scheduler places on its resource (docs/scheduler.md,
// "Agents"). It stages each attempt's datasets on its own machine (a cache
// on the resource's volume, or a private clone), runs it on the local
// executor (under a supervisor, so attempts outlive the agent too),
// uploads its output, and reports its state in every heartbeat. When the
// hub is unreachable it keeps its attempts running and reports them once
// the hub answers again.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "proxima/base/units.h"
#include "proxima/cli/compute_commands.h"
#include "proxima/cli/context.h"
#include "proxima/core/cache_fill.h"
#include "proxima/core/cache_volume.h"
#include "proxima/core/placement.h"
#include "proxima/core/scheduler.h"
#include "proxima/ports/compute_codec.h"

namespace proxima {

namespace {

using nlohmann::json;

constexpr int64_t kLeaseNs = int64_t{600} * 1'000'000'000;

struct AgentArgs {
  std::string name, resource, token, memory;
  double cpus = 0;
  int64_t gpus = -1;
};

std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop = true; }

// One attempt the hub gave this agent.
struct Attempt {
  std::string handle;  // the hub's
  LaunchSpec spec;
  std::thread stager;
  std::atomic<bool> staged{false};
  Status stage_status;                                     // written before `staged`
  std::vector<std::pair<std::string, std::string>> paths;  // dataset -> folder
  std::string local;  // the local executor's handle, once launched
  bool cancelled = false;
  Execution state;  // what the heartbeat reports
  uint64_t log_offset = 0;
};

class Agent {
 public:
  Agent(CommandContext& ctx, const AgentArgs& a, Executor* local, Shape capacity)
      : ctx_(ctx), a_(a), local_(local), capacity_(capacity) {}

  int Run() {
    std::fprintf(stderr, "proxima agent %s: serving resource '%s' with %s\n", a_.name.c_str(),
                 a_.resource.c_str(), DescribeShape(capacity_).c_str());
    bool reachable = true;
    while (!g_stop) {
      Advance();
      Result<std::string> answer =
          ctx_.env.hub_call("POST", "/api/v1/agents/" + a_.name + "/heartbeat?wait=1000", Body());
      if (!answer.ok()) {
        if (answer.status().code() == StatusCode::kInvalidArgument ||
            answer.status().code() == StatusCode::kNotFound ||
            answer.status().code() == StatusCode::kPermissionDenied ||
            answer.status().code() == StatusCode::kUnauthenticated) {
          return ReportError(answer.status());
        }
        if (reachable) {
          std::fprintf(stderr, "proxima agent %s: the hub does not answer (%s); retrying\n",
                       a_.name.c_str(), answer.status().message().c_str());
        }
        reachable = false;
        ctx_.env.clock->SleepFor(1'000'000'000);
        continue;
      }
      if (!reachable)
        std::fprintf(stderr, "proxima agent %s: the hub answers again\n", a_.name.c_str());
      reachable = true;
      json doc = json::parse(*answer, nullptr, false);
      if (doc.is_discarded() || !doc.is_object()) continue;
      for (const json& l : doc.value("launch", json::array())) {
        if (l.is_object()) Start(l);
      }
      for (const json& h : doc.value("cancel", json::array())) {
        if (h.is_string()) Cancel(h.get<std::string>());
      }
      for (const json& h : doc.value("forget", json::array())) {
        if (h.is_string()) Drop(h.get<std::string>());
      }
      if (doc.value("stop", false)) {
        std::fprintf(stderr, "proxima agent %s: idle; the hub lets it go\n", a_.name.c_str());
        break;
      }
    }
    for (auto& [h, at] : attempts_) {
      if (at->stager.joinable()) at->stager.join();
    }
    return 0;
  }

 private:
  std::string Body() {
    json attempts = json::array();
    static const char* kPhase[] = {"pending", "running", "exited", "lost"};
    for (const auto& [h, at] : attempts_) {
      attempts.push_back({{"handle", h},
                          {"phase", kPhase[static_cast<int>(at->state.phase)]},
                          {"exit_code", at->state.exit_code},
                          {"reason", at->state.reason}});
    }
    return json{{"resource", a_.resource},
                {"capacity",
                 {{"millicpus", capacity_.millicpus},
                  {"memory_bytes", capacity_.memory_bytes},
                  {"gpus", capacity_.gpus}}},
                {"attempts", attempts}}
        .dump();
  }

  void Start(const json& launch) {
    std::string handle = launch.contains("handle") && launch["handle"].is_string()
                             ? launch["handle"].get<std::string>()
                             : "";
    if (handle.empty() || attempts_.count(handle) != 0) return;  // sent again until reported
    Result<LaunchSpec> spec = DecodeLaunchSpec(launch.dump());
    auto at = std::make_unique<Attempt>();
    at->handle = handle;
    if (!spec.ok()) {
      at->state = {Execution::Phase::kExited, Execution::kStagingFailed, spec.status().message()};
      attempts_[handle] = std::move(at);
      return;
    }
    at->spec = std::move(*spec);
    Attempt* raw = at.get();
    at->stager = std::thread([this, raw] {
      raw->stage_status = Stage(*raw);
      raw->staged.store(true, std::memory_order_release);
    });
    attempts_[handle] = std::move(at);
  }

  // Puts the attempt's datasets in place on this machine (one attempt at a
  // time: fills are parallel inside).
  Status Stage(Attempt& at) {
    std::lock_guard lock(stage_mu_);
    CacheServices cs{ctx_.repo(), ctx_.caches(), *ctx_.env.clock, 8, nullptr, {}};
    std::optional<VolumeRecord> volume;
    if (!at.spec.stage_volume.empty()) {
      PROXIMA_ASSIGN_OR_RETURN(volume, ctx_.caches().GetVolume(at.spec.stage_volume));
    }
    for (size_t i = 0; i < at.spec.stage.size(); ++i) {
      const JobDataset& d = at.spec.stage[i];
      if (volume) {
        PROXIMA_ASSIGN_OR_RETURN(FillReport fill, FillCache(cs, *volume, d.name, d.commit));
        LeaseRecord lease{"job-" + std::to_string(at.spec.job_id) + "-" + std::to_string(i),
                          volume->name,
                          d.name,
                          d.commit,
                          "job " + std::to_string(at.spec.job_id) + " on agent " + a_.name,
                          ctx_.env.clock->NowUnixNanos() + kLeaseNs,
                          ""};
        PROXIMA_RETURN_IF_ERROR(ctx_.caches().PutLease(lease));
        at.paths.emplace_back(d.name, fill.path);
      } else if (!d.cached) {
        PROXIMA_ASSIGN_OR_RETURN(
            std::string dir, ClonePrivately(ctx_.repo(), *ctx_.env.clock, ctx_.env.home + "/jobs",
                                            at.spec.job_id, d, 8));
        at.paths.emplace_back(d.name, dir);
      } else {
        return Status::FailedPrecondition("dataset '" + d.name +
                                          "' is to be read from a cache, and resource '" +
                                          a_.resource + "' has no cache volume");
      }
    }
    return Status::Ok();
  }

  // Launches staged attempts, follows running ones, uploads output.
  void Advance() {
    for (auto& [h, at] : attempts_) {
      if (at->state.phase == Execution::Phase::kExited) continue;
      if (at->local.empty()) {
        if (!at->staged.load(std::memory_order_acquire)) continue;
        at->stager.join();
        if (at->cancelled) {
          at->state = {Execution::Phase::kExited, 143, "cancelled"};
          continue;
        }
        if (!at->stage_status.ok()) {
          at->state = {Execution::Phase::kExited, Execution::kStagingFailed,
                       at->stage_status.message()};
          continue;
        }
        LaunchSpec spec = at->spec;
        spec.stage.clear();
        spec.datasets = at->paths;
        for (size_t i = 0; i < at->paths.size(); ++i) {
          spec.env.emplace_back(DatasetVariable(at->paths[i].first), at->paths[i].second);
          if (i == 0) spec.env.emplace_back("PROXIMA_DATA", at->paths[i].second);
        }
        Result<std::string> local = local_->Launch(spec);
        if (!local.ok()) {
          at->state = {Execution::Phase::kLost, -1,
                       "the agent could not start it: " + local.status().message()};
          continue;
        }
        at->local = *local;
        at->state = {Execution::Phase::kRunning, -1, ""};
      }
      // An attempt is reported ended only once all its output is with the
      // hub (which may be down for a while).
      Result<Execution> e = local_->Poll(at->local);
      bool uploaded = PushLog(*at);
      if (e.ok() && e->phase != Execution::Phase::kRunning && uploaded && PushLog(*at)) {
        at->state = *e;
      }
    }
  }

  // Uploads what the attempt wrote since the last call; true when all of it
  // is with the hub.
  bool PushLog(Attempt& at) {
    for (int i = 0; i < 16; ++i) {
      Result<std::string> chunk = local_->ReadLog(at.local, at.log_offset, 1 << 20);
      if (!chunk.ok()) return false;
      if (chunk->empty()) return true;
      std::string path = "/api/v1/agents/" + a_.name + "/logs/" + std::to_string(at.spec.job_id) +
                         "/" + std::to_string(at.spec.attempt) +
                         "?offset=" + std::to_string(at.log_offset);
      if (!ctx_.env.hub_call("PUT", path, *chunk).ok()) return false;  // again next time
      at.log_offset += chunk->size();
    }
    return false;
  }

  void Cancel(const std::string& handle) {
    auto it = attempts_.find(handle);
    if (it == attempts_.end()) return;
    Attempt& at = *it->second;
    at.cancelled = true;
    if (!at.local.empty()) IgnoreError(local_->Cancel(at.local));
  }

  void Drop(const std::string& handle) {
    auto it = attempts_.find(handle);
    if (it == attempts_.end()) return;
    if (it->second->stager.joinable()) it->second->stager.join();
    if (!it->second->local.empty()) IgnoreError(local_->Forget(it->second->local));
    attempts_.erase(it);
  }

  CommandContext& ctx_;
  AgentArgs a_;
  Executor* local_;
  Shape capacity_;
  std::mutex stage_mu_;
  std::map<std::string, std::unique_ptr<Attempt>> attempts_;
};

int CmdAgent(CommandContext& ctx, AgentArgs a) {
  if (!a.token.empty()) ::setenv("PROXIMA_TOKEN", a.token.c_str(), 1);
  Result<bool> hub = ctx.env.uses_hub();
  if (!hub.ok()) return ReportError(hub.status());
  if (!*hub) {
    return ReportError(Status::InvalidArgument(
        "an agent serves a hub: proxima agent --hub URL --token TOKEN --resource POOL"));
  }
  if (const char* n = std::getenv("PROXIMA_AGENT_NAME"); a.name.empty() && n != nullptr) {
    a.name = n;  // set by an elastic pool's provision command
  }
  if (a.name.empty()) {
    char host[256] = "agent";
    ::gethostname(host, sizeof(host) - 1);
    a.name = host;
  }
  Shape capacity = ctx.env.local_capacity;
  if (a.cpus > 0) capacity.millicpus = static_cast<int64_t>(a.cpus * 1000 + 0.5);
  if (!a.memory.empty()) {
    auto m = ParseByteSize(a.memory, "--memory");
    if (!m.ok()) return ReportError(m.status());
    capacity.memory_bytes = *m;
  }
  if (a.gpus >= 0) capacity.gpus = a.gpus;
  if (Status s = ctx.OpenCaches(); !s.ok()) return ReportError(s);
  ResourceRecord local;
  local.kind = ResourceKind::kLocal;
  Executor* executor = ctx.env.executor_for ? ctx.env.executor_for(local) : nullptr;
  if (executor == nullptr) return ReportError(Status::Internal("no local executor"));
  g_stop = false;
  std::signal(SIGTERM, OnStop);
  std::signal(SIGINT, OnStop);
  Agent agent(ctx, a, executor, capacity);
  return agent.Run();
}

}  // namespace

void AddAgentCommand(CLI::App& app, CommandContext& ctx, int* rc) {
  static AgentArgs a;  // outlives parsing, as the callback needs
  CLI::App* agent = app.add_subcommand(
      "agent", "Serve a hub as a compute host of an agent resource (dials out to the hub)");
  agent->add_option("--resource", a.resource, "The agent resource (pool) it serves")->required();
  agent->add_option("--name", a.name, "Its name (default: the host name)");
  agent->add_option("--token", a.token, "A hub administrator's token (or PROXIMA_TOKEN)");
  agent->add_option("--cpus", a.cpus, "CPUs it offers (default: this machine's)");
  agent->add_option("--memory", a.memory, "Memory it offers (default: this machine's)");
  agent->add_option("--gpus", a.gpus, "GPUs it offers (default: this machine's)");
  agent->callback([&, rc] { *rc = CmdAgent(ctx, a); });
}

}  // namespace proxima
