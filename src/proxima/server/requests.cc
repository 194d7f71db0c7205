#include "proxima/server/requests.h"

#include <charconv>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "proxima/base/coding.h"
#include "proxima/model/names.h"
#include "proxima/ports/compute_codec.h"

namespace proxima::api {

namespace {

using nlohmann::json;

// Parses a JSON object and refuses unknown fields, so that a typo
// ("desried") is an error instead of a silently ignored field.
Result<json> ParseObject(std::string_view body, std::initializer_list<std::string_view> fields) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
  if (!doc.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  for (const auto& item : doc.items()) {
    bool known = false;
    for (std::string_view f : fields) known = known || item.key() == f;
    if (!known) {
      std::string list;
      for (std::string_view f : fields) list += (list.empty() ? "" : ", ") + std::string(f);
      return Status::InvalidArgument("unknown field '" + item.key() + "' (expected: " + list + ")");
    }
  }
  return doc;
}

Result<std::string> RequiredString(const json& doc, const char* field) {
  auto it = doc.find(field);
  if (it == doc.end()) return Status::InvalidArgument(std::string("missing field '") + field + "'");
  if (!it->is_string()) {
    return Status::InvalidArgument(std::string("field '") + field + "' must be a string");
  }
  return it->get<std::string>();
}

Result<std::optional<ObjectId>> OptionalId(const json& doc, const char* field) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return std::optional<ObjectId>();
  if (!it->is_string()) {
    return Status::InvalidArgument(std::string("field '") + field +
                                   "' must be a commit id (64 hex digits) or null");
  }
  auto id = Hash256::FromHex(it->get<std::string>());
  if (!id) {
    return Status::InvalidArgument(std::string("field '") + field +
                                   "' must be a full commit id (64 hex digits)");
  }
  return std::optional<ObjectId>(*id);
}

// An integer field within [lo, hi]; `fallback` when absent.
Result<int64_t> IntField(const json& doc, const char* field, int64_t lo, int64_t hi,
                         std::optional<int64_t> fallback) {
  auto it = doc.find(field);
  if (it == doc.end()) {
    if (fallback) return *fallback;
    return Status::InvalidArgument(std::string("missing field '") + field + "'");
  }
  if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi) {
    return Status::InvalidArgument(std::string("field '") + field + "' must be an integer from " +
                                   std::to_string(lo) + " to " + std::to_string(hi));
  }
  return it->get<int64_t>();
}

Result<std::string> TextField(const json& doc, const char* field, size_t max,
                              std::optional<std::string> fallback) {
  auto it = doc.find(field);
  if (it == doc.end() && fallback) return *fallback;
  PROXIMA_ASSIGN_OR_RETURN(std::string s, RequiredString(doc, field));
  if (s.size() > max || !IsValidUtf8(s) || s.find('\0') != std::string::npos) {
    return Status::InvalidArgument(std::string("field '") + field + "' must be UTF-8, at most " +
                                   std::to_string(max) + " bytes");
  }
  return s;
}

}  // namespace

Status ValidatePrincipalName(std::string_view name, std::string_view what) {
  Status s = ValidateDatasetName(name);
  if (s.ok()) return s;
  std::string shown = IsValidUtf8(name) && name.size() <= 100 ? std::string(name) : "(invalid)";
  return Status::InvalidArgument(std::string(what) + " name '" + QuotePath(shown) +
                                 "' is invalid: use 1 to 100 of A-Z a-z 0-9 . _ -, "
                                 "not starting with '.' or '-'");
}

Status ValidateSubject(std::string_view subject) {
  if (subject.rfind("user:", 0) == 0) return ValidatePrincipalName(subject.substr(5), "user");
  if (subject.rfind("team:", 0) == 0) return ValidatePrincipalName(subject.substr(5), "team");
  return Status::InvalidArgument("subject must be 'user:NAME' or 'team:NAME'");
}

Status ValidateRefName(std::string_view ref) {
  if (ref == "head") return Status::Ok();
  if (ref.rfind("tags/", 0) == 0) return ValidateTagName(ref.substr(5));
  return Status::InvalidArgument("ref must be 'head' or 'tags/TAG'");
}

Status ValidateObjectKey(std::string_view key) {
  if (key == kConfigKey) return Status::Ok();
  for (ObjectKind kind :
       {ObjectKind::kPack, ObjectKind::kTree, ObjectKind::kIndex, ObjectKind::kCommit}) {
    // Canonical only (lowercase hex): one object, one key.
    if (auto id = IdFromKey(kind, key); id && ObjectKey(kind, *id) == key) return Status::Ok();
  }
  return Status::InvalidArgument(
      "object key must be 'config' or KIND/xx/<64 lowercase hex digits> (docs/format.md, "
      "\"Keys\")");
}

Result<std::vector<ObjectBatchItem>> ParseObjectBatch(std::string_view body, size_t max_items) {
  std::vector<ObjectBatchItem> items;
  while (!body.empty()) {
    ObjectBatchItem item;
    if (!GetLengthPrefixed(&body, &item.key) || !GetLengthPrefixed(&body, &item.bytes)) {
      return Status::InvalidArgument("object batch: item " + std::to_string(items.size() + 1) +
                                     " is cut short (each is a length-prefixed key, then its "
                                     "length-prefixed bytes)");
    }
    PROXIMA_RETURN_IF_ERROR(ValidateObjectKey(item.key));
    if (item.key == kConfigKey || IdFromKey(ObjectKind::kPack, item.key)) {
      return Status::InvalidArgument("object batch: '" + std::string(item.key) +
                                     "' cannot be batched (packs and the config are PUT alone)");
    }
    if (items.size() == max_items) {
      return Status::InvalidArgument("object batch: more than " + std::to_string(max_items) +
                                     " objects");
    }
    items.push_back(item);
  }
  if (items.empty()) return Status::InvalidArgument("object batch: no objects");
  return items;
}

Result<CreateDatasetRequest> ParseCreateDataset(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc, ParseObject(body, {"name"}));
  PROXIMA_ASSIGN_OR_RETURN(std::string name, RequiredString(doc, "name"));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(name, "dataset"));
  return CreateDatasetRequest{std::move(name)};
}

Result<RefUpdateRequest> ParseRefUpdate(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc, ParseObject(body, {"expected", "desired"}));
  if (!doc.contains("desired")) {
    return Status::InvalidArgument("missing field 'desired' (a commit id, or null to delete)");
  }
  RefUpdateRequest r;
  PROXIMA_ASSIGN_OR_RETURN(r.expected, OptionalId(doc, "expected"));
  PROXIMA_ASSIGN_OR_RETURN(r.desired, OptionalId(doc, "desired"));
  return r;
}

Result<GrantRequest> ParseGrant(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc, ParseObject(body, {"subject", "access"}));
  GrantRequest g;
  PROXIMA_ASSIGN_OR_RETURN(g.subject, RequiredString(doc, "subject"));
  PROXIMA_RETURN_IF_ERROR(ValidateSubject(g.subject));
  PROXIMA_ASSIGN_OR_RETURN(std::string access, RequiredString(doc, "access"));
  auto a = ParseAccess(access);
  if (!a) return Status::InvalidArgument("field 'access' must be 'read', 'write' or 'admin'");
  g.access = *a;
  return g;
}

Result<CreateUserRequest> ParseCreateUser(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc, ParseObject(body, {"name", "admin"}));
  CreateUserRequest u;
  PROXIMA_ASSIGN_OR_RETURN(u.name, RequiredString(doc, "name"));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(u.name, "user"));
  if (auto it = doc.find("admin"); it != doc.end()) {
    if (!it->is_boolean()) return Status::InvalidArgument("field 'admin' must be true or false");
    u.admin = it->get<bool>();
  }
  return u;
}

Result<CreateTeamRequest> ParseCreateTeam(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc, ParseObject(body, {"name"}));
  CreateTeamRequest t;
  PROXIMA_ASSIGN_OR_RETURN(t.name, RequiredString(doc, "name"));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(t.name, "team"));
  return t;
}

Result<MemberRequest> ParseMember(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc, ParseObject(body, {"role"}));
  PROXIMA_ASSIGN_OR_RETURN(std::string role, RequiredString(doc, "role"));
  auto r = ParseTeamRole(role);
  if (!r) return Status::InvalidArgument("field 'role' must be 'viewer', 'member' or 'admin'");
  return MemberRequest{*r};
}

Result<CreateTokenRequest> ParseCreateToken(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc, ParseObject(body, {"description", "expires_in_seconds"}));
  CreateTokenRequest t;
  if (auto it = doc.find("description"); it != doc.end()) {
    if (!it->is_string()) return Status::InvalidArgument("field 'description' must be a string");
    t.description = it->get<std::string>();
    if (t.description.size() > 200 || !IsValidUtf8(t.description)) {
      return Status::InvalidArgument("field 'description' must be UTF-8, at most 200 bytes");
    }
  }
  if (auto it = doc.find("expires_in_seconds"); it != doc.end()) {
    constexpr int64_t kMax = int64_t{10} * 365 * 24 * 3600;
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > kMax) {
      return Status::InvalidArgument(
          "field 'expires_in_seconds' must be an integer from 0 (never) to 315360000 (10 years)");
    }
    t.expires_in_seconds = it->get<int64_t>();
  }
  return t;
}

Result<ObjectUrlsRequest> ParseObjectUrls(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc, ParseObject(body, {"method", "keys"}));
  ObjectUrlsRequest r;
  PROXIMA_ASSIGN_OR_RETURN(r.method, RequiredString(doc, "method"));
  if (r.method != "GET" && r.method != "PUT") {
    return Status::InvalidArgument("field 'method' must be 'GET' or 'PUT'");
  }
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array() || keys->empty() || keys->size() > 1000) {
    return Status::InvalidArgument("field 'keys' must be an array of 1 to 1000 object keys");
  }
  for (const json& k : *keys) {
    if (!k.is_string()) return Status::InvalidArgument("field 'keys' must hold strings");
    r.keys.push_back(k.get<std::string>());
    PROXIMA_RETURN_IF_ERROR(ValidateObjectKey(r.keys.back()));
  }
  return r;
}

Result<VolumeRecord> ParseVolume(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(
      json doc, ParseObject(body, {"name", "path", "resource", "capacity_bytes", "ttl_seconds",
                                   "high", "low"}));
  VolumeRecord v;
  PROXIMA_ASSIGN_OR_RETURN(v.name, RequiredString(doc, "name"));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(v.name, "volume"));
  PROXIMA_ASSIGN_OR_RETURN(v.path, TextField(doc, "path", 4096, std::nullopt));
  if (v.path.empty() || v.path[0] != '/') {
    return Status::InvalidArgument("field 'path' must be an absolute path");
  }
  PROXIMA_ASSIGN_OR_RETURN(v.resource, TextField(doc, "resource", 100, std::string("local")));
  PROXIMA_ASSIGN_OR_RETURN(int64_t capacity,
                           IntField(doc, "capacity_bytes", 0, INT64_MAX, int64_t{0}));
  v.capacity_bytes = static_cast<uint64_t>(capacity);
  constexpr int64_t kTenYears = int64_t{10} * 365 * 24 * 3600;
  PROXIMA_ASSIGN_OR_RETURN(
      int64_t ttl, IntField(doc, "ttl_seconds", 1, kTenYears, kDefaultCacheTtlNs / 1'000'000'000));
  v.ttl_ns = ttl * 1'000'000'000;
  for (auto [field, target] : {std::pair{"high", &v.high}, std::pair{"low", &v.low}}) {
    auto it = doc.find(field);
    if (it == doc.end()) continue;
    if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > 1) {
      return Status::InvalidArgument(std::string("field '") + field +
                                     "' must be a fraction in (0, 1]");
    }
    *target = it->get<double>();
  }
  if (!(v.low < v.high)) return Status::InvalidArgument("field 'low' must be below 'high'");
  return v;
}

Result<CacheRecord> ParseCacheRow(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(
      json doc,
      ParseObject(body, {"state", "files", "bytes", "done_bytes", "fetched_bytes", "reason",
                         "created_unix_ns", "last_used_unix_ns", "pinned", "team", "version"}));
  CacheRecord c;
  PROXIMA_ASSIGN_OR_RETURN(std::string state, RequiredString(doc, "state"));
  auto parsed = ParseCacheState(state);
  if (!parsed) {
    return Status::InvalidArgument(
        "field 'state' must be queued, filling, ready, evicting or failed");
  }
  c.state = *parsed;
  int64_t n = 0;
  PROXIMA_ASSIGN_OR_RETURN(n, IntField(doc, "files", 0, INT64_MAX, int64_t{0}));
  c.files = static_cast<uint64_t>(n);
  PROXIMA_ASSIGN_OR_RETURN(n, IntField(doc, "bytes", 0, INT64_MAX, int64_t{0}));
  c.bytes = static_cast<uint64_t>(n);
  PROXIMA_ASSIGN_OR_RETURN(n, IntField(doc, "done_bytes", 0, INT64_MAX, int64_t{0}));
  c.done_bytes = static_cast<uint64_t>(n);
  PROXIMA_ASSIGN_OR_RETURN(n, IntField(doc, "fetched_bytes", 0, INT64_MAX, int64_t{0}));
  c.fetched_bytes = static_cast<uint64_t>(n);
  PROXIMA_ASSIGN_OR_RETURN(c.reason, TextField(doc, "reason", 4096, std::string()));
  PROXIMA_ASSIGN_OR_RETURN(c.created_unix_ns,
                           IntField(doc, "created_unix_ns", 0, INT64_MAX, int64_t{0}));
  PROXIMA_ASSIGN_OR_RETURN(c.last_used_unix_ns,
                           IntField(doc, "last_used_unix_ns", 0, INT64_MAX, int64_t{0}));
  if (auto it = doc.find("pinned"); it != doc.end()) {
    if (!it->is_boolean()) return Status::InvalidArgument("field 'pinned' must be true or false");
    c.pinned = it->get<bool>();
  }
  PROXIMA_ASSIGN_OR_RETURN(c.team, TextField(doc, "team", 100, std::string()));
  if (!c.team.empty()) PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(c.team, "team"));
  PROXIMA_ASSIGN_OR_RETURN(c.version, IntField(doc, "version", 0, INT64_MAX - 1, std::nullopt));
  return c;
}

Result<uint64_t> ParseQuota(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc, ParseObject(body, {"bytes"}));
  PROXIMA_ASSIGN_OR_RETURN(int64_t bytes, IntField(doc, "bytes", 0, INT64_MAX, std::nullopt));
  return static_cast<uint64_t>(bytes);
}

Result<LeaseRecord> ParseLease(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(json doc,
                           ParseObject(body, {"dataset", "commit", "holder", "expires_unix_ns"}));
  LeaseRecord l;
  PROXIMA_ASSIGN_OR_RETURN(l.dataset, RequiredString(doc, "dataset"));
  PROXIMA_RETURN_IF_ERROR(ValidateDatasetName(l.dataset));
  PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> commit, OptionalId(doc, "commit"));
  if (!commit) return Status::InvalidArgument("missing field 'commit'");
  l.commit = *commit;
  PROXIMA_ASSIGN_OR_RETURN(l.holder, TextField(doc, "holder", 200, std::nullopt));
  PROXIMA_ASSIGN_OR_RETURN(l.expires_unix_ns,
                           IntField(doc, "expires_unix_ns", 0, INT64_MAX, std::nullopt));
  return l;
}

namespace {

Status CheckShape(const Shape& shape, std::string_view what) {
  constexpr int64_t kMaxCpus = int64_t{1} << 40;
  if (shape.millicpus > kMaxCpus || shape.gpus > 1'000'000) {
    return Status::InvalidArgument(std::string(what) + " asks for more than any machine has");
  }
  return Status::Ok();
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool ValidEnvName(std::string_view name) {
  if (name.empty() || name.size() > 256 || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<ResourceRecord> ParseResource(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(ResourceRecord r, DecodeResource(body));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(r.name, "resource"));
  PROXIMA_RETURN_IF_ERROR(CheckShape(r.capacity, "the resource"));
  if (r.kind == ResourceKind::kKubernetes) {
    return Status::InvalidArgument(
        "resource kind 'kubernetes' has no executor in this release (local, agent or slurm)");
  }
  if (r.kind == ResourceKind::kLocal && r.capacity.millicpus <= 0) {
    return Status::InvalidArgument("a local resource needs a capacity of at least one CPU");
  }
  if (r.config.size() > 64 * 1024) {
    return Status::InvalidArgument("field 'config' is over 64 KiB");
  }
  return r;
}

Result<TemplateRecord> ParseTemplate(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(TemplateRecord t, DecodeTemplate(body));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(t.name, "template"));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(t.resource, "resource"));
  PROXIMA_RETURN_IF_ERROR(CheckShape(t.shape, "the template"));
  if (t.shape.millicpus <= 0) {
    return Status::InvalidArgument("a template needs at least some CPU (field 'millicpus' > 0)");
  }
  if (t.partition.size() > 100 || t.image.size() > 1000 || HasNul(t.partition) || HasNul(t.image)) {
    return Status::InvalidArgument("field 'partition' or 'image' is too long or holds a NUL");
  }
  return t;
}

Result<QueueRecord> ParseQueue(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(QueueRecord q, DecodeQueue(body));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(q.name, "queue"));
  if (q.templates.empty() || q.templates.size() > 100) {
    return Status::InvalidArgument("a queue lists 1 to 100 templates (field 'templates')");
  }
  for (size_t i = 0; i < q.templates.size(); ++i) {
    PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(q.templates[i], "template"));
    for (size_t j = 0; j < i; ++j) {
      if (q.templates[j] == q.templates[i]) {
        return Status::InvalidArgument("template '" + q.templates[i] +
                                       "' is listed twice in the queue");
      }
    }
  }
  return q;
}

Result<JobSpec> ParseJobSpec(std::string_view body) {
  PROXIMA_ASSIGN_OR_RETURN(JobSpec spec, DecodeJobSpec(body));
  if (spec.command.empty() || spec.command.size() > 1000 || spec.command[0].empty()) {
    return Status::InvalidArgument(
        "field 'command' must hold 1 to 1,000 arguments, the first "
        "one a program");
  }
  for (const std::string& arg : spec.command) {
    if (HasNul(arg)) return Status::InvalidArgument("an argument of 'command' holds a NUL byte");
  }
  if (spec.env.size() > 1000) return Status::InvalidArgument("field 'env' has over 1,000 entries");
  for (const auto& [name, value] : spec.env) {
    if (!ValidEnvName(name)) {
      return Status::InvalidArgument("'" + name.substr(0, 100) +
                                     "' is not an environment variable name "
                                     "([A-Za-z_][A-Za-z0-9_]*)");
    }
    if (HasNul(value)) {
      return Status::InvalidArgument("environment variable '" + name + "' holds a NUL byte");
    }
  }
  if (spec.datasets.size() > 100) {
    return Status::InvalidArgument("a job reads at most 100 datasets");
  }
  for (size_t i = 0; i < spec.datasets.size(); ++i) {
    PROXIMA_RETURN_IF_ERROR(ValidateDatasetName(spec.datasets[i].name));
    for (size_t j = 0; j < i; ++j) {
      if (spec.datasets[j].name == spec.datasets[i].name) {
        return Status::InvalidArgument("dataset '" + spec.datasets[i].name +
                                       "' is given twice (a job reads one commit of each)");
      }
    }
  }
  if (!spec.queue.empty() && !spec.template_name.empty()) {
    return Status::InvalidArgument("give a queue or a template, not both");
  }
  if (!spec.queue.empty()) PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(spec.queue, "queue"));
  if (!spec.template_name.empty()) {
    PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(spec.template_name, "template"));
  }
  if (HasNul(spec.image) || HasNul(spec.workdir) || spec.image.size() > 1000 ||
      spec.workdir.size() > 4096) {
    return Status::InvalidArgument("field 'image' or 'workdir' is too long or holds a NUL");
  }
  if (!spec.workdir.empty() && spec.workdir[0] != '/') {
    return Status::InvalidArgument("field 'workdir' must be an absolute path");
  }
  return spec;
}

Result<PageRequest> ParsePage(const std::multimap<std::string, std::string>& params,
                              size_t max_limit) {
  PageRequest page;
  page.limit = std::min<size_t>(100, max_limit);
  if (auto it = params.find("after"); it != params.end()) {
    if (it->second.size() > 1024) return Status::InvalidArgument("'after' is too long");
    page.after = it->second;
  }
  if (auto it = params.find("limit"); it != params.end()) {
    const std::string& v = it->second;
    size_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > max_limit) {
      return Status::InvalidArgument("'limit' must be an integer from 1 to " +
                                     std::to_string(max_limit));
    }
    page.limit = n;
  }
  return page;
}

}  // namespace proxima::api
