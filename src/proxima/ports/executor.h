#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/ports/compute_catalog.h"

namespace proxima {

// One attempt of a job, as an executor starts it. Paths are on the
// resource's machines.
struct LaunchSpec {
  int64_t job_id = 0;
  int attempt = 0;
  std::string resource;  // the resource it was placed on
  std::vector<std::string> command;
  std::vector<std::pair<std::string, std::string>> env;  // added to the executor's own
  // Dataset name -> folder of its files (a cache tree, read-only): in a
  // container at /data/<name>, otherwise in $PROXIMA_DATA_<NAME>.
  std::vector<std::pair<std::string, std::string>> datasets;
  Shape shape;
  std::vector<int> gpu_ids;  // CUDA_VISIBLE_DEVICES, where the executor assigns GPUs
  std::string partition;
  std::string image;
  std::string workdir;
  // For an executor that stages datasets itself (StagesDatasets()): what to
  // stage, and the volume of the resource to cache them on ("" : none; then
  // uncached datasets are cloned and cached ones fail). `datasets` is then
  // empty: the executor decides the paths.
  std::vector<JobDataset> stage;
  std::string stage_volume;
};

// What an attempt is doing, as far as its executor knows.
struct Execution {
  enum class Phase : uint8_t {
    kPending,  // accepted, not started (Slurm's PENDING)
    kRunning,
    kExited,  // ended; exit_code says how (128+N: killed by signal N)
    kLost,    // the executor no longer knows it: node or agent gone
  };
  Phase phase = Phase::kPending;
  // kExited: the command's code; kStagingFailed when the executor could not
  // put the datasets in place (the command never ran).
  int exit_code = -1;
  static constexpr int kStagingFailed = -2;
  std::string reason;  // kLost: why; kExited by the executor's hand: "cancelled"
};

// A compute backend: local processes, Slurm, an agent pool, Kubernetes.
// The scheduler (core/scheduler.h) decides what runs where; an executor
// only starts, watches and stops attempts, and keeps their output.
//
// Contract:
// - Thread-safe.
// - Launch returns the attempt's handle, a string the executor can find the
//   attempt by after a restart of the hub (a pid and start time, a Slurm job
//   id). Unavailable (retryable) when the backend cannot be reached;
//   InvalidArgument for a spec it can never run.
// - An attempt keeps running when the hub stops; its end is recorded where
//   Poll finds it later, so a restart loses no job.
// - Cancel is asynchronous and idempotent: Poll reports kExited once the
//   attempt has stopped.
class Executor {
 public:
  virtual ~Executor() = default;

  virtual Result<std::string> Launch(const LaunchSpec& spec) = 0;
  virtual Result<Execution> Poll(const std::string& handle) = 0;
  virtual Status Cancel(const std::string& handle) = 0;
  // Up to `max_bytes` of the attempt's output (stdout and stderr, merged)
  // from `offset`; empty at the end.
  virtual Result<std::string> ReadLog(const std::string& handle, uint64_t offset,
                                      size_t max_bytes) = 0;
  // Frees what the executor keeps for a finished attempt, except its log.
  virtual Status Forget(const std::string& handle) = 0;
  virtual std::string Describe() const = 0;
  // True when the executor stages datasets on its own machines (agents):
  // the scheduler then launches at once with LaunchSpec::stage, and the job
  // stays `staging` while Poll says kPending.
  virtual bool StagesDatasets() const { return false; }
};

}  // namespace proxima
