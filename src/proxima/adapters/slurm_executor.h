#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/ports/executor.h"

namespace proxima {

struct SlurmExecutorOptions {
  // Attempt folders (job_supervisor.h), on a file system the cluster's
  // nodes share with the hub at the same path.
  std::string root;
  // The supervisor the batch script runs on the node (the same path must
  // hold it there): proxima-supervise, or proxima with "__supervise".
  std::string supervisor;
  bool supervisor_is_proxima = false;
  // SLURM_CONF for the client commands ("" : Slurm's default).
  std::string slurm_conf;
  // Extra sbatch arguments ("--account=ml", "--qos=high").
  std::vector<std::string> sbatch_args;
  int64_t kill_grace_ns = int64_t{10} * 1'000'000'000;
};

// The `slurm` executor: each attempt is one batch job, submitted with
// `sbatch --parsable` (CPUs per task, memory, GPUs as `--gres=gpu:N`, the
// template's partition), whose script runs the attempt's supervisor on the
// node, so that exit codes and output land in the attempt's folder exactly
// as for local attempts. State is read back with `squeue` (one call per
// 100 ms for every attempt) and, for jobs that left the queue, the exit
// record or `scontrol show job`; `scancel` cancels. Handles are
// "<slurm job id>@<job>/<attempt>". Thread-safe.
//
// Errors: a controller that does not answer is Unavailable (the scheduler
// retries the launch); a request Slurm refuses (unknown partition, more GPUs
// than a node has) is InvalidArgument with sbatch's message.
std::unique_ptr<Executor> MakeSlurmExecutor(SlurmExecutorOptions options);

// The options of a slurm resource from its config JSON ({"slurm_conf",
// "sbatch_args": [...], "jobs_dir"}), with `default_root` where attempts
// go when the config names no jobs_dir.
Result<SlurmExecutorOptions> SlurmOptionsFromConfig(const std::string& config_json,
                                                    const std::string& default_root);

}  // namespace proxima
