#pragma once

#include <cstdint>
#include <string>

#include "proxima/base/result.h"
#include "proxima/ports/executor.h"

namespace proxima {

// An attempt's folder, shared by the executors that run attempts under a
// supervisor (local, slurm): <root>/<job>/<attempt>/ holds spec.json, log
// (the command's stdout and stderr), supervisor.pid, child.pid and, once
// the command ended, exit. The job's output folder is <root>/<job>/output.

struct AttemptSettings {
  std::string container_engine = "podman";
  std::string container_network = "host";
  int64_t kill_grace_ns = int64_t{10} * 1'000'000'000;
};

// Creates the attempt's folder and output folder and writes spec.json (a
// relaunch of the same attempt starts afresh); returns the folder.
Result<std::string> PrepareAttempt(const std::string& root, const LaunchSpec& spec,
                                   const AttemptSettings& settings);
// Reads DIR/exit into `e` (kExited, code, reason); false when absent.
bool ReadAttemptExit(const std::string& dir, Execution* e);
// Up to `max_bytes` of DIR/log from `offset` ("" before it exists).
Result<std::string> ReadAttemptLog(const std::string& dir, uint64_t offset, size_t max_bytes);

}  // namespace proxima
