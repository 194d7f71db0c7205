#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "proxima/ports/executor.h"

namespace proxima {

// The executors of this machine, by resource (docs/scheduler.md): one local
// executor for every `local` resource, one Slurm executor per `slurm`
// resource (made from its config, again when the config changes). Attempts
// live under `jobs_root` (<jobs_root> for local ones, <jobs_root>/slurm-<r>
// for Slurm's unless its config names a jobs_dir). Thread-safe; the
// executors live as long as this object.
class Executors {
 public:
  // `on_exit`: called when a local attempt ends (the scheduler's wake-up).
  Executors(std::string jobs_root, std::function<void()> on_exit);
  ~Executors();

  // nullptr for a resource this machine cannot run (agent pools, a broken
  // Slurm config: said once on stderr).
  Executor* For(const ResourceRecord& resource);

 private:
  std::string jobs_root_;
  std::function<void()> on_exit_;
  std::string supervisor_;  // proxima-supervise beside this program, or ""
  std::string self_;
  std::mutex mu_;
  std::unique_ptr<Executor> local_;
  std::map<std::string, std::pair<std::string, std::unique_ptr<Executor>>> slurm_;
  std::vector<std::unique_ptr<Executor>> retired_;
};

}  // namespace proxima
