#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/model/keys.h"

namespace proxima {

// The catalog's rows for compute (docs/scheduler.md): resources, the
// templates that name shapes on them, queues of templates, and jobs.

// What a resource offers, or what a job asks for. Memory 0: not accounted.
struct Shape {
  int64_t millicpus = 0;  // 1000 = one CPU
  uint64_t memory_bytes = 0;
  int64_t gpus = 0;

  bool FitsIn(const Shape& free) const {
    return millicpus <= free.millicpus && memory_bytes <= free.memory_bytes && gpus <= free.gpus;
  }
};

// local: processes on the hub's machine; agent: hosts running `proxima
// agent`; slurm: a Slurm cluster; kubernetes: reserved for the executor of
// a later release.
enum class ResourceKind : uint8_t { kLocal, kAgent, kSlurm, kKubernetes };

inline std::string_view ResourceKindName(ResourceKind kind) {
  constexpr std::string_view kNames[] = {"local", "agent", "slurm", "kubernetes"};
  return kNames[static_cast<int>(kind)];
}
inline std::optional<ResourceKind> ParseResourceKind(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(ResourceKind::kKubernetes); ++i) {
    if (ResourceKindName(static_cast<ResourceKind>(i)) == s) return static_cast<ResourceKind>(i);
  }
  return std::nullopt;
}

struct ResourceRecord {
  std::string name;
  ResourceKind kind = ResourceKind::kLocal;
  // What the scheduler may place on it at once. For local: the machine's
  // (or the configured) CPUs, memory and GPUs; for slurm: the partition's
  // nodes as the executor reports them.
  Shape capacity;
  // The executor's settings, a JSON object (docs/scheduler.md lists them:
  // slurm's partition and options, an agent pool's provision command...).
  std::string config = "{}";
  int64_t created_unix_ns = 0;
};

struct TemplateRecord {
  std::string name;
  std::string resource;
  Shape shape;
  std::string partition;  // slurm partition (or kubernetes namespace); "": the default
  std::string image;      // container image; "": no container
  int64_t created_unix_ns = 0;
};

struct QueueRecord {
  std::string name;
  std::vector<std::string> templates;  // in order of preference
  // The first template is eligible at once; the others once a job has
  // waited this long (0: at once, a plain fallback).
  int64_t burst_after_ns = 0;
  int64_t created_unix_ns = 0;
};

enum class JobState : uint8_t {
  kQueued,
  kPlacing,
  kStaging,
  kRunning,
  kSucceeded,
  kFailed,
  kCancelled,
  kTimedOut,
};

inline std::string_view JobStateName(JobState state) {
  constexpr std::string_view kNames[] = {"queued",    "placing", "staging",   "running",
                                         "succeeded", "failed",  "cancelled", "timed_out"};
  return kNames[static_cast<int>(state)];
}
inline std::optional<JobState> ParseJobState(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(JobState::kTimedOut); ++i) {
    if (JobStateName(static_cast<JobState>(i)) == s) return static_cast<JobState>(i);
  }
  return std::nullopt;
}
inline bool JobIsFinished(JobState s) { return s >= JobState::kSucceeded; }

// A dataset commit a job reads, at /data/<name> (or $PROXIMA_DATA_<NAME>).
struct JobDataset {
  std::string name;
  ObjectId commit;
  // Read from a cache on the chosen resource's volume (staged first);
  // otherwise from the volume's cache when there is one, else cloned.
  bool cached = true;
};

// What the user asked for. Immutable once submitted.
struct JobSpec {
  std::vector<std::string> command;  // argv; command[0] is looked up in PATH
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<JobDataset> datasets;
  std::string queue;  // one of queue or template_name is set
  std::string template_name;
  std::string image;           // overrides the template's ("" : the template's)
  std::string workdir;         // where the command starts ("" : the job's output folder)
  int64_t timeout_ns = 0;      // 0: none
  int max_retries = 2;         // on infrastructure failures
  bool retry_on_exit = false;  // also retry a non-zero exit
};

// Why a job failed, when it did.
enum class JobFailure : uint8_t { kNone, kExit, kInfrastructure, kStaging, kLaunch };

inline std::string_view JobFailureName(JobFailure f) {
  constexpr std::string_view kNames[] = {"", "exit", "infrastructure", "staging", "launch"};
  return kNames[static_cast<int>(f)];
}
inline std::optional<JobFailure> ParseJobFailure(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(JobFailure::kLaunch); ++i) {
    if (JobFailureName(static_cast<JobFailure>(i)) == s) return static_cast<JobFailure>(i);
  }
  return std::nullopt;
}

struct JobRecord {
  int64_t id = 0;  // assigned by the catalog, increasing
  std::string owner;
  JobSpec spec;

  JobState state = JobState::kQueued;
  JobFailure failure = JobFailure::kNone;
  std::string reason;         // a sentence for people: why it failed, waits, was cancelled
  std::string placement;      // why it went where it went (or why it waits)
  std::string template_name;  // where it was placed (the current attempt)
  std::string resource;
  std::string handle;        // the executor's name for the attempt (pid, Slurm id, agent/job)
  std::vector<int> gpu_ids;  // local GPUs given to it
  int attempts = 0;          // launches so far
  int exit_code = -1;        // when it exited; 128+N for signal N
  bool cancel_requested = false;
  int64_t submitted_unix_ns = 0;
  int64_t started_unix_ns = 0;  // running, this attempt
  int64_t finished_unix_ns = 0;
  int64_t version = 0;  // compare-and-swap token, as CacheRecord's
};

struct JobFilter {
  std::vector<JobState> states;  // empty: every state
  std::string owner;             // "": everyone's
  int64_t before = 0;            // ids below this (0: from the newest)
  size_t limit = 100;
};

// Thread-safe; every method is one atomic step.
class ComputeCatalog {
 public:
  virtual ~ComputeCatalog() = default;

  // AlreadyExists / NotFound name the object.
  virtual Status CreateResource(const ResourceRecord& r) = 0;
  virtual Result<ResourceRecord> GetResource(std::string_view name) = 0;
  virtual Result<std::vector<ResourceRecord>> ListResources() = 0;
  // Replaces capacity and config (an agent pool's capacity changes as
  // agents come and go).
  virtual Status UpdateResource(const ResourceRecord& r) = 0;
  // FailedPrecondition while templates use it.
  virtual Status DeleteResource(std::string_view name) = 0;

  // NotFound for an unknown resource.
  virtual Status CreateTemplate(const TemplateRecord& t) = 0;
  virtual Result<TemplateRecord> GetTemplate(std::string_view name) = 0;
  virtual Result<std::vector<TemplateRecord>> ListTemplates() = 0;
  // FailedPrecondition while a queue lists it.
  virtual Status DeleteTemplate(std::string_view name) = 0;

  // NotFound for an unknown template.
  virtual Status CreateQueue(const QueueRecord& q) = 0;
  virtual Result<QueueRecord> GetQueue(std::string_view name) = 0;
  virtual Result<std::vector<QueueRecord>> ListQueues() = 0;
  virtual Status DeleteQueue(std::string_view name) = 0;

  // Stores a new job (id and version assigned) and returns it.
  virtual Result<JobRecord> CreateJob(const JobRecord& job) = 0;
  virtual Result<JobRecord> GetJob(int64_t id) = 0;
  // Newest first.
  virtual Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter) = 0;
  // Every job not finished yet, oldest first: the scheduler's work.
  virtual Result<std::vector<JobRecord>> ListActiveJobs() = 0;
  // Stores `job` if the stored version is `job.version` and returns the new
  // version; FailedPrecondition when another writer got there first.
  virtual Result<int64_t> PutJob(const JobRecord& job) = 0;
};

}  // namespace proxima
