#include "proxima/core/scheduler.h"

#include <sys/stat.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "proxima/base/file_util.h"
#include "proxima/base/units.h"
#include "proxima/core/cache_fill.h"
#include "proxima/core/cache_janitor.h"
#include "proxima/core/cache_volume.h"
#include "proxima/core/placement.h"
#include "proxima/core/restore.h"

namespace proxima {

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string JobName(const JobRecord& job) { return "job " + std::to_string(job.id); }

std::string LeaseId(const JobRecord& job, size_t dataset_index) {
  return "job-" + std::to_string(job.id) + "-" + std::to_string(dataset_index);
}

// Where one dataset of a job comes from on the job's resource.
struct Source {
  const VolumeRecord* volume = nullptr;  // a cache on this volume...
  std::string clone_dir;                 // ...or a private clone here
  std::string path;                      // what the job reads
  std::string lease_id;
};

}  // namespace

// A fill or a clone running in the background for staging jobs.
struct StageTask {
  std::thread thread;
  std::atomic<bool> done{false};
  Status status;  // written before `done`
};

struct Scheduler::Impl {
  SchedulerServices s;
  SchedulerOptions o;
  std::map<std::string, std::unique_ptr<StageTask>> stages;
  std::unordered_map<std::string, int64_t> lease_expiry;  // lease id -> expiry we set

  // Per pass.
  int64_t now = 0;
  std::vector<VolumeRecord> volumes;
  std::unordered_map<std::string, TemplateRecord> templates;
  std::unordered_map<std::string, ResourceRecord> resources;
  std::unordered_map<std::string, std::set<int>> gpus_used;
  std::set<int64_t> launch_failed;  // jobs whose launch failed this pass
  PassReport report;

  Impl(SchedulerServices services, SchedulerOptions options)
      : s(std::move(services)), o(std::move(options)) {}

  void Log(const std::string& line) {
    if (s.log) s.log(line);
  }

  const VolumeRecord* VolumeOf(const std::string& resource) const {
    for (const VolumeRecord& v : volumes) {
      if (v.resource == resource) return &v;  // the first, by name
    }
    return nullptr;
  }

  Result<std::vector<Source>> Sources(const JobRecord& job) {
    std::vector<Source> out;
    const VolumeRecord* volume = VolumeOf(job.resource);
    for (size_t i = 0; i < job.spec.datasets.size(); ++i) {
      const JobDataset& d = job.spec.datasets[i];
      Source src;
      src.lease_id = LeaseId(job, i);
      if (volume != nullptr) {
        src.volume = volume;
        PROXIMA_ASSIGN_OR_RETURN(CacheVolume vol, CacheVolume::Open(*volume));
        src.path = vol.TreePath(d.name, d.commit);
      } else if (d.cached) {
        return Status::FailedPrecondition(
            "dataset " + Quote(d.name) + " is to be read from a cache, and resource " +
            Quote(job.resource) + " has no cache volume (add one with 'proxima volume add NAME " +
            "--path DIR --resource " + job.resource + "', or drop ':cached')");
      } else {
        src.clone_dir = o.jobs_dir + "/" + std::to_string(job.id) + "/data/" + d.name;
        src.path = src.clone_dir;
      }
      out.push_back(std::move(src));
    }
    return out;
  }

  // Starts `work` in the background under `key` unless it runs already.
  // Returns the task's outcome when it has finished (and forgets it), or
  // nullopt while it runs.
  std::optional<Status> Stage(const std::string& key, std::function<Status()> work) {
    auto it = stages.find(key);
    if (it == stages.end()) {
      auto task = std::make_unique<StageTask>();
      StageTask* t = task.get();
      t->thread = std::thread([t, work = std::move(work)] {
        t->status = work();
        t->done.store(true, std::memory_order_release);
      });
      stages.emplace(key, std::move(task));
      return std::nullopt;
    }
    if (!it->second->done.load(std::memory_order_acquire)) return std::nullopt;
    it->second->thread.join();
    Status st = it->second->status;
    stages.erase(it);
    return st;
  }

  // OK when every dataset of the job is in place; Unavailable while some
  // are being staged; another error when staging failed.
  Status DatasetsReady(const JobRecord& job, const std::vector<Source>& sources) {
    bool pending = false;
    for (size_t i = 0; i < sources.size(); ++i) {
      const JobDataset& d = job.spec.datasets[i];
      const Source& src = sources[i];
      if (src.volume == nullptr) {
        struct stat st;
        if (::stat(src.clone_dir.c_str(), &st) == 0) continue;  // clones appear whole
        std::string key = "clone\n" + src.clone_dir;
        std::optional<Status> done = Stage(key, [this, d, id = job.id] {
          return ClonePrivately(s.repo, s.clock, o.jobs_dir, id, d, o.stage_threads).status();
        });
        if (done && !done->ok()) return *done;
        pending = true;
        continue;
      }
      PROXIMA_ASSIGN_OR_RETURN(auto row, s.caches.GetCache(src.volume->name, d.name, d.commit));
      if (row && row->state == CacheState::kReady) continue;
      std::string key = "fill\n" + src.volume->name + "\n" + d.name + "\n" + d.commit.Hex();
      std::optional<Status> done = Stage(key, [this, volume = *src.volume, d] {
        CacheServices cs{s.repo, s.caches, s.clock, o.stage_threads, nullptr, {}};
        return FillCache(cs, volume, d.name, d.commit).status();
      });
      if (done && !done->ok()) return *done;
      pending = true;
    }
    return pending ? Status::Unavailable("staging") : Status::Ok();
  }

  // Stores `job` (by compare-and-swap); false when another writer changed
  // it meanwhile (the next pass sees the new row).
  bool Store(JobRecord& job) {
    Result<int64_t> v = s.compute.PutJob(job);
    if (!v.ok()) {
      if (v.status().code() != StatusCode::kFailedPrecondition) {
        Log(JobName(job) + ": cannot record its state: " + v.status().message());
      }
      return false;
    }
    job.version = *v;
    return true;
  }

  void ReleaseLeases(const JobRecord& job) {
    for (size_t i = 0; i < job.spec.datasets.size(); ++i) {
      std::string id = LeaseId(job, i);
      lease_expiry.erase(id);
      Status st = s.caches.DeleteLease(id);
      if (!st.ok() && !st.IsNotFound()) Log(JobName(job) + ": " + st.message());
    }
  }

  void Finish(JobRecord& job, JobState state, JobFailure failure, std::string reason) {
    job.state = state;
    job.failure = failure;
    job.reason = std::move(reason);
    job.finished_unix_ns = now;
    if (Store(job)) {
      ReleaseLeases(job);
      ++report.finished;
      if (!job.handle.empty()) {
        if (Executor* ex = ExecutorOf(job.resource)) IgnoreError(ex->Forget(job.handle));
      }
    }
  }

  // Back to the queue after an infrastructure failure, or failed for good
  // when the job has no retries left.
  void RetryOrFail(JobRecord& job, JobFailure failure, const std::string& why) {
    if (job.attempts > job.spec.max_retries) {
      Finish(job, JobState::kFailed, failure,
             why + " (attempt " + std::to_string(job.attempts) + ", no retries left)");
      return;
    }
    JobRecord before = job;
    BackToQueue(job, "attempt " + std::to_string(job.attempts) + " on " + Quote(job.resource) +
                         ": " + why + "; retrying");
    job.failure = JobFailure::kNone;
    job.started_unix_ns = 0;
    if (Store(job)) {
      ReleaseLeases(before);
      ++report.retried;
      Log(JobName(job) + ": " + job.reason);
      if (!before.handle.empty()) {
        if (Executor* ex = ExecutorOf(before.resource)) IgnoreError(ex->Forget(before.handle));
      }
    }
  }

  // The job queued again, placed nowhere (not stored).
  static void BackToQueue(JobRecord& job, std::string reason) {
    job.state = JobState::kQueued;
    job.reason = std::move(reason);
    job.placement.clear();
    job.template_name.clear();
    job.resource.clear();
    job.handle.clear();
    job.gpu_ids.clear();
  }

  // A launch the executor refused. One that could not reach its backend
  // (unreachable, no agent connected) goes back to the queue without
  // counting an attempt, since nothing ran, and is placed again from the
  // next pass on; any other refusal fails the job.
  void LaunchFailed(JobRecord& job, const Status& why) {
    launch_failed.insert(job.id);
    if (why.code() == StatusCode::kUnavailable) {
      std::string reason = "could not launch on " + Quote(job.resource) + ": " + why.message();
      BackToQueue(job, reason);
      if (Store(job)) Log(JobName(job) + ": " + reason);
    } else {
      Finish(job, JobState::kFailed, JobFailure::kLaunch, "could not launch: " + why.message());
    }
  }

  Executor* ExecutorOf(const std::string& resource) {
    auto it = resources.find(resource);
    if (it == resources.end() || !s.executor_for) return nullptr;
    return s.executor_for(it->second);
  }

  void Running(JobRecord& job) {
    Executor* ex = ExecutorOf(job.resource);
    if (ex == nullptr) {
      RetryOrFail(job, JobFailure::kInfrastructure,
                  "resource " + Quote(job.resource) + " is gone or has no executor here");
      return;
    }
    if (job.cancel_requested) {
      IgnoreError(ex->Cancel(job.handle));
      Finish(job, JobState::kCancelled, JobFailure::kNone, "cancelled while running");
      return;
    }
    if (job.spec.timeout_ns > 0 && now - job.started_unix_ns > job.spec.timeout_ns) {
      IgnoreError(ex->Cancel(job.handle));
      Finish(job, JobState::kTimedOut, JobFailure::kNone,
             "ran longer than its timeout of " + FormatDuration(job.spec.timeout_ns));
      return;
    }
    Result<Execution> e = ex->Poll(job.handle);
    if (!e.ok()) {
      Log(JobName(job) + ": cannot poll " + ex->Describe() + ": " + e.status().message());
      return;
    }
    Ended(job, *e);
  }

  // Records what the executor says of a launched attempt.
  void Ended(JobRecord& job, const Execution& e) {
    switch (e.phase) {
      case Execution::Phase::kPending:
      case Execution::Phase::kRunning:
        RenewLeases(job);
        return;
      case Execution::Phase::kLost:
        RetryOrFail(job, JobFailure::kInfrastructure, e.reason);
        return;
      case Execution::Phase::kExited:
        if (e.exit_code == Execution::kStagingFailed) {
          Finish(job, JobState::kFailed, JobFailure::kStaging,
                 "staging its data failed: " + e.reason);
          return;
        }
        job.exit_code = e.exit_code;
        if (e.exit_code == 0) {
          Finish(job, JobState::kSucceeded, JobFailure::kNone, "");
        } else if (job.spec.retry_on_exit && job.attempts <= job.spec.max_retries) {
          RetryOrFail(job, JobFailure::kExit, "exited with code " + std::to_string(e.exit_code));
        } else {
          Finish(job, JobState::kFailed, JobFailure::kExit,
                 "exited with code " + std::to_string(e.exit_code) +
                     (e.reason.empty() ? "" : " (" + e.reason + ")"));
        }
        return;
    }
  }

  void RenewLeases(const JobRecord& job) {
    if (job.spec.datasets.empty()) return;
    const VolumeRecord* volume = VolumeOf(job.resource);
    if (volume == nullptr) return;
    for (size_t i = 0; i < job.spec.datasets.size(); ++i) {
      std::string id = LeaseId(job, i);
      auto it = lease_expiry.find(id);
      if (it != lease_expiry.end() && it->second - now > o.lease_ns / 2) continue;
      const JobDataset& d = job.spec.datasets[i];
      LeaseRecord lease{id,           volume->name,     d.name,   d.commit,
                        JobName(job), now + o.lease_ns, job.owner};
      Status st = s.caches.PutLease(lease);
      if (st.ok()) {
        lease_expiry[id] = lease.expires_unix_ns;
      } else {
        Log(JobName(job) + ": cannot renew the lease on " + d.name + ": " + st.message());
      }
    }
  }

  std::vector<int> AssignGpus(const JobRecord& job, const TemplateRecord& t) {
    std::vector<int> ids;
    if (t.shape.gpus <= 0) return ids;
    auto res = resources.find(job.resource);
    if (res == resources.end() || res->second.kind != ResourceKind::kLocal) return ids;
    std::set<int>& used = gpus_used[job.resource];
    for (int g = 0; g < res->second.capacity.gpus && static_cast<int>(ids.size()) < t.shape.gpus;
         ++g) {
      if (used.count(g) == 0) ids.push_back(g);
    }
    for (int g : ids) used.insert(g);
    return ids;
  }

  void Staging(JobRecord& job) {
    if (job.cancel_requested) {
      if (!job.handle.empty()) {  // launched to an executor that stages
        if (Executor* ex = ExecutorOf(job.resource)) IgnoreError(ex->Cancel(job.handle));
      }
      Finish(job, JobState::kCancelled, JobFailure::kNone, "cancelled while staging its data");
      return;
    }
    auto t = templates.find(job.template_name);
    Executor* ex = ExecutorOf(job.resource);
    if (t == templates.end() || ex == nullptr) {
      RetryOrFail(job, JobFailure::kLaunch,
                  t == templates.end()
                      ? "template " + Quote(job.template_name) + " was removed"
                      : "this hub has no executor for resource " + Quote(job.resource));
      return;
    }
    if (ex->StagesDatasets()) {
      RemoteStaging(job, *ex, t->second);
      return;
    }
    Result<std::vector<Source>> sources = Sources(job);
    if (!sources.ok()) {
      Finish(job, JobState::kFailed, JobFailure::kStaging, sources.status().message());
      return;
    }
    Status ready = DatasetsReady(job, *sources);
    if (ready.code() == StatusCode::kUnavailable) {
      report.busy = true;
      return;
    }
    if (!ready.ok()) {
      Finish(job, JobState::kFailed, JobFailure::kStaging,
             "staging its data failed: " + ready.message());
      return;
    }
    LaunchSpec spec = BaseSpec(job, t->second);
    for (size_t i = 0; i < sources->size(); ++i) {
      const Source& src = (*sources)[i];
      const JobDataset& d = job.spec.datasets[i];
      if (src.volume != nullptr) {
        CacheServices cs{s.repo, s.caches, s.clock, 1, nullptr, {}};
        Result<LeaseRecord> lease =
            TakeLease(cs, *src.volume, d.name, d.commit, JobName(job), o.lease_ns);
        if (!lease.ok()) {  // evicted between the check and now: stage again
          report.busy = true;
          return;
        }
        // TakeLease names its own lease; ours has the job's id, so a
        // restarted scheduler finds and renews it.
        LeaseRecord mine = *lease;
        mine.id = src.lease_id;
        mine.owner = job.owner;
        Status put = s.caches.PutLease(mine);
        IgnoreError(s.caches.DeleteLease(lease->id));
        if (!put.ok()) {
          report.busy = true;
          return;
        }
        lease_expiry[mine.id] = mine.expires_unix_ns;
      }
      spec.datasets.emplace_back(d.name, src.path);
      spec.env.emplace_back(DatasetVariable(d.name), src.path);
      if (i == 0) spec.env.emplace_back("PROXIMA_DATA", src.path);
    }
    spec.gpu_ids = AssignGpus(job, t->second);

    Result<std::string> handle = ex->Launch(spec);
    if (!handle.ok()) {
      ReleaseLeases(job);
      LaunchFailed(job, handle.status());
      return;
    }
    job.state = JobState::kRunning;
    job.handle = *handle;
    job.gpu_ids = spec.gpu_ids;
    job.attempts = spec.attempt;
    job.started_unix_ns = now;
    job.reason.clear();
    if (!Store(job)) {
      // Cancelled (or changed) while it was being launched: stop it again.
      IgnoreError(ex->Cancel(*handle));
      ReleaseLeases(job);
      return;
    }
    ++report.launched;
    report.busy = true;
  }

  // Staging on an executor that stages datasets itself (an agent): launch
  // at once with what to stage; the job stays staging until the executor
  // says the command runs.
  void RemoteStaging(JobRecord& job, Executor& ex, const TemplateRecord& t) {
    if (!job.handle.empty()) {
      Result<Execution> e = ex.Poll(job.handle);
      if (!e.ok()) {
        Log(JobName(job) + ": cannot poll " + ex.Describe() + ": " + e.status().message());
        return;
      }
      report.busy = true;
      if (e->phase == Execution::Phase::kPending) return;
      if (e->phase == Execution::Phase::kRunning) {
        job.state = JobState::kRunning;
        job.started_unix_ns = now;
        job.reason.clear();
        Store(job);
        return;
      }
      Ended(job, *e);
      return;
    }
    LaunchSpec spec = BaseSpec(job, t);
    spec.stage = job.spec.datasets;
    const VolumeRecord* volume = VolumeOf(job.resource);
    if (volume != nullptr) spec.stage_volume = volume->name;
    Result<std::string> handle = ex.Launch(spec);
    if (!handle.ok()) {
      LaunchFailed(job, handle.status());
      return;
    }
    job.handle = *handle;
    job.attempts = spec.attempt;
    job.reason = "staging on " + ex.Describe();
    if (!Store(job)) {
      IgnoreError(ex.Cancel(*handle));
      return;
    }
    ++report.launched;
    report.busy = true;
  }

  LaunchSpec BaseSpec(const JobRecord& job, const TemplateRecord& t) {
    LaunchSpec spec;
    spec.job_id = job.id;
    spec.attempt = job.attempts + 1;
    spec.resource = job.resource;
    spec.command = job.spec.command;
    spec.env = job.spec.env;
    spec.env.emplace_back("PROXIMA_JOB_ID", std::to_string(job.id));
    spec.shape = t.shape;
    spec.partition = t.partition;
    spec.image = job.spec.image.empty() ? t.image : job.spec.image;
    spec.workdir = job.spec.workdir;
    return spec;
  }

  void Queued(JobRecord& job, PlacementView& view) {
    if (job.cancel_requested) {
      Finish(job, JobState::kCancelled, JobFailure::kNone, "cancelled while queued");
      return;
    }
    bool explain = job.placement.empty();
    if (view.Exhausted() && !explain) {
      ++report.waiting;
      return;
    }
    PlacementView::Decision d = view.Place(job, now, explain);
    if (d.impossible) {
      Finish(job, JobState::kFailed, JobFailure::kLaunch, d.why);
      return;
    }
    if (!d.placed) {
      ++report.waiting;
      if (explain && d.why != job.placement) {
        job.placement = d.why;
        Store(job);
      }
      return;
    }
    job.state = JobState::kStaging;
    job.template_name = d.template_name;
    job.resource = d.resource;
    job.placement = d.why;
    if (!Store(job)) return;
    ++report.placed;
    Staging(job);
  }

  Result<PassReport> Pass() {
    report = PassReport{};
    now = s.clock.NowUnixNanos();
    PROXIMA_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, s.compute.ListActiveJobs());
    PROXIMA_ASSIGN_OR_RETURN(std::vector<ResourceRecord> res, s.compute.ListResources());
    PROXIMA_ASSIGN_OR_RETURN(std::vector<TemplateRecord> tmpl, s.compute.ListTemplates());
    PROXIMA_ASSIGN_OR_RETURN(volumes, s.caches.ListVolumes());
    resources.clear();
    templates.clear();
    gpus_used.clear();
    for (const ResourceRecord& r : res) resources[r.name] = r;
    for (const TemplateRecord& t : tmpl) templates[t.name] = t;

    for (const JobRecord& job : jobs) {
      if (job.state == JobState::kQueued) continue;
      for (int g : job.gpu_ids) gpus_used[job.resource].insert(g);
    }
    launch_failed.clear();

    // Running and staging jobs first: what they free is placed below.
    for (JobRecord& job : jobs) {
      if (job.state == JobState::kRunning) {
        report.busy = true;
        Running(job);
      } else if (job.state == JobState::kStaging || job.state == JobState::kPlacing) {
        Staging(job);
      }
    }
    // What finished above no longer holds its shape; what was lost goes
    // back to the queue and may be placed again now.
    bool any_queued = false;
    std::unordered_map<std::string, Shape> used;
    gpus_used.clear();
    for (const JobRecord& job : jobs) {
      any_queued |= job.state == JobState::kQueued;
      if (job.state != JobState::kStaging && job.state != JobState::kRunning &&
          job.state != JobState::kPlacing) {
        continue;
      }
      for (int g : job.gpu_ids) gpus_used[job.resource].insert(g);
      auto t = templates.find(job.template_name);
      if (t == templates.end()) continue;
      Shape& u = used[job.resource];
      u.millicpus += t->second.shape.millicpus;
      u.memory_bytes += t->second.shape.memory_bytes;
      u.gpus += t->second.shape.gpus;
    }
    if (!any_queued) return report;
    PROXIMA_ASSIGN_OR_RETURN(std::vector<QueueRecord> queues, s.compute.ListQueues());
    std::vector<CacheRecord> caches;
    bool needs_data = false;
    for (const JobRecord& job : jobs) {
      needs_data |= job.state == JobState::kQueued && !job.spec.datasets.empty();
    }
    if (needs_data) {
      PROXIMA_ASSIGN_OR_RETURN(caches, s.caches.ListCaches(""));
    }
    PlacementView view(res, tmpl, std::move(queues), volumes, caches, used);
    for (JobRecord& job : jobs) {
      // A launch that failed waits for the next pass rather than hammering
      // the backend.
      if (job.state == JobState::kQueued && launch_failed.count(job.id) == 0) Queued(job, view);
    }
    return report;
  }
};

Scheduler::Scheduler(SchedulerServices services, SchedulerOptions options)
    : impl_(std::make_unique<Impl>(std::move(services), std::move(options))) {}

Scheduler::~Scheduler() {
  for (auto& [key, task] : impl_->stages) {
    if (task->thread.joinable()) task->thread.join();
  }
}

Result<PassReport> Scheduler::RunOnce() {
  Result<PassReport> r = impl_->Pass();
  if (r.ok() && !impl_->stages.empty()) r->busy = true;
  return r;
}

Result<JobRecord> RequestCancel(ComputeCatalog& catalog, int64_t id) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    PROXIMA_ASSIGN_OR_RETURN(JobRecord job, catalog.GetJob(id));
    if (JobIsFinished(job.state) || job.cancel_requested) return job;
    job.cancel_requested = true;
    Result<int64_t> v = catalog.PutJob(job);
    if (v.ok()) {
      job.version = *v;
      return job;
    }
    if (v.status().code() != StatusCode::kFailedPrecondition) return v.status();
  }
  return Status::Unavailable("job " + std::to_string(id) +
                             " changes too fast to cancel; try again");
}

Result<std::string> ClonePrivately(Repository& repo, Clock& clock, const std::string& jobs_dir,
                                   int64_t job_id, const JobDataset& dataset, int threads) {
  std::string parent = jobs_dir + "/" + std::to_string(job_id) + "/data";
  std::string dir = parent + "/" + dataset.name;
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return dir;
  PROXIMA_RETURN_IF_ERROR(MakeDirs(parent));
  PROXIMA_RETURN_IF_ERROR(
      CloneCommit(repo, clock, dataset.name, dataset.commit, dir, threads, nullptr).status());
  return dir;
}

std::string DatasetVariable(std::string_view dataset) {
  std::string out = "PROXIMA_DATA_";
  for (char c : dataset) {
    out += (c >= 'a' && c <= 'z')                               ? static_cast<char>(c - 'a' + 'A')
           : ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c
                                                                : '_';
  }
  return out;
}

Status EnsureDefaultCompute(ComputeCatalog& catalog, const Shape& machine, int64_t now_unix_ns) {
  PROXIMA_ASSIGN_OR_RETURN(std::vector<ResourceRecord> resources, catalog.ListResources());
  if (!resources.empty()) return Status::Ok();
  auto tolerate = [](const Status& st) {
    return st.ok() || st.IsAlreadyExists() ? Status::Ok() : st;
  };
  ResourceRecord local{"local", ResourceKind::kLocal, machine, "{}", now_unix_ns};
  PROXIMA_RETURN_IF_ERROR(tolerate(catalog.CreateResource(local)));
  TemplateRecord one{"local", "local", Shape{1000, 0, 0}, "", "", now_unix_ns};
  PROXIMA_RETURN_IF_ERROR(tolerate(catalog.CreateTemplate(one)));
  QueueRecord queue{"default", {"local"}, 0, now_unix_ns};
  return tolerate(catalog.CreateQueue(queue));
}

}  // namespace proxima
