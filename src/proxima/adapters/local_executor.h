#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "proxima/ports/executor.h"

namespace proxima {

struct LocalExecutorOptions {
  // Attempts live in <root>/<job>/<attempt>/ (spec.json, log, pid files and
  // the exit record); a job's /output is <root>/<job>/output.
  std::string root;
  // What supervises each attempt: `proxima-supervise` (a small program
  // beside this one: it starts in a millisecond, where this program's
  // dynamic loading takes ten) or, when empty, `<self_exe> __supervise`.
  std::string supervisor;
  std::string self_exe = "/proc/self/exe";
  // A cancelled attempt gets SIGTERM, then SIGKILL after this long.
  int64_t kill_grace_ns = int64_t{10} * 1'000'000'000;
  // Containers: the engine's command ("podman") and its network ("none",
  // "host").
  std::string container_engine = "podman";
  std::string container_network = "host";
  // Called (from the executor's own thread) when an attempt it started
  // ends, so that the scheduler looks at once instead of at its next tick.
  std::function<void()> on_exit;
};

// The `local` executor: each attempt is a process group on this machine,
// watched by a small supervisor process (this program again) that records
// the exit code in the attempt's folder. Supervisors run in their own
// session, so attempts outlive the hub, and a restarted hub finds their
// ends in the folder. An attempt with an image runs in a container
// (podman), its datasets bind-mounted read-only at /data/<name> and its
// output folder at /output. Thread-safe.
std::unique_ptr<Executor> MakeLocalExecutor(LocalExecutorOptions options);

// This machine's shape: its CPUs (as sched_getaffinity allows), its memory,
// and its NVIDIA GPUs: PROXIMA_GPUS when set, else what NVML counts (the
// driver's libnvidia-ml, loaded at run time), else the /dev/nvidiaN devices.
Shape LocalMachineShape();

}  // namespace proxima
