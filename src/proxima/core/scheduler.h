#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "proxima/core/repository.h"
#include "proxima/ports/cache_catalog.h"
#include "proxima/ports/clock.h"
#include "proxima/ports/compute_catalog.h"
#include "proxima/ports/executor.h"

namespace proxima {

struct SchedulerServices {
  ComputeCatalog& compute;
  CacheCatalog& caches;
  Repository& repo;
  Clock& clock;
  // The executor of a resource, or nullptr when this hub has none for it.
  // Called on the scheduler's thread; the executor outlives the scheduler.
  std::function<Executor*(const ResourceRecord&)> executor_for;
  // What is worth a line in the hub's log; may be empty.
  std::function<void(const std::string&)> log;
};

struct SchedulerOptions {
  // Where jobs without a cache volume get private clones of their datasets
  // (<jobs_dir>/<id>/data/<name>), on this machine.
  std::string jobs_dir;
  // A running job's leases on its caches last this long, renewed at half.
  int64_t lease_ns = int64_t{600} * 1'000'000'000;
  int stage_threads = 4;  // per fill or clone
};

struct PassReport {
  int placed = 0;
  int launched = 0;
  int finished = 0;
  int retried = 0;
  int waiting = 0;    // queued jobs left waiting for room
  bool busy = false;  // something is staging or running: pass again soon
};

// The meta-scheduler (docs/scheduler.md): moves jobs through queued,
// staging, running and an end state, on the catalog by compare-and-swap,
// so a hub killed at any point resumes from the rows. One pass:
// 1. running jobs: polls their executors; records exits, retries attempts
//    whose node or agent was lost, enforces timeouts and cancellations,
//    renews the leases on their caches;
// 2. staging jobs: once every dataset is in place (a ready cache on the
//    resource's volume, or a private clone), takes leases and launches;
//    starts fills and clones in the background otherwise;
// 3. queued jobs, oldest first: places them (core/placement.h).
//
// Not thread-safe: one thread calls RunOnce (the server's scheduler
// thread). Background fills run on threads it owns and joins.
class Scheduler {
 public:
  Scheduler(SchedulerServices services, SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  Result<PassReport> RunOnce();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Asks for job `id` to be cancelled: sets cancel_requested by compare-and-
// swap, reading again when another writer (the scheduler) got there first.
// Returns the job as stored (unchanged when it had ended or was already
// being cancelled); the scheduler acts on the request.
Result<JobRecord> RequestCancel(ComputeCatalog& catalog, int64_t id);

// A job's private clone of a dataset (for a resource without a cache
// volume): <jobs_dir>/<job>/data/<name>, cloned unless already there (a
// clone appears whole, so one that exists is complete). Returns the folder.
Result<std::string> ClonePrivately(Repository& repo, Clock& clock, const std::string& jobs_dir,
                                   int64_t job_id, const JobDataset& dataset, int threads);

// The variable that names a dataset's folder in a job's environment:
// PROXIMA_DATA_<NAME>, upper-cased, other characters as '_'.
std::string DatasetVariable(std::string_view dataset);

// The embedded defaults (docs/scheduler.md): when the catalog has no compute
// resource yet, records resource "local" (kind local, with `machine` as its
// capacity), template "local" (one CPU) and queue "default" (that
// template), so that `proxima run -- CMD` works on a fresh install. Safe to
// call from several processes at once.
Status EnsureDefaultCompute(ComputeCatalog& catalog, const Shape& machine, int64_t now_unix_ns);

}  // namespace proxima
