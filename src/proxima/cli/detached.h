#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "proxima/base/result.h"

namespace proxima {

struct DetachedOptions {
  std::string log;          // stdout and stderr are appended here
  mode_t log_mode = 0644;   // if it is created
  int pass_fd = -1;         // when set, the process gets it as descriptor 3
  bool chdir_root = false;  // run from '/', holding no directory busy
};

// Starts `exe` with `args` (args[0] is the name it is shown under) in a new
// session, detached from this terminal, stdin from /dev/null; returns its
// pid. Everything is prepared before fork, so it is safe in a process with
// other threads: the child only execs.
Result<pid_t> StartDetached(const std::string& exe, std::vector<std::string> args,
                            const DetachedOptions& options);

}  // namespace proxima
