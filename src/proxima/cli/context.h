#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "proxima/cli/environment.h"
#include "proxima/core/progress.h"
#include "proxima/core/repository.h"

namespace proxima {

// Options shared by every command, and the store and catalog, opened once.
struct CommandContext {
  explicit CommandContext(Environment& e) : env(e) {}

  Environment& env;
  std::string dir = ".";  // -C
  bool json = false;
  bool verbose = false;
  bool quiet = false;
  int threads = 0;

  Status Open();  // opens store, repository and catalog
  Repository& repo() { return *repo_; }
  RefStore& refs() { return *refs_; }
  // Opens the store and the cache catalog (volumes, caches, leases).
  Status OpenCaches();
  CacheCatalog& caches() { return *caches_; }
  // Opens the compute catalog (resources, templates, queues, jobs).
  Status OpenCompute();
  ComputeCatalog& compute() { return *compute_; }
  Progress progress;

 private:
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<RefStore> refs_;
  std::unique_ptr<CacheCatalog> caches_;
  std::unique_ptr<ComputeCatalog> compute_;
};

// Prints "proxima: error: <message>" on stderr and returns 1.
int ReportError(const Status& status);

}  // namespace proxima
