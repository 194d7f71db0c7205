#pragma once

#include <string>

namespace proxima {

// `proxima-supervise DIR` (or `proxima __supervise DIR`): runs the attempt
// that DIR/spec.json describes (a command, or with "image" a podman
// container), with its output in DIR/log; forwards SIGTERM and SIGINT to its
// process group (SIGKILL after the spec's grace period); then writes
// DIR/exit atomically: the exit code (128+N for signal N) and a reason.
// Returns this process's exit code (0 once the exit is recorded).
int SuperviseAttempt(const std::string& dir);

}  // namespace proxima
