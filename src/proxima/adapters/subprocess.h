#pragma once

#include <string>
#include <utility>
#include <vector>

#include "proxima/base/result.h"

namespace proxima {

struct ProcessOutput {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs `argv` (argv[0] looked up in PATH) with `env` added to this
// process's environment, stdin from /dev/null, and waits for it. Safe in a
// multi-threaded process (posix_spawn). Unavailable when it cannot be
// started (naming the program); its exit code is the caller's to judge.
Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv,
                                 const std::vector<std::pair<std::string, std::string>>& env = {});

}  // namespace proxima
