#include "proxima/server/agent_pool.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "proxima/base/file_util.h"
#include "proxima/base/hash.h"
#include "proxima/ports/compute_codec.h"

extern char** environ;

namespace proxima {

namespace {

using Json = nlohmann::json;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// "<agent>/<job>/<attempt>" -> agent, "<job>/<attempt>"
bool SplitHandle(const std::string& h, std::string* agent, std::string* attempt) {
  size_t slash = h.find('/');
  if (slash == std::string::npos || slash == 0) return false;
  *agent = h.substr(0, slash);
  *attempt = h.substr(slash + 1);
  size_t inner = attempt->find('/');
  if (inner == std::string::npos || inner == 0 || inner + 1 == attempt->size()) return false;
  for (size_t i = 0; i < attempt->size(); ++i) {
    char c = (*attempt)[i];
    if (i != inner && (c < '0' || c > '9')) return false;
  }
  for (char c : *agent) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<Execution::Phase> ParsePhase(const std::string& s) {
  if (s == "pending") return Execution::Phase::kPending;
  if (s == "running") return Execution::Phase::kRunning;
  if (s == "exited") return Execution::Phase::kExited;
  if (s == "lost") return Execution::Phase::kLost;
  return std::nullopt;
}

}  // namespace

struct AgentPool::Agent {
  std::string name;
  std::string resource;
  Shape capacity;
  int64_t last_seen_ns = 0;  // monotonic
  int64_t idle_since_ns = 0;
  bool stop = false;
  std::map<std::string, Execution> reported;     // handle -> what the agent said
  std::map<std::string, std::string> launching;  // handle -> spec JSON, until reported
  std::map<std::string, Shape> assigned;         // handle -> shape, until forgotten
  std::set<std::string> cancels, forgets;
};

AgentPool::AgentPool(Catalog* catalog, Clock* clock, std::string logs_dir,
                     std::function<void()> wake_scheduler,
                     std::function<void(const std::string&)> log, int64_t agent_timeout_ns)
    : catalog_(catalog),
      clock_(clock),
      logs_dir_(std::move(logs_dir)),
      wake_(std::move(wake_scheduler)),
      log_(std::move(log)),
      timeout_ns_(agent_timeout_ns),
      started_ns_(clock->MonotonicNanos()) {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::seconds(1));
      if (stop_) break;
      lock.unlock();
      Maintain();
      lock.lock();
    }
  });
}

AgentPool::~AgentPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Result<std::string> AgentPool::Launch(const LaunchSpec& spec) {
  std::unique_lock lock(mu_);
  int64_t now = clock_->MonotonicNanos();
  Agent* best = nullptr;
  Shape best_free;
  for (auto& [name, a] : agents_) {
    if (a->resource != spec.resource || a->stop || now - a->last_seen_ns > timeout_ns_) continue;
    Shape free = a->capacity;
    for (const auto& [h, shape] : a->assigned) {
      free.millicpus -= shape.millicpus;
      free.memory_bytes =
          free.memory_bytes > shape.memory_bytes ? free.memory_bytes - shape.memory_bytes : 0;
      free.gpus -= shape.gpus;
    }
    if (!spec.shape.FitsIn(free)) continue;
    if (best == nullptr || free.millicpus > best_free.millicpus) {
      best = a.get();
      best_free = free;
    }
  }
  if (best == nullptr) {
    return Status::Unavailable("no agent of resource " + Quote(spec.resource) +
                               " is connected with room for the job (start one with 'proxima "
                               "agent --resource " +
                               spec.resource + "')");
  }
  std::string handle =
      best->name + "/" + std::to_string(spec.job_id) + "/" + std::to_string(spec.attempt);
  Json j = Json::parse(EncodeLaunchSpec(spec));
  j["handle"] = handle;
  best->launching[handle] = j.dump();
  best->assigned[handle] = spec.shape;
  best->idle_since_ns = 0;
  cv_.notify_all();  // a waiting heartbeat answers now
  return handle;
}

Result<Execution> AgentPool::Poll(const std::string& handle) {
  std::string agent, attempt;
  if (!SplitHandle(handle, &agent, &attempt)) {
    return Status::InvalidArgument("'" + handle + "' is not an agent attempt (AGENT/JOB/ATTEMPT)");
  }
  std::lock_guard lock(mu_);
  int64_t now = clock_->MonotonicNanos();
  Execution e;
  auto it = agents_.find(agent);
  if (it == agents_.end()) {
    if (now - started_ns_ < timeout_ns_) return e;  // after a hub restart: not reported yet
    e.phase = Execution::Phase::kLost;
    e.reason = "agent " + Quote(agent) + " is not connected";
    return e;
  }
  Agent& a = *it->second;
  if (now - a.last_seen_ns > timeout_ns_) {
    e.phase = Execution::Phase::kLost;
    e.reason = "agent " + Quote(agent) + " stopped answering (last heard " +
               std::to_string((now - a.last_seen_ns) / 1'000'000'000) + "s ago)";
    return e;
  }
  auto r = a.reported.find(handle);
  if (r != a.reported.end()) return r->second;
  if (a.launching.count(handle) != 0 || now - started_ns_ < timeout_ns_) return e;
  e.phase = Execution::Phase::kLost;
  e.reason = "agent " + Quote(agent) + " does not know this attempt (it restarted)";
  return e;
}

Status AgentPool::Cancel(const std::string& handle) {
  std::string agent, attempt;
  if (!SplitHandle(handle, &agent, &attempt)) {
    return Status::InvalidArgument("'" + handle + "' is not an agent attempt");
  }
  std::lock_guard lock(mu_);
  auto it = agents_.find(agent);
  if (it != agents_.end()) {
    it->second->launching.erase(handle);
    it->second->cancels.insert(handle);
    cv_.notify_all();
  }
  return Status::Ok();
}

Result<std::string> AgentPool::ReadLog(const std::string& handle, uint64_t offset,
                                       size_t max_bytes) {
  std::string agent, attempt;
  if (!SplitHandle(handle, &agent, &attempt)) {
    return Status::InvalidArgument("'" + handle + "' is not an agent attempt");
  }
  std::string path = logs_dir_ + "/" + handle + ".log";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::string();
    return ErrnoStatus(errno, "cannot read '" + path + "'");
  }
  std::string out(max_bytes, '\0');
  ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
  ::close(fd);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

Status AgentPool::Forget(const std::string& handle) {
  std::string agent, attempt;
  if (!SplitHandle(handle, &agent, &attempt)) return Status::Ok();
  std::lock_guard lock(mu_);
  auto it = agents_.find(agent);
  if (it == agents_.end()) return Status::Ok();
  Agent& a = *it->second;
  a.launching.erase(handle);
  a.assigned.erase(handle);
  a.reported.erase(handle);
  a.forgets.insert(handle);
  if (a.assigned.empty()) a.idle_since_ns = clock_->MonotonicNanos();
  return Status::Ok();
}

Result<std::string> AgentPool::Heartbeat(const std::string& name, const std::string& body,
                                         int wait_ms) {
  Json j = Json::parse(body, nullptr, false);
  const Status malformed = Status::InvalidArgument(
      "a heartbeat is {\"resource\": NAME, \"capacity\": {\"millicpus\", \"memory_bytes\", "
      "\"gpus\"}, \"attempts\": [{\"handle\", \"phase\", \"exit_code\", \"reason\"}]}");
  if (j.is_discarded() || !j.is_object() || !j.contains("resource") || !j["resource"].is_string()) {
    return malformed;
  }
  auto integer = [](const Json& o, const char* key, int64_t fallback) -> std::optional<int64_t> {
    auto it = o.find(key);
    if (it == o.end()) return fallback;
    if (!it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  auto text = [](const Json& o, const char* key) -> std::optional<std::string> {
    auto it = o.find(key);
    if (it == o.end()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  Json capacity_json = j.contains("capacity") ? j["capacity"] : Json::object();
  Json attempts = j.contains("attempts") ? j["attempts"] : Json::array();
  if (!capacity_json.is_object() || !attempts.is_array()) return malformed;
  auto millicpus = integer(capacity_json, "millicpus", 0);
  auto memory = integer(capacity_json, "memory_bytes", 0);
  auto gpus = integer(capacity_json, "gpus", 0);
  if (!millicpus || !memory || !gpus || *millicpus < 0 || *memory < 0 || *gpus < 0) {
    return malformed;
  }
  struct Report {
    std::string handle;
    Execution e;
  };
  std::vector<Report> reports;
  for (const Json& at : attempts) {
    if (!at.is_object()) return malformed;
    auto handle = text(at, "handle");
    auto phase_name = text(at, "phase");
    auto reason = text(at, "reason");
    auto code = integer(at, "exit_code", -1);
    if (!handle || !phase_name || !reason || !code) return malformed;
    auto phase = ParsePhase(*phase_name);
    if (handle->empty() || !phase) return malformed;
    reports.push_back({*handle, Execution{*phase, static_cast<int>(*code), *reason}});
  }
  std::string resource = j["resource"].get<std::string>();
  PROXIMA_ASSIGN_OR_RETURN(ResourceRecord r, catalog_->GetResource(resource));
  if (r.kind != ResourceKind::kAgent) {
    return Status::InvalidArgument("resource " + Quote(resource) + " is of kind " +
                                   std::string(ResourceKindName(r.kind)) +
                                   "; agents serve resources of kind agent");
  }
  Shape capacity{*millicpus, static_cast<uint64_t>(*memory), *gpus};
  bool changed = false, joined = false;
  {
    std::lock_guard lock(mu_);
    provisioning_.erase(name);
    auto& slot = agents_[name];
    if (!slot) {
      slot = std::make_unique<Agent>();
      slot->name = name;
      slot->idle_since_ns = clock_->MonotonicNanos();
      joined = true;
    }
    Agent& a = *slot;
    joined |= a.resource != resource || a.capacity.millicpus != capacity.millicpus ||
              a.capacity.gpus != capacity.gpus;
    a.resource = resource;
    a.capacity = capacity;
    a.last_seen_ns = clock_->MonotonicNanos();
    for (const Report& rep : reports) {
      const std::string& handle = rep.handle;
      const Execution& e = rep.e;
      auto old = a.reported.find(handle);
      changed |= old == a.reported.end() || old->second.phase != e.phase;
      a.reported[handle] = e;
      a.launching.erase(handle);
      if (a.assigned.count(handle) == 0 && e.phase != Execution::Phase::kExited &&
          a.forgets.count(handle) == 0) {
        a.assigned[handle] = Shape{};  // reported after a hub restart
      }
    }
  }
  if (joined) {
    if (log_) log_("agent " + Quote(name) + " serves " + Quote(resource));
    UpdateCapacity(resource);
  }
  if (changed && wake_) wake_();

  std::unique_lock lock(mu_);
  // Another heartbeat under the same name may have removed the agent
  // meanwhile (two processes sharing a name): then this one stops too.
  auto has_work = [&] {
    auto it = agents_.find(name);
    if (it == agents_.end()) return true;
    Agent& a = *it->second;
    return stop_ || a.stop || !a.launching.empty() || !a.cancels.empty() || !a.forgets.empty();
  };
  if (!has_work()) cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), has_work);
  auto found = agents_.find(name);
  if (found == agents_.end()) {
    return Json{{"launch", Json::array()},
                {"cancel", Json::array()},
                {"forget", Json::array()},
                {"stop", true}}
        .dump();
  }
  Agent& a = *found->second;
  Json answer = {{"launch", Json::array()},
                 {"cancel", Json::array()},
                 {"forget", Json::array()},
                 {"stop", a.stop}};
  for (const auto& [h, spec] : a.launching) answer["launch"].push_back(Json::parse(spec));
  for (const std::string& h : a.cancels) answer["cancel"].push_back(h);
  for (const std::string& h : a.forgets) answer["forget"].push_back(h);
  a.cancels.clear();
  a.forgets.clear();
  if (a.stop) {
    agents_.erase(name);
    lock.unlock();
    UpdateCapacity(resource);
    if (log_) log_("agent " + Quote(name) + " was idle and is told to stop");
  }
  return answer.dump();
}

Status AgentPool::AppendLog(const std::string& name, const std::string& attempt, uint64_t offset,
                            const std::string& bytes) {
  std::string handle = name + "/" + attempt, agent, rest;
  if (!SplitHandle(handle, &agent, &rest)) {
    return Status::InvalidArgument("'" + attempt + "' is not an attempt (JOB/ATTEMPT)");
  }
  std::string dir = logs_dir_ + "/" + name + "/" + attempt.substr(0, attempt.find('/'));
  PROXIMA_RETURN_IF_ERROR(MakeDirs(dir));
  std::string path = logs_dir_ + "/" + handle + ".log";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "cannot write '" + path + "'");
  ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(bytes.size()))
    return ErrnoStatus(err, "cannot write '" + path + "'");
  return Status::Ok();
}

void AgentPool::UpdateCapacity(const std::string& resource) {
  Shape total;
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_->MonotonicNanos();
    for (const auto& [name, a] : agents_) {
      if (a->resource != resource || a->stop || now - a->last_seen_ns > timeout_ns_) continue;
      total.millicpus += a->capacity.millicpus;
      total.memory_bytes += a->capacity.memory_bytes;
      total.gpus += a->capacity.gpus;
    }
  }
  Result<ResourceRecord> r = catalog_->GetResource(resource);
  if (!r.ok()) return;
  if (r->capacity.millicpus == total.millicpus && r->capacity.gpus == total.gpus &&
      r->capacity.memory_bytes == total.memory_bytes) {
    return;
  }
  r->capacity = total;
  IgnoreError(catalog_->UpdateResource(*r));
  if (wake_) wake_();
}

void AgentPool::Maintain() {
  // Agents that fell silent: their capacity goes, the scheduler finds their
  // attempts lost. Idle agents of elastic pools are told to stop.
  std::set<std::string> touched;
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_->MonotonicNanos();
    for (auto it = agents_.begin(); it != agents_.end();) {
      Agent& a = *it->second;
      if (now - a.last_seen_ns > timeout_ns_ && a.assigned.empty()) {
        touched.insert(a.resource);
        if (log_) log_("agent " + Quote(a.name) + " is gone");
        it = agents_.erase(it);
        continue;
      }
      if (now - a.last_seen_ns > timeout_ns_) touched.insert(a.resource);
      ++it;
    }
  }
  Result<std::vector<ResourceRecord>> resources = catalog_->ListResources();
  if (!resources.ok()) return;
  for (const ResourceRecord& r : *resources) {
    if (r.kind != ResourceKind::kAgent) continue;
    Json config = Json::parse(r.config, nullptr, false);
    int64_t idle_ns =
        config.is_object() ? config.value("idle_timeout_s", int64_t{0}) * 1'000'000'000 : 0;
    if (idle_ns > 0) {
      std::lock_guard lock(mu_);
      int64_t now = clock_->MonotonicNanos();
      for (auto& [name, a] : agents_) {
        if (a->resource == r.name && a->assigned.empty() && a->idle_since_ns > 0 &&
            now - a->idle_since_ns > idle_ns && !a->stop) {
          a->stop = true;
          cv_.notify_all();
        }
      }
    }
    touched.insert(r.name);
  }
  for (const std::string& r : touched) UpdateCapacity(r);
  Provision(*resources);
}

// Grows elastic pools: for each agent resource with a provision command,
// while jobs wait that it could run and it has fewer than max_agents
// (counting agents started in the last minute that have not connected yet),
// runs the command once more.
void AgentPool::Provision(const std::vector<ResourceRecord>& resources) {
  bool loaded = false;
  std::vector<JobRecord> active;
  std::vector<TemplateRecord> templates;
  std::vector<QueueRecord> queues;
  for (const ResourceRecord& r : resources) {
    if (r.kind != ResourceKind::kAgent) continue;
    Json config = Json::parse(r.config, nullptr, false);
    if (!config.is_object() || !config.value("provision", Json()).is_string()) continue;
    std::string command = config["provision"].get<std::string>();
    int max_agents = config.value("max_agents", 1);
    if (!loaded) {
      Result<std::vector<JobRecord>> a = catalog_->ListActiveJobs();
      Result<std::vector<TemplateRecord>> t = catalog_->ListTemplates();
      Result<std::vector<QueueRecord>> q = catalog_->ListQueues();
      if (!a.ok() || !t.ok() || !q.ok()) return;
      active = std::move(*a);
      templates = std::move(*t);
      queues = std::move(*q);
      loaded = true;
    }
    std::set<std::string> mine;
    for (const TemplateRecord& t : templates) {
      if (t.resource == r.name) mine.insert(t.name);
    }
    bool waiting = false;
    for (const JobRecord& j : active) {
      if (j.state != JobState::kQueued) continue;
      if (mine.count(j.spec.template_name) != 0) waiting = true;
      for (const QueueRecord& q : queues) {
        if (q.name != j.spec.queue) continue;
        for (const std::string& t : q.templates) waiting |= mine.count(t) != 0;
      }
    }
    int64_t now = clock_->MonotonicNanos();
    int live = 0;
    bool has_room = false;
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, a] : agents_) {
        if (a->resource != r.name || a->stop || now - a->last_seen_ns > timeout_ns_) continue;
        ++live;
        has_room |= a->assigned.empty();
      }
      int starting = 0;
      for (auto it = provisioning_.begin(); it != provisioning_.end();) {
        if (now - it->second.second > 60'000'000'000) {
          it = provisioning_.erase(it);  // it never came: stop counting it
          continue;
        }
        starting += it->second.first == r.name ? 1 : 0;
        ++it;
      }
      // One at a time: the next only once the last one connected.
      if (!waiting || has_room || starting > 0 || live >= max_agents) continue;
    }
    std::string agent_name = r.name + "-" + RandomHex(3);
    {
      std::lock_guard lock(mu_);
      provisioning_[agent_name] = {r.name, now};
    }
    std::string env_name = "PROXIMA_AGENT_NAME=" + agent_name;
    std::string env_resource = "PROXIMA_RESOURCE=" + r.name;
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.push_back(*e);
    env_strings.push_back(env_name);
    env_strings.push_back(env_resource);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string sh = "/bin/sh", dash_c = "-c";
    char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, sh.c_str(), nullptr, &attr, argv, envp.data());
    posix_spawnattr_destroy(&attr);
    if (log_) {
      log_(rc == 0 ? "pool " + Quote(r.name) + ": jobs wait; provisioning agent " +
                         Quote(agent_name) + " (" + std::to_string(live + 1) + " of at most " +
                         std::to_string(max_agents) + ")"
                   : "pool " + Quote(r.name) + ": cannot run its provision command");
    }
    if (rc == 0) {
      // The command returns once it has started the agent (in the
      // background); reap it without blocking the pool.
      std::thread([pid] {
        int status;
        ::waitpid(pid, &status, 0);
      }).detach();
    }
  }
}

}  // namespace proxima
