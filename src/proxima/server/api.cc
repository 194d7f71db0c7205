#include "proxima/server/api.h"

#include <algorithm>

namespace proxima::api {

std::string& CurrentRoute() {
  thread_local std::string route;
  return route;
}

std::string& CurrentUser() {
  thread_local std::string user;
  return user;
}

Handler Bind(Hub& hub, HubHandler fn) {
  return [&hub, fn](const httplib::Request& req, httplib::Response& res, const Principal& who) {
    return fn(hub, req, res, who);
  };
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 412;
    case StatusCode::kCorruption:
      return 422;
    case StatusCode::kResourceExhausted:
      return 507;
    case StatusCode::kUnavailable:
    case StatusCode::kCancelled:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string DumpJson(const Json& body) {
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AppendJsonString(std::string* out, std::string_view s) {
  bool plain = std::all_of(s.begin(), s.end(),
                           [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (!plain) {
    *out += DumpJson(Json(std::string(s)));
    return;
  }
  out->push_back('"');
  out->append(s);
  out->push_back('"');
}

TextPage::TextPage(size_t expected_items) {
  body_.reserve(64 + 112 * std::min<size_t>(expected_items, 1000));
}

std::string& TextPage::NextItem() {
  if (count_++ != 0) body_ += ',';
  return body_;
}

void TextPage::Send(httplib::Response& res, const std::optional<std::string>& next) {
  body_ += "],\"next\":";
  if (next) {
    AppendJsonString(&body_, *next);
  } else {
    body_ += "null";
  }
  body_ += "}\n";
  res.status = 200;
  res.set_content(body_, "application/json");
}

void SendJson(httplib::Response& res, int http_status, const Json& body) {
  res.status = http_status;
  res.set_content(DumpJson(body) + "\n", "application/json");
}

void SendError(httplib::Response& res, const Status& status, int http_status) {
  Json body = {
      {"error",
       {{"code", std::string(StatusCodeName(status.code()))}, {"message", status.message()}}}};
  SendJson(res, http_status != 0 ? http_status : HttpStatusFor(status.code()), body);
  if (status.code() == StatusCode::kUnauthenticated) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"proxima\"");
  }
}

Status CheckJsonSize(Hub& hub, const httplib::Request& req) {
  if (req.body.size() > hub.options->max_json_bytes) {
    return Status::InvalidArgument("request body of " + std::to_string(req.body.size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(hub.options->max_json_bytes));
  }
  return Status::Ok();
}

Result<Access> RequireDatasetAccess(Hub& hub, const Principal& who, const std::string& dataset,
                                    Access level) {
  PROXIMA_ASSIGN_OR_RETURN(Access access, hub.access->DatasetAccess(who, dataset));
  bool exists = true;
  if (access != Access::kNone && who.admin) {
    PROXIMA_ASSIGN_OR_RETURN(exists, hub.catalog->DatasetExists(dataset));
  }
  if (access == Access::kNone || !exists) {
    return Status::NotFound("dataset '" + dataset + "' does not exist");
  }
  if (access < level) {
    return Status::PermissionDenied("you have " + std::string(AccessName(access)) +
                                    " access to dataset '" + dataset + "'; this needs " +
                                    std::string(AccessName(level)) +
                                    " (ask an admin of the dataset for a grant)");
  }
  return access;
}

Status RequireHubAdmin(const Principal& who, std::string_view what) {
  if (who.admin) return Status::Ok();
  return Status::PermissionDenied(std::string(what) + " needs a hub administrator");
}

void Audit(Hub& hub, const Principal& who, std::string action, std::string object,
           std::string detail) {
  AuditRecord record{0,
                     hub.clock->NowUnixNanos(),
                     who.user,
                     std::move(action),
                     std::move(object),
                     std::move(detail)};
  Status s = hub.catalog->AppendAudit(record);
  if (!s.ok() && hub.options->log) hub.options->log("audit append failed: " + s.ToString());
}

Json PageJson(Json items, const std::string& last, bool more) {
  return {{"items", std::move(items)}, {"next", more ? Json(last) : Json(nullptr)}};
}

bool Router::Authenticate(Hub* hub, const std::string& pattern, const httplib::Request& req,
                          httplib::Response& res, Principal* who) {
  CurrentRoute() = pattern;
  std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.empty()) {
    SendError(res, Status::Unauthenticated(
                       "missing 'Authorization: Bearer <token>' (proxima login --hub URL)"));
    return false;
  }
  if (auth.rfind(kBearer, 0) != 0) {
    SendError(res, Status::Unauthenticated("the Authorization header must be 'Bearer <token>'"));
    return false;
  }
  Result<Principal> found =
      hub->access->Authenticate(std::string_view(auth).substr(kBearer.size()));
  if (!found.ok()) {
    SendError(res, found.status());
    return false;
  }
  *who = std::move(found).value();
  CurrentUser() = who->user;
  return true;
}

httplib::Server::Handler Router::Wrap(const std::string& pattern, Handler h) {
  Hub* hub = hub_;
  return [hub, pattern, h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
    Principal who;
    if (!Authenticate(hub, pattern, req, res, &who)) return;
    Status s = h(req, res, who);
    if (!s.ok()) SendError(res, s);
  };
}

void Router::PutStream(const std::string& pattern, StreamHandler h) {
  Hub* hub = hub_;
  server_->Put(pattern,
               [hub, pattern, h = std::move(h)](const httplib::Request& req, httplib::Response& res,
                                                const httplib::ContentReader& reader) {
                 Principal who;
                 if (!Authenticate(hub, pattern, req, res, &who)) return;
                 Status s = h(req, res, who, reader);
                 if (!s.ok()) SendError(res, s);
               });
}

void Router::Get(const std::string& pattern, Handler h) {
  server_->Get(pattern, Wrap(pattern, std::move(h)));
}
void Router::Put(const std::string& pattern, Handler h) {
  server_->Put(pattern, Wrap(pattern, std::move(h)));
}
void Router::Post(const std::string& pattern, Handler h) {
  server_->Post(pattern, Wrap(pattern, std::move(h)));
}
void Router::Delete(const std::string& pattern, Handler h) {
  server_->Delete(pattern, Wrap(pattern, std::move(h)));
}

}  // namespace proxima::api
