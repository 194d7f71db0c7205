#pragma once

#include <functional>
#include <memory>
#include <string>

#include "proxima/base/result.h"
#include "proxima/ports/cache_catalog.h"
#include "proxima/ports/change_feed.h"
#include "proxima/ports/clock.h"
#include "proxima/ports/compute_catalog.h"
#include "proxima/ports/executor.h"
#include "proxima/ports/object_store.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

// `proxima server` as the command line asked for it.
struct ServerArgs {
  std::string config_file;  // --config
  std::string listen;       // --listen, overriding the file
  bool quiet = false;       // no request log
};

// What the composition root (app/) hands the CLI: how to reach the store
// and the catalog, and the clock. The CLI never names a concrete adapter.
struct Environment {
  std::string home;  // $PROXIMA_HOME
  // The store and the catalog: embedded ones under `home`, or the hub's when
  // one is set (--hub, PROXIMA_HUB or 'proxima login').
  std::function<Result<std::unique_ptr<ObjectStore>>()> open_store;
  std::function<Result<std::unique_ptr<RefStore>>()> open_refs;
  // The catalog's volumes, caches and leases (the embedded catalog).
  std::function<Result<std::unique_ptr<CacheCatalog>>()> open_caches;
  // Compute resources, templates, queues and jobs: the embedded catalog's,
  // or the hub's.
  std::function<Result<std::unique_ptr<ComputeCatalog>>()> open_compute;
  // Embedded mode: the executor of a resource on this machine (nullptr:
  // none), with jobs under $PROXIMA_HOME/jobs, and this machine's shape.
  std::function<Executor*(const ResourceRecord&)> executor_for;
  Shape local_capacity{1000, 0, 0};
  // This program, for commands that start a copy of it in the background.
  std::string self_exe = "/proc/self/exe";
  Clock* clock = nullptr;
  bool stderr_is_tty = false;

  std::string hub_flag;  // --hub URL, set by the CLI before it opens anything
  // True when the commands go through a hub (--hub, PROXIMA_HUB or a login).
  std::function<Result<bool>()> uses_hub;
  // One call of the hub's REST API: the body of a 2xx answer, or the error.
  // FailedPrecondition when no hub is set.
  std::function<Result<std::string>(std::string_view method, const std::string& path,
                                    std::string_view body)>
      hub_call;
  // Checks `token` against the hub at `url` (GET /api/v1/whoami) and records
  // the login in $PROXIMA_HOME/config.yaml; returns the whoami answer.
  std::function<Result<std::string>(const std::string& url, const std::string& token)> login;
  // A bound folder's watcher (`proxima data watch`): its change feed, one
  // request to it ("status", "stop"; Unavailable when none answers), and the
  // watcher itself, run in this process until it stops (`ready_fd` as in
  // WatchDaemonOptions).
  std::function<std::unique_ptr<ChangeFeed>(const std::string& root)> change_feed;
  std::function<Result<std::string>(const std::string& root, const std::string& request)>
      watch_request;
  std::function<Status(const std::string& root, int ready_fd)> run_watcher;
  // Runs the hub until SIGTERM; returns the exit code.
  std::function<int(const ServerArgs&)> run_server;
};

// Runs the command line; returns the process exit code: 0 success, 1 error,
// 2 usage error, 3 finished but some files could not be read (listed).
int RunCli(int argc, char** argv, Environment& env);

}  // namespace proxima
