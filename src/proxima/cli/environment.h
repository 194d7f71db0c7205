#pragma once

#include <functional>
#include <memory>
#include <string>

#include "proxima/base/result.h"
#include "proxima/ports/clock.h"
#include "proxima/ports/object_store.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

// What the composition root (app/) hands the CLI: how to reach the store
// and the catalog, and the clock. The CLI never names a concrete adapter.
struct Environment {
  std::string home;  // $PROXIMA_HOME
  std::function<Result<std::unique_ptr<ObjectStore>>()> open_store;
  std::function<Result<std::unique_ptr<RefStore>>()> open_refs;
  Clock* clock = nullptr;
  bool stderr_is_tty = false;
};

// Runs the command line; returns the process exit code: 0 success, 1 error,
// 2 usage error, 3 finished but some files could not be read (listed).
int RunCli(int argc, char** argv, Environment& env);

}  // namespace proxima
