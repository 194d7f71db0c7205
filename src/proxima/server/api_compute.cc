// Compute: /api/v1/compute (resources), /templates, /queues and /jobs
// (docs/scheduler.md, docs/api.md "Compute").
//
// Resources, templates and queues are managed by hub administrators and
// readable by every user. A job is visible to its owner and to hub
// administrators only; submitting one needs read access to each of its
// datasets. Clients never move a job's state: the scheduler does, and a
// client may only ask for a cancellation.
#include <charconv>

#include "proxima/core/scheduler.h"
#include "proxima/ports/compute_codec.h"
#include "proxima/server/api.h"

namespace proxima::api {

namespace {

const std::string kName = "([^/]+)";
const std::string kJob = "/api/v1/jobs/([0-9]{1,18})";

Json Parsed(const std::string& encoded) { return Json::parse(encoded); }

void Wake(Hub& hub) {
  if (hub.wake_scheduler) hub.wake_scheduler();
}

Result<int64_t> IntParam(const httplib::Request& req, const char* name, int64_t fallback,
                         int64_t max) {
  auto it = req.params.find(name);
  if (it == req.params.end()) return fallback;
  int64_t v = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0 || v > max) {
    return Status::InvalidArgument(std::string("'") + name + "' must be an integer from 0 to " +
                                   std::to_string(max));
  }
  return v;
}

// ---- resources, templates, queues ----

template <typename T, typename List, typename Encode>
Status ListAll(Hub& hub, const httplib::Request& req, httplib::Response& res, List list,
               Encode encode) {
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<T> all, list());
  SendJson(res, 200,
           PageOf(
               std::move(all), [](const T& r) { return r.name; }, page,
               [&](const T& r) { return Parsed(encode(r)); }));
  return Status::Ok();
}

Status ListResources(Hub& hub, const httplib::Request& req, httplib::Response& res,
                     const Principal&) {
  return ListAll<ResourceRecord>(
      hub, req, res, [&] { return hub.catalog->ListResources(); }, EncodeResource);
}

Status CreateResource(Hub& hub, const httplib::Request& req, httplib::Response& res,
                      const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "adding a compute resource"));
  PROXIMA_ASSIGN_OR_RETURN(ResourceRecord r, ParseResource(req.body));
  r.created_unix_ns = hub.clock->NowUnixNanos();
  PROXIMA_RETURN_IF_ERROR(hub.catalog->CreateResource(r));
  Audit(hub, who, "compute.create", "compute:" + r.name, EncodeResource(r));
  SendJson(res, 201, Parsed(EncodeResource(r)));
  Wake(hub);
  return Status::Ok();
}

Status GetResource(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal&) {
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(req.matches[1].str(), "resource"));
  PROXIMA_ASSIGN_OR_RETURN(ResourceRecord r, hub.catalog->GetResource(req.matches[1].str()));
  SendJson(res, 200, Parsed(EncodeResource(r)));
  return Status::Ok();
}

Status DeleteResource(Hub& hub, const httplib::Request& req, httplib::Response& res,
                      const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(name, "resource"));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "removing a compute resource"));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->DeleteResource(name));
  Audit(hub, who, "compute.delete", "compute:" + name);
  SendJson(res, 200, {{"deleted", name}});
  return Status::Ok();
}

Status ListTemplates(Hub& hub, const httplib::Request& req, httplib::Response& res,
                     const Principal&) {
  return ListAll<TemplateRecord>(
      hub, req, res, [&] { return hub.catalog->ListTemplates(); }, EncodeTemplate);
}

Status CreateTemplate(Hub& hub, const httplib::Request& req, httplib::Response& res,
                      const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "adding a template"));
  PROXIMA_ASSIGN_OR_RETURN(TemplateRecord t, ParseTemplate(req.body));
  t.created_unix_ns = hub.clock->NowUnixNanos();
  PROXIMA_RETURN_IF_ERROR(hub.catalog->CreateTemplate(t));
  Audit(hub, who, "template.create", "template:" + t.name, EncodeTemplate(t));
  SendJson(res, 201, Parsed(EncodeTemplate(t)));
  return Status::Ok();
}

Status GetTemplate(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal&) {
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(req.matches[1].str(), "template"));
  PROXIMA_ASSIGN_OR_RETURN(TemplateRecord t, hub.catalog->GetTemplate(req.matches[1].str()));
  SendJson(res, 200, Parsed(EncodeTemplate(t)));
  return Status::Ok();
}

Status DeleteTemplate(Hub& hub, const httplib::Request& req, httplib::Response& res,
                      const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(name, "template"));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "removing a template"));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->DeleteTemplate(name));
  Audit(hub, who, "template.delete", "template:" + name);
  SendJson(res, 200, {{"deleted", name}});
  return Status::Ok();
}

Status ListQueues(Hub& hub, const httplib::Request& req, httplib::Response& res, const Principal&) {
  return ListAll<QueueRecord>(
      hub, req, res, [&] { return hub.catalog->ListQueues(); }, EncodeQueue);
}

Status CreateQueue(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "adding a queue"));
  PROXIMA_ASSIGN_OR_RETURN(QueueRecord q, ParseQueue(req.body));
  q.created_unix_ns = hub.clock->NowUnixNanos();
  PROXIMA_RETURN_IF_ERROR(hub.catalog->CreateQueue(q));
  Audit(hub, who, "queue.create", "queue:" + q.name, EncodeQueue(q));
  SendJson(res, 201, Parsed(EncodeQueue(q)));
  return Status::Ok();
}

Status GetQueue(Hub& hub, const httplib::Request& req, httplib::Response& res, const Principal&) {
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(req.matches[1].str(), "queue"));
  PROXIMA_ASSIGN_OR_RETURN(QueueRecord q, hub.catalog->GetQueue(req.matches[1].str()));
  SendJson(res, 200, Parsed(EncodeQueue(q)));
  return Status::Ok();
}

Status DeleteQueue(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(name, "queue"));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "removing a queue"));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->DeleteQueue(name));
  Audit(hub, who, "queue.delete", "queue:" + name);
  SendJson(res, 200, {{"deleted", name}});
  return Status::Ok();
}

// ---- jobs ----

// The job of the request, if `who` may see it (NotFound otherwise, as for
// a job that does not exist).
Result<JobRecord> VisibleJob(Hub& hub, const httplib::Request& req, const Principal& who) {
  int64_t id = 0;
  std::string text = req.matches[1].str();
  std::from_chars(text.data(), text.data() + text.size(), id);
  Result<JobRecord> job = hub.catalog->GetJob(id);
  if (job.ok() && !who.admin && job->owner != who.user) {
    return Status::NotFound("job " + std::to_string(id) + " does not exist (see 'proxima job ls')");
  }
  return job;
}

Status SubmitJob(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_ASSIGN_OR_RETURN(JobSpec spec, ParseJobSpec(req.body));
  for (const JobDataset& d : spec.datasets) {
    PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, d.name, Access::kRead).status());
  }
  if (spec.queue.empty() && spec.template_name.empty()) spec.queue = "default";
  if (!spec.queue.empty()) {
    PROXIMA_RETURN_IF_ERROR(hub.catalog->GetQueue(spec.queue).status());
  } else {
    PROXIMA_RETURN_IF_ERROR(hub.catalog->GetTemplate(spec.template_name).status());
  }
  JobRecord job;
  job.owner = who.user;
  job.spec = std::move(spec);
  job.submitted_unix_ns = hub.clock->NowUnixNanos();
  PROXIMA_ASSIGN_OR_RETURN(job, hub.catalog->CreateJob(job));
  Wake(hub);
  Audit(hub, who, "job.submit", "job:" + std::to_string(job.id),
        job.spec.queue.empty() ? "template " + job.spec.template_name : "queue " + job.spec.queue);
  SendJson(res, 201, Parsed(EncodeJob(job)));
  return Status::Ok();
}

Status ListJobs(Hub& hub, const httplib::Request& req, httplib::Response& res,
                const Principal& who) {
  JobFilter filter;
  PROXIMA_ASSIGN_OR_RETURN(int64_t before, IntParam(req, "before", 0, INT64_MAX));
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  filter.limit = page.limit;
  filter.before = before;
  auto states = req.params.find("state");
  if (states != req.params.end()) {
    std::string_view text = states->second;
    while (!text.empty()) {
      size_t comma = text.find(',');
      std::string_view one = text.substr(0, comma);
      auto s = ParseJobState(one);
      if (!s) {
        return Status::InvalidArgument("'" + std::string(one) +
                                       "' is not a job state (queued, staging, running, "
                                       "succeeded, failed, cancelled, timed_out)");
      }
      filter.states.push_back(*s);
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    }
  }
  auto owner = req.params.find("owner");
  filter.owner = owner != req.params.end() ? owner->second : "";
  if (!who.admin) {
    if (!filter.owner.empty() && filter.owner != who.user) {
      return Status::PermissionDenied("only hub administrators list other users' jobs");
    }
    filter.owner = who.user;
  }
  size_t want = filter.limit;
  filter.limit = want + 1;
  PROXIMA_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, hub.catalog->ListJobs(filter));
  bool more = jobs.size() > want;
  if (more) jobs.resize(want);
  Json items = Json::array();
  for (const JobRecord& j : jobs) items.push_back(Parsed(EncodeJob(j)));
  SendJson(res, 200,
           PageJson(std::move(items), jobs.empty() ? "" : std::to_string(jobs.back().id), more));
  return Status::Ok();
}

Status GetJob(Hub& hub, const httplib::Request& req, httplib::Response& res, const Principal& who) {
  PROXIMA_ASSIGN_OR_RETURN(JobRecord job, VisibleJob(hub, req, who));
  SendJson(res, 200, Parsed(EncodeJob(job)));
  return Status::Ok();
}

// Asks for the job's cancellation (core's RequestCancel), once `who` may
// see it; wakes the scheduler and audits when the request is new.
Status RequestCancel(Hub& hub, const httplib::Request& req, const Principal& who, JobRecord* out) {
  PROXIMA_ASSIGN_OR_RETURN(JobRecord before, VisibleJob(hub, req, who));
  PROXIMA_ASSIGN_OR_RETURN(*out, proxima::RequestCancel(*hub.catalog, before.id));
  if (!JobIsFinished(before.state) && !before.cancel_requested && out->cancel_requested) {
    Wake(hub);
    Audit(hub, who, "job.cancel", "job:" + std::to_string(before.id));
  }
  return Status::Ok();
}

Status CancelJob(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who) {
  JobRecord job;
  PROXIMA_RETURN_IF_ERROR(RequestCancel(hub, req, who, &job));
  SendJson(res, 200, Parsed(EncodeJob(job)));
  return Status::Ok();
}

// PUT of a whole job (the catalog port through the hub): only a request to
// cancel is taken; every other field belongs to the scheduler.
Status PutJob(Hub& hub, const httplib::Request& req, httplib::Response& res, const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_ASSIGN_OR_RETURN(JobRecord wanted, DecodeJob(req.body));
  PROXIMA_ASSIGN_OR_RETURN(JobRecord stored, VisibleJob(hub, req, who));
  if (wanted.version != stored.version) {
    return Status::FailedPrecondition("job " + std::to_string(stored.id) +
                                      " was changed meanwhile (version " +
                                      std::to_string(stored.version) + ")");
  }
  wanted.id = stored.id;
  JobRecord same = stored;
  same.cancel_requested = wanted.cancel_requested;
  if (EncodeJob(same) != EncodeJob(wanted) || !wanted.cancel_requested) {
    return Status::PermissionDenied(
        "only the scheduler changes a job; a client may only cancel it (POST .../cancel)");
  }
  JobRecord job;
  PROXIMA_RETURN_IF_ERROR(RequestCancel(hub, req, who, &job));
  SendJson(res, 200, {{"version", job.version}});
  return Status::Ok();
}

Status JobLogs(Hub& hub, const httplib::Request& req, httplib::Response& res,
               const Principal& who) {
  PROXIMA_ASSIGN_OR_RETURN(JobRecord job, VisibleJob(hub, req, who));
  PROXIMA_ASSIGN_OR_RETURN(int64_t offset, IntParam(req, "offset", 0, INT64_MAX));
  PROXIMA_ASSIGN_OR_RETURN(int64_t limit, IntParam(req, "limit", 1 << 20, 16 << 20));
  std::string text;
  if (!job.handle.empty()) {
    PROXIMA_ASSIGN_OR_RETURN(ResourceRecord r, hub.catalog->GetResource(job.resource));
    Executor* ex = hub.executor_for ? hub.executor_for(r) : nullptr;
    if (ex == nullptr) {
      return Status::Unavailable("this hub cannot read the logs of resource '" + job.resource +
                                 "'");
    }
    PROXIMA_ASSIGN_OR_RETURN(
        text, ex->ReadLog(job.handle, static_cast<uint64_t>(offset), static_cast<size_t>(limit)));
  }
  res.set_header("X-Job-State", std::string(JobStateName(job.state)));
  res.set_header("X-Log-Next-Offset", std::to_string(offset + static_cast<int64_t>(text.size())));
  res.set_content(std::move(text), "text/plain; charset=utf-8");
  return Status::Ok();
}

}  // namespace

void RegisterComputeRoutes(Router& router) {
  Hub& hub = router.hub();
  router.Get("/api/v1/compute", Bind(hub, ListResources));
  router.Post("/api/v1/compute", Bind(hub, CreateResource));
  router.Get("/api/v1/compute/" + kName, Bind(hub, GetResource));
  router.Delete("/api/v1/compute/" + kName, Bind(hub, DeleteResource));
  router.Get("/api/v1/templates", Bind(hub, ListTemplates));
  router.Post("/api/v1/templates", Bind(hub, CreateTemplate));
  router.Get("/api/v1/templates/" + kName, Bind(hub, GetTemplate));
  router.Delete("/api/v1/templates/" + kName, Bind(hub, DeleteTemplate));
  router.Get("/api/v1/queues", Bind(hub, ListQueues));
  router.Post("/api/v1/queues", Bind(hub, CreateQueue));
  router.Get("/api/v1/queues/" + kName, Bind(hub, GetQueue));
  router.Delete("/api/v1/queues/" + kName, Bind(hub, DeleteQueue));
  router.Get("/api/v1/jobs", Bind(hub, ListJobs));
  router.Post("/api/v1/jobs", Bind(hub, SubmitJob));
  router.Get(kJob, Bind(hub, GetJob));
  router.Put(kJob, Bind(hub, PutJob));
  router.Post(kJob + "/cancel", Bind(hub, CancelJob));
  router.Get(kJob + "/logs", Bind(hub, JobLogs));
}

}  // namespace proxima::api
