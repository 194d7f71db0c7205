#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/ports/catalog.h"
#include "proxima/ports/clock.h"
#include "proxima/ports/executor.h"

namespace proxima {

// The hub's side of `proxima agent` (docs/scheduler.md, "Agents"): the
// executor of every `agent` resource. Agents dial out to the hub and
// heartbeat (POST /api/v1/agents/{name}/heartbeat), reporting their
// capacity and the state of their attempts; the answer carries the
// attempts to start (with the datasets to stage), to cancel and to forget.
// An agent uploads each attempt's output to the hub, which serves it.
//
// - A resource's capacity is the sum of its live agents' (recorded in the
//   catalog as agents come and go).
// - An agent silent for `agent_timeout_ns` is gone: its attempts are lost
//   (the scheduler retries them elsewhere). After a hub restart, attempts
//   of agents that have not reported yet are pending for that long.
// - Elastic pools: a resource whose config has "provision" (a shell
//   command), "max_agents" and "idle_timeout_s" grows by running the
//   command (with PROXIMA_AGENT_NAME and PROXIMA_RESOURCE set) while jobs
//   wait for it, and tells agents idle past the timeout to stop.
//
// Thread-safe; owns a maintenance thread (once a second).
class AgentPool : public Executor {
 public:
  AgentPool(Catalog* catalog, Clock* clock, std::string logs_dir,
            std::function<void()> wake_scheduler, std::function<void(const std::string&)> log,
            int64_t agent_timeout_ns = int64_t{10} * 1'000'000'000);
  ~AgentPool() override;

  // Executor: handles are "<agent>/<job>/<attempt>".
  Result<std::string> Launch(const LaunchSpec& spec) override;
  Result<Execution> Poll(const std::string& handle) override;
  Status Cancel(const std::string& handle) override;
  Result<std::string> ReadLog(const std::string& handle, uint64_t offset,
                              size_t max_bytes) override;
  Status Forget(const std::string& handle) override;
  std::string Describe() const override { return "agents"; }
  bool StagesDatasets() const override { return true; }

  // One heartbeat of agent `name` (its JSON body, docs/api.md): waits up to
  // `wait_ms` for work, then returns the answer's JSON. InvalidArgument for
  // a malformed body or a resource that is not an agent pool.
  Result<std::string> Heartbeat(const std::string& name, const std::string& body, int wait_ms);
  // Stores bytes of an attempt's output at `offset` (idempotent).
  Status AppendLog(const std::string& name, const std::string& attempt, uint64_t offset,
                   const std::string& bytes);

 private:
  struct Agent;
  void Maintain();
  void UpdateCapacity(const std::string& resource);
  void Provision(const std::vector<ResourceRecord>& resources);

  Catalog* catalog_;
  Clock* clock_;
  std::string logs_dir_;
  std::function<void()> wake_;
  std::function<void(const std::string&)> log_;
  int64_t timeout_ns_;
  int64_t started_ns_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
  // Agents started by a provision command that have not connected yet:
  // name -> {resource, when}; forgotten after a minute.
  std::map<std::string, std::pair<std::string, int64_t>> provisioning_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace proxima
