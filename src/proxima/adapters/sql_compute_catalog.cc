#include "proxima/adapters/sql_compute_catalog.h"

#include <charconv>

#include "proxima/ports/compute_codec.h"

namespace proxima {

namespace {

constexpr const char* kResourceColumns =
    "name, kind, millicpus, memory_bytes, gpus, config, created_unix_ns";
constexpr const char* kTemplateColumns =
    "name, resource, millicpus, memory_bytes, gpus, partition_name, image, created_unix_ns";
constexpr const char* kJobColumns =
    "id, owner, spec, state, failure, reason, placement, template, resource, handle, gpu_ids, "
    "attempts, exit_code, cancel_requested, submitted_unix_ns, started_unix_ns, "
    "finished_unix_ns, version";

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

Status Unknown(std::string_view what, std::string_view name, std::string_view list_cmd) {
  return Status::NotFound(std::string(what) + " " + Quote(name) + " does not exist (see '" +
                          std::string(list_cmd) + "')");
}

std::string JoinLines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += '\n';
    out += s;
  }
  return out;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string JoinInts(const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

std::vector<int> SplitInts(const std::string& s) {
  std::vector<int> out;
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    int v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc()) break;
    out.push_back(v);
    p = next < end && *next == ',' ? next + 1 : next;
  }
  return out;
}

Shape ShapeAt(const SqlRows& rows, size_t i, size_t col) {
  return {rows.Int(i, col), static_cast<uint64_t>(rows.Int(i, col + 1)), rows.Int(i, col + 2)};
}

std::string Select(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + " " + rest;
}

}  // namespace

Status SqlComputeCatalog::CreateResource(const ResourceRecord& r) {
  auto q = compute_db_->Query(
      "INSERT INTO resources(name, kind, millicpus, memory_bytes, gpus, config, created_unix_ns) "
      "VALUES($1, $2, $3, $4, $5, $6, $7)",
      {std::string_view(r.name), ResourceKindName(r.kind), r.capacity.millicpus,
       static_cast<int64_t>(r.capacity.memory_bytes), r.capacity.gpus, std::string_view(r.config),
       r.created_unix_ns});
  if (q.status().IsAlreadyExists()) {
    return Status::AlreadyExists("compute resource " + Quote(r.name) + " already exists");
  }
  return q.status();
}

static Result<std::vector<ResourceRecord>> Resources(const SqlRows& rows) {
  std::vector<ResourceRecord> out;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    ResourceRecord r;
    r.name = rows.Text(i, 0);
    auto kind = ParseResourceKind(rows.Text(i, 1));
    if (!kind) return Status::Corruption("resource " + Quote(r.name) + " has an unknown kind");
    r.kind = *kind;
    r.capacity = ShapeAt(rows, i, 2);
    r.config = rows.Text(i, 5);
    r.created_unix_ns = rows.Int(i, 6);
    out.push_back(std::move(r));
  }
  return out;
}

Result<ResourceRecord> SqlComputeCatalog::GetResource(std::string_view name) {
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      compute_db_->Query(Select(kResourceColumns, "FROM resources WHERE name = $1"), {name}));
  if (rows.empty()) return Unknown("compute resource", name, "proxima compute ls");
  PROXIMA_ASSIGN_OR_RETURN(auto all, Resources(rows));
  return all[0];
}

Result<std::vector<ResourceRecord>> SqlComputeCatalog::ListResources() {
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      compute_db_->Query(Select(kResourceColumns, "FROM resources ORDER BY name"), {}));
  return Resources(rows);
}

Status SqlComputeCatalog::UpdateResource(const ResourceRecord& r) {
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows q, compute_db_->Query("UPDATE resources SET millicpus = $2, memory_bytes = $3, "
                                    "gpus = $4, config = $5 WHERE name = $1",
                                    {std::string_view(r.name), r.capacity.millicpus,
                                     static_cast<int64_t>(r.capacity.memory_bytes), r.capacity.gpus,
                                     std::string_view(r.config)}));
  if (q.affected != 1) return Unknown("compute resource", r.name, "proxima compute ls");
  return Status::Ok();
}

Status SqlComputeCatalog::DeleteResource(std::string_view name) {
  return compute_db_->Transact([&](SqlSession& s) -> Status {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows used,
        s.Query("SELECT name FROM templates WHERE resource = $1 ORDER BY name", {name}));
    if (!used.empty()) {
      return Status::FailedPrecondition("compute resource " + Quote(name) +
                                        " is used by template " + Quote(used.Text(0, 0)) +
                                        ": remove its templates first ('proxima template rm')");
    }
    PROXIMA_ASSIGN_OR_RETURN(SqlRows r, s.Query("DELETE FROM resources WHERE name = $1", {name}));
    return r.affected == 1 ? Status::Ok() : Unknown("compute resource", name, "proxima compute ls");
  });
}

Status SqlComputeCatalog::CreateTemplate(const TemplateRecord& t) {
  auto q = compute_db_->Query(
      "INSERT INTO templates(name, resource, millicpus, memory_bytes, gpus, partition_name, "
      "image, created_unix_ns) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
      {std::string_view(t.name), std::string_view(t.resource), t.shape.millicpus,
       static_cast<int64_t>(t.shape.memory_bytes), t.shape.gpus, std::string_view(t.partition),
       std::string_view(t.image), t.created_unix_ns});
  if (q.status().IsAlreadyExists()) {
    return Status::AlreadyExists("template " + Quote(t.name) + " already exists");
  }
  if (q.status().code() == StatusCode::kFailedPrecondition) {
    return Unknown("compute resource", t.resource, "proxima compute ls");
  }
  return q.status();
}

static std::vector<TemplateRecord> Templates(const SqlRows& rows) {
  std::vector<TemplateRecord> out;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    TemplateRecord t;
    t.name = rows.Text(i, 0);
    t.resource = rows.Text(i, 1);
    t.shape = ShapeAt(rows, i, 2);
    t.partition = rows.Text(i, 5);
    t.image = rows.Text(i, 6);
    t.created_unix_ns = rows.Int(i, 7);
    out.push_back(std::move(t));
  }
  return out;
}

Result<TemplateRecord> SqlComputeCatalog::GetTemplate(std::string_view name) {
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      compute_db_->Query(Select(kTemplateColumns, "FROM templates WHERE name = $1"), {name}));
  if (rows.empty()) return Unknown("template", name, "proxima template ls");
  return Templates(rows)[0];
}

Result<std::vector<TemplateRecord>> SqlComputeCatalog::ListTemplates() {
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      compute_db_->Query(Select(kTemplateColumns, "FROM templates ORDER BY name"), {}));
  return Templates(rows);
}

Status SqlComputeCatalog::DeleteTemplate(std::string_view name) {
  return compute_db_->Transact([&](SqlSession& s) -> Status {
    PROXIMA_ASSIGN_OR_RETURN(SqlRows queues,
                             s.Query("SELECT name, templates FROM queues ORDER BY name", {}));
    for (size_t i = 0; i < queues.rows.size(); ++i) {
      for (const std::string& t : SplitLines(queues.Text(i, 1))) {
        if (t == name) {
          return Status::FailedPrecondition("template " + Quote(name) + " is listed by queue " +
                                            Quote(queues.Text(i, 0)) +
                                            ": remove it from the queue first");
        }
      }
    }
    PROXIMA_ASSIGN_OR_RETURN(SqlRows r, s.Query("DELETE FROM templates WHERE name = $1", {name}));
    return r.affected == 1 ? Status::Ok() : Unknown("template", name, "proxima template ls");
  });
}

Status SqlComputeCatalog::CreateQueue(const QueueRecord& q) {
  return compute_db_->Transact([&](SqlSession& s) -> Status {
    for (const std::string& t : q.templates) {
      PROXIMA_ASSIGN_OR_RETURN(SqlRows found,
                               s.Query("SELECT name FROM templates WHERE name = $1", {t}));
      if (found.empty()) return Unknown("template", t, "proxima template ls");
    }
    std::string templates = JoinLines(q.templates);
    auto r = s.Query(
        "INSERT INTO queues(name, templates, burst_after_ns, created_unix_ns) "
        "VALUES($1, $2, $3, $4)",
        {std::string_view(q.name), std::string_view(templates), q.burst_after_ns,
         q.created_unix_ns});
    if (r.status().IsAlreadyExists()) {
      return Status::AlreadyExists("queue " + Quote(q.name) + " already exists");
    }
    return r.status();
  });
}

static std::vector<QueueRecord> Queues(const SqlRows& rows) {
  std::vector<QueueRecord> out;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    out.push_back({rows.Text(i, 0), SplitLines(rows.Text(i, 1)), rows.Int(i, 2), rows.Int(i, 3)});
  }
  return out;
}

Result<QueueRecord> SqlComputeCatalog::GetQueue(std::string_view name) {
  PROXIMA_ASSIGN_OR_RETURN(SqlRows rows,
                           compute_db_->Query("SELECT name, templates, burst_after_ns, "
                                              "created_unix_ns FROM queues WHERE name = $1",
                                              {name}));
  if (rows.empty()) return Unknown("queue", name, "proxima queue ls");
  return Queues(rows)[0];
}

Result<std::vector<QueueRecord>> SqlComputeCatalog::ListQueues() {
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      compute_db_->Query(
          "SELECT name, templates, burst_after_ns, created_unix_ns FROM queues ORDER BY name", {}));
  return Queues(rows);
}

Status SqlComputeCatalog::DeleteQueue(std::string_view name) {
  PROXIMA_ASSIGN_OR_RETURN(SqlRows r,
                           compute_db_->Query("DELETE FROM queues WHERE name = $1", {name}));
  return r.affected == 1 ? Status::Ok() : Unknown("queue", name, "proxima queue ls");
}

Result<std::vector<JobRecord>> SqlComputeCatalog::Jobs(const SqlRows& rows, bool prune_specs) {
  std::vector<JobRecord> out;
  out.reserve(rows.rows.size());
  std::lock_guard lock(specs_mu_);
  std::unordered_map<int64_t, JobSpec> kept;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    JobRecord j;
    j.id = rows.Int(i, 0);
    j.owner = rows.Text(i, 1);
    auto state = ParseJobState(rows.Text(i, 3));
    auto failure = ParseJobFailure(rows.Text(i, 4));
    auto cached = specs_.find(j.id);
    if (cached != specs_.end()) {
      j.spec = cached->second;
    } else {
      Result<JobSpec> spec = DecodeJobSpec(rows.Text(i, 2));
      if (!spec.ok()) state.reset();
      if (spec.ok()) j.spec = std::move(*spec);
    }
    if (!state || !failure) {
      return Status::Corruption("catalog " + compute_db_->Describe() + ": job " +
                                std::to_string(j.id) + " is damaged");
    }
    if (prune_specs) {
      kept.emplace(j.id, j.spec);
    } else if (cached == specs_.end() && !JobIsFinished(*state)) {
      specs_.emplace(j.id, j.spec);
    }
    j.state = *state;
    j.failure = *failure;
    j.reason = rows.Text(i, 5);
    j.placement = rows.Text(i, 6);
    j.template_name = rows.Text(i, 7);
    j.resource = rows.Text(i, 8);
    j.handle = rows.Text(i, 9);
    j.gpu_ids = SplitInts(rows.Text(i, 10));
    j.attempts = static_cast<int>(rows.Int(i, 11));
    j.exit_code = static_cast<int>(rows.Int(i, 12));
    j.cancel_requested = rows.Int(i, 13) != 0;
    j.submitted_unix_ns = rows.Int(i, 14);
    j.started_unix_ns = rows.Int(i, 15);
    j.finished_unix_ns = rows.Int(i, 16);
    j.version = rows.Int(i, 17);
    out.push_back(std::move(j));
  }
  if (prune_specs) specs_.swap(kept);
  return out;
}

Result<JobRecord> SqlComputeCatalog::CreateJob(const JobRecord& job) {
  std::string spec = EncodeJobSpec(job.spec);
  std::string gpus = JoinInts(job.gpu_ids);
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      compute_db_->Query(
          "INSERT INTO jobs(owner, spec, state, failure, reason, placement, template, resource, "
          "handle, gpu_ids, attempts, exit_code, cancel_requested, submitted_unix_ns, "
          "started_unix_ns, finished_unix_ns, version) VALUES($1, $2, $3, $4, $5, $6, $7, $8, "
          "$9, $10, $11, $12, $13, $14, $15, $16, 1) RETURNING id",
          {std::string_view(job.owner), std::string_view(spec), JobStateName(job.state),
           JobFailureName(job.failure), std::string_view(job.reason),
           std::string_view(job.placement), std::string_view(job.template_name),
           std::string_view(job.resource), std::string_view(job.handle), std::string_view(gpus),
           int64_t{job.attempts}, int64_t{job.exit_code}, int64_t{job.cancel_requested ? 1 : 0},
           job.submitted_unix_ns, job.started_unix_ns, job.finished_unix_ns}));
  if (rows.empty()) return Status::Internal("the catalog assigned no id to the new job");
  JobRecord out = job;
  out.id = rows.Int(0, 0);
  out.version = 1;
  return out;
}

Result<JobRecord> SqlComputeCatalog::GetJob(int64_t id) {
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows, compute_db_->Query(Select(kJobColumns, "FROM jobs WHERE id = $1"), {id}));
  if (rows.empty()) {
    return Status::NotFound("job " + std::to_string(id) + " does not exist (see 'proxima job ls')");
  }
  PROXIMA_ASSIGN_OR_RETURN(auto jobs, Jobs(rows));
  return jobs[0];
}

Result<std::vector<JobRecord>> SqlComputeCatalog::ListJobs(const JobFilter& f) {
  // The states go in as one parameter, ",queued,running,", that the state
  // (between commas) must occur in: one statement for any set of states.
  std::string states = ",";
  for (JobState s : f.states) states += std::string(JobStateName(s)) + ",";
  int64_t before = f.before > 0 ? f.before : INT64_MAX;
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      compute_db_->Query(Select(kJobColumns,
                                "FROM jobs WHERE id < $1 AND ($2 = '' OR owner = $2) AND "
                                "($3 = ',' OR $3 LIKE ('%,' || state || ',%')) "
                                "ORDER BY id DESC LIMIT $4"),
                         {before, std::string_view(f.owner), std::string_view(states),
                          static_cast<int64_t>(f.limit)}));
  return Jobs(rows);
}

Result<std::vector<JobRecord>> SqlComputeCatalog::ListActiveJobs() {
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      compute_db_->Query(Select(kJobColumns,
                                "FROM jobs WHERE state IN ('queued', 'placing', 'staging', "
                                "'running') ORDER BY id"),
                         {}));
  return Jobs(rows, /*prune_specs=*/true);
}

Result<int64_t> SqlComputeCatalog::PutJob(const JobRecord& job) {
  std::string gpus = JoinInts(job.gpu_ids);
  int64_t next = job.version + 1;
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows r,
      compute_db_->Query(
          "UPDATE jobs SET state = $2, failure = $3, reason = $4, placement = $5, template = $6, "
          "resource = $7, handle = $8, gpu_ids = $9, attempts = $10, exit_code = $11, "
          "cancel_requested = $12, started_unix_ns = $13, finished_unix_ns = $14, version = $15 "
          "WHERE id = $1 AND version = $16",
          {job.id, JobStateName(job.state), JobFailureName(job.failure),
           std::string_view(job.reason), std::string_view(job.placement),
           std::string_view(job.template_name), std::string_view(job.resource),
           std::string_view(job.handle), std::string_view(gpus), int64_t{job.attempts},
           int64_t{job.exit_code}, int64_t{job.cancel_requested ? 1 : 0}, job.started_unix_ns,
           job.finished_unix_ns, next, job.version}));
  if (r.affected != 1) {
    return Status::FailedPrecondition("job " + std::to_string(job.id) +
                                      " was changed meanwhile by another writer");
  }
  return next;
}

}  // namespace proxima
