#include "proxima/ports/compute_codec.h"

#include <nlohmann/json.hpp>

namespace proxima {

namespace {

using Json = nlohmann::json;

// Reads typed fields of one JSON object, remembering the first bad one.
class Reader {
 public:
  Reader(const Json& j, std::string what) : j_(j), what_(std::move(what)) {
    if (!j_.is_object()) Fail("", "an object");
  }

  std::string Str(const char* key, std::string fallback = "") {
    const Json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_string()) return Fail(key, "a string"), fallback;
    return v->get<std::string>();
  }
  int64_t Int(const char* key, int64_t fallback = 0) {
    const Json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_number_integer()) return Fail(key, "an integer"), fallback;
    return v->get<int64_t>();
  }
  uint64_t Uint(const char* key) {
    int64_t v = Int(key);
    if (v < 0) Fail(key, "not negative");
    return static_cast<uint64_t>(v);
  }
  bool Bool(const char* key, bool fallback = false) {
    const Json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) return Fail(key, "true or false"), fallback;
    return v->get<bool>();
  }
  std::vector<std::string> Strings(const char* key) {
    std::vector<std::string> out;
    const Json* v = Find(key);
    if (v == nullptr) return out;
    if (!v->is_array()) return Fail(key, "an array of strings"), out;
    for (const Json& e : *v) {
      if (!e.is_string()) return Fail(key, "an array of strings"), out;
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  const Json* Find(const char* key) {
    if (!j_.is_object()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void Fail(std::string_view key, std::string_view expected) {
    if (!status_.ok()) return;
    status_ = Status::InvalidArgument(key.empty() ? what_ + " must be " + std::string(expected)
                                                  : "field '" + std::string(key) + "' of " + what_ +
                                                        " must be " + std::string(expected));
  }
  const Status& status() const { return status_; }

 private:
  const Json& j_;
  std::string what_;
  Status status_;
};

Result<Json> Parse(std::string_view text, std::string_view what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(std::string(what) + " is not valid JSON");
  return j;
}

Json ShapeJson(const Shape& s) {
  return {{"millicpus", s.millicpus}, {"memory_bytes", s.memory_bytes}, {"gpus", s.gpus}};
}

Shape ReadShape(Reader& r) {
  Shape s;
  s.millicpus = r.Int("millicpus");
  s.memory_bytes = r.Uint("memory_bytes");
  s.gpus = r.Int("gpus");
  if (s.millicpus < 0) r.Fail("millicpus", "not negative");
  if (s.gpus < 0) r.Fail("gpus", "not negative");
  return s;
}

Json ResourceJson(const ResourceRecord& r) {
  Json j = ShapeJson(r.capacity);
  j["name"] = r.name;
  j["kind"] = ResourceKindName(r.kind);
  Json config = Json::parse(r.config, nullptr, false);
  j["config"] = config.is_discarded() ? Json::object() : config;
  j["created_unix_ns"] = r.created_unix_ns;
  return j;
}

Json TemplateJson(const TemplateRecord& t) {
  Json j = ShapeJson(t.shape);
  j["name"] = t.name;
  j["resource"] = t.resource;
  j["partition"] = t.partition;
  j["image"] = t.image;
  j["created_unix_ns"] = t.created_unix_ns;
  return j;
}

Json SpecJson(const JobSpec& s) {
  Json env = Json::array();
  for (const auto& [k, v] : s.env) env.push_back({{"name", k}, {"value", v}});
  Json datasets = Json::array();
  for (const JobDataset& d : s.datasets) {
    datasets.push_back({{"name", d.name}, {"commit", d.commit.Hex()}, {"cached", d.cached}});
  }
  return {{"command", s.command},         {"env", env},
          {"datasets", datasets},         {"queue", s.queue},
          {"template", s.template_name},  {"image", s.image},
          {"workdir", s.workdir},         {"timeout_ns", s.timeout_ns},
          {"max_retries", s.max_retries}, {"retry_on_exit", s.retry_on_exit}};
}

JobSpec ReadSpec(const Json& j, Reader& outer) {
  Reader r(j, "the job's spec");
  JobSpec s;
  s.command = r.Strings("command");
  if (const Json* env = r.Find("env")) {
    if (!env->is_array()) r.Fail("env", "an array of {name, value}");
    for (const Json& e : env->is_array() ? *env : Json::array()) {
      Reader er(e, "an env entry");
      s.env.emplace_back(er.Str("name"), er.Str("value"));
      if (!er.status().ok()) r.Fail("env", "an array of {name, value} strings");
    }
  }
  if (const Json* ds = r.Find("datasets")) {
    if (!ds->is_array()) r.Fail("datasets", "an array of {name, commit, cached}");
    for (const Json& e : ds->is_array() ? *ds : Json::array()) {
      Reader dr(e, "a dataset entry");
      JobDataset d;
      d.name = dr.Str("name");
      auto id = ObjectId::FromHex(dr.Str("commit"));
      d.cached = dr.Bool("cached", true);
      if (!dr.status().ok() || !id) {
        r.Fail("datasets", "an array of {name, commit (64 hex digits), cached}");
      } else {
        d.commit = *id;
      }
      s.datasets.push_back(std::move(d));
    }
  }
  s.queue = r.Str("queue");
  s.template_name = r.Str("template");
  s.image = r.Str("image");
  s.workdir = r.Str("workdir");
  s.timeout_ns = r.Int("timeout_ns");
  s.max_retries = static_cast<int>(r.Int("max_retries", 2));
  s.retry_on_exit = r.Bool("retry_on_exit");
  if (s.timeout_ns < 0) r.Fail("timeout_ns", "not negative");
  if (s.max_retries < 0 || s.max_retries > 100) r.Fail("max_retries", "between 0 and 100");
  if (!r.status().ok()) outer.Fail("spec", r.status().message());
  return s;
}

Json JobJson(const JobRecord& job) {
  return {{"id", job.id},
          {"owner", job.owner},
          {"spec", SpecJson(job.spec)},
          {"state", JobStateName(job.state)},
          {"failure", JobFailureName(job.failure)},
          {"reason", job.reason},
          {"placement", job.placement},
          {"template", job.template_name},
          {"resource", job.resource},
          {"handle", job.handle},
          {"gpu_ids", job.gpu_ids},
          {"attempts", job.attempts},
          {"exit_code", job.exit_code},
          {"cancel_requested", job.cancel_requested},
          {"submitted_unix_ns", job.submitted_unix_ns},
          {"started_unix_ns", job.started_unix_ns},
          {"finished_unix_ns", job.finished_unix_ns},
          {"version", job.version}};
}

Result<JobRecord> ReadJob(const Json& j) {
  Reader r(j, "a job");
  JobRecord job;
  job.id = r.Int("id");
  job.owner = r.Str("owner");
  if (const Json* spec = r.Find("spec")) job.spec = ReadSpec(*spec, r);
  auto state = ParseJobState(r.Str("state", "queued"));
  auto failure = ParseJobFailure(r.Str("failure"));
  if (!state) r.Fail("state", "a job state (queued, placing, staging, running, ...)");
  if (!failure) r.Fail("failure", "exit, infrastructure, staging, launch or empty");
  job.state = state.value_or(JobState::kQueued);
  job.failure = failure.value_or(JobFailure::kNone);
  job.reason = r.Str("reason");
  job.placement = r.Str("placement");
  job.template_name = r.Str("template");
  job.resource = r.Str("resource");
  job.handle = r.Str("handle");
  if (const Json* gpus = r.Find("gpu_ids")) {
    if (!gpus->is_array()) r.Fail("gpu_ids", "an array of integers");
    for (const Json& g : gpus->is_array() ? *gpus : Json::array()) {
      if (!g.is_number_integer()) {
        r.Fail("gpu_ids", "an array of integers");
        break;
      }
      job.gpu_ids.push_back(g.get<int>());
    }
  }
  job.attempts = static_cast<int>(r.Int("attempts"));
  job.exit_code = static_cast<int>(r.Int("exit_code", -1));
  job.cancel_requested = r.Bool("cancel_requested");
  job.submitted_unix_ns = r.Int("submitted_unix_ns");
  job.started_unix_ns = r.Int("started_unix_ns");
  job.finished_unix_ns = r.Int("finished_unix_ns");
  job.version = r.Int("version");
  PROXIMA_RETURN_IF_ERROR(r.status());
  return job;
}

}  // namespace

std::string EncodeResource(const ResourceRecord& r) { return ResourceJson(r).dump(); }

Result<ResourceRecord> DecodeResource(std::string_view text) {
  PROXIMA_ASSIGN_OR_RETURN(Json j, Parse(text, "the resource"));
  Reader r(j, "the resource");
  ResourceRecord out;
  out.name = r.Str("name");
  auto kind = ParseResourceKind(r.Str("kind", "local"));
  if (!kind) r.Fail("kind", "local, agent, slurm or kubernetes");
  out.kind = kind.value_or(ResourceKind::kLocal);
  out.capacity = ReadShape(r);
  if (const Json* config = r.Find("config")) {
    if (!config->is_object()) r.Fail("config", "an object");
    out.config = config->dump();
  }
  out.created_unix_ns = r.Int("created_unix_ns");
  PROXIMA_RETURN_IF_ERROR(r.status());
  return out;
}

std::string EncodeTemplate(const TemplateRecord& t) { return TemplateJson(t).dump(); }

Result<TemplateRecord> DecodeTemplate(std::string_view text) {
  PROXIMA_ASSIGN_OR_RETURN(Json j, Parse(text, "the template"));
  Reader r(j, "the template");
  TemplateRecord t;
  t.name = r.Str("name");
  t.resource = r.Str("resource");
  t.shape = ReadShape(r);
  t.partition = r.Str("partition");
  t.image = r.Str("image");
  t.created_unix_ns = r.Int("created_unix_ns");
  PROXIMA_RETURN_IF_ERROR(r.status());
  return t;
}

std::string EncodeQueue(const QueueRecord& q) {
  return Json{{"name", q.name},
              {"templates", q.templates},
              {"burst_after_ns", q.burst_after_ns},
              {"created_unix_ns", q.created_unix_ns}}
      .dump();
}

Result<QueueRecord> DecodeQueue(std::string_view text) {
  PROXIMA_ASSIGN_OR_RETURN(Json j, Parse(text, "the queue"));
  Reader r(j, "the queue");
  QueueRecord q;
  q.name = r.Str("name");
  q.templates = r.Strings("templates");
  q.burst_after_ns = r.Int("burst_after_ns");
  if (q.burst_after_ns < 0) r.Fail("burst_after_ns", "not negative");
  q.created_unix_ns = r.Int("created_unix_ns");
  PROXIMA_RETURN_IF_ERROR(r.status());
  return q;
}

std::string EncodeJobSpec(const JobSpec& spec) { return SpecJson(spec).dump(); }

Result<JobSpec> DecodeJobSpec(std::string_view text) {
  PROXIMA_ASSIGN_OR_RETURN(Json j, Parse(text, "the job's spec"));
  Json wrapper = Json::object();
  Reader r(wrapper, "the job");
  JobSpec spec = ReadSpec(j, r);
  PROXIMA_RETURN_IF_ERROR(r.status());
  return spec;
}

std::string EncodeJob(const JobRecord& job) {
  return JobJson(job).dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<JobRecord> DecodeJob(std::string_view text) {
  PROXIMA_ASSIGN_OR_RETURN(Json j, Parse(text, "the job"));
  return ReadJob(j);
}

Result<std::vector<JobRecord>> DecodeJobs(std::string_view text) {
  PROXIMA_ASSIGN_OR_RETURN(Json j, Parse(text, "the job list"));
  if (!j.is_array()) return Status::InvalidArgument("the job list must be an array");
  std::vector<JobRecord> out;
  for (const Json& e : j) {
    PROXIMA_ASSIGN_OR_RETURN(JobRecord job, ReadJob(e));
    out.push_back(std::move(job));
  }
  return out;
}

std::string EncodeLaunchSpec(const LaunchSpec& spec) {
  Json env = Json::array();
  for (const auto& [k, v] : spec.env) env.push_back({{"name", k}, {"value", v}});
  Json stage = Json::array();
  for (const JobDataset& d : spec.stage) {
    stage.push_back({{"name", d.name}, {"commit", d.commit.Hex()}, {"cached", d.cached}});
  }
  Json j = ShapeJson(spec.shape);
  j["job_id"] = spec.job_id;
  j["attempt"] = spec.attempt;
  j["resource"] = spec.resource;
  j["command"] = spec.command;
  j["env"] = env;
  j["gpu_ids"] = spec.gpu_ids;
  j["partition"] = spec.partition;
  j["image"] = spec.image;
  j["workdir"] = spec.workdir;
  j["stage"] = stage;
  j["stage_volume"] = spec.stage_volume;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<LaunchSpec> DecodeLaunchSpec(std::string_view text) {
  PROXIMA_ASSIGN_OR_RETURN(Json j, Parse(text, "the attempt"));
  if (!j.is_object()) return Status::InvalidArgument("the attempt must be an object");
  // The spec's own reader checks command, env and datasets alike.
  Json as_spec = {{"command", j.value("command", Json::array())},
                  {"env", j.value("env", Json::array())},
                  {"datasets", j.value("stage", Json::array())}};
  Json wrapper = Json::object();
  Reader outer(wrapper, "the attempt");
  JobSpec spec = ReadSpec(as_spec, outer);
  Reader r(j, "the attempt");
  LaunchSpec out;
  out.job_id = r.Int("job_id");
  out.attempt = static_cast<int>(r.Int("attempt"));
  out.resource = r.Str("resource");
  out.command = std::move(spec.command);
  out.env = std::move(spec.env);
  out.stage = std::move(spec.datasets);
  out.shape = ReadShape(r);
  out.partition = r.Str("partition");
  out.image = r.Str("image");
  out.workdir = r.Str("workdir");
  out.stage_volume = r.Str("stage_volume");
  if (const Json* gpus = r.Find("gpu_ids"); gpus != nullptr && gpus->is_array()) {
    for (const Json& g : *gpus) {
      if (g.is_number_integer()) out.gpu_ids.push_back(g.get<int>());
    }
  }
  PROXIMA_RETURN_IF_ERROR(outer.status());
  PROXIMA_RETURN_IF_ERROR(r.status());
  if (out.command.empty()) return Status::InvalidArgument("the attempt has no command");
  return out;
}

}  // namespace proxima
