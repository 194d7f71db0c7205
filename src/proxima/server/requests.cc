#include "proxima/server/requests.h"

#include <charconv>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "proxima/model/names.h"

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
    if (IdFromKey(kind, key)) return Status::Ok();
  }
  return Status::InvalidArgument(
      "object key must be 'config' or KIND/xx/<64 hex digits> (docs/format.md, \"Keys\")");
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
