#pragma once

// What the route files of the hub share (not a public header).

#include <httplib.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxima/core/access.h"
#include "proxima/core/repository.h"
#include "proxima/server/hub_server.h"
#include "proxima/server/metrics.h"
#include "proxima/server/requests.h"

namespace proxima {
class AgentPool;
class UploadVerifier;
}  // namespace proxima

namespace proxima::api {

using Json = nlohmann::json;

struct Hub {
  Catalog* catalog = nullptr;
  ObjectStore* store = nullptr;
  // `store` for reading objects on behalf of clients: packs still waiting
  // for their verification included (upload_verifier.h).
  ObjectStore* reads = nullptr;
  UploadVerifier* verifier = nullptr;
  Repository* repo = nullptr;
  Clock* clock = nullptr;
  AccessControl* access = nullptr;
  const ServerOptions* options = nullptr;
  Metrics* metrics = nullptr;
  // Tells the scheduler that jobs changed (a submission, a cancellation).
  std::function<void()> wake_scheduler;
  // The executor of agent resources (nullptr when the hub schedules nothing).
  AgentPool* agents = nullptr;
  // The executor of any resource, agents included: the scheduler's (empty
  // when the hub schedules nothing).
  std::function<Executor*(const ResourceRecord&)> executor_for;

  // Parents of commits read so far (commits are immutable), for listing the
  // commits a caller may see.
  std::mutex parents_mu;
  std::unordered_map<ObjectId, std::vector<ObjectId>, Hash256Hasher> parents;
};

// A handler of an authenticated route: returns an error status to send it
// as the error body, or fills `res` and returns OK.
using Handler =
    std::function<Status(const httplib::Request&, httplib::Response&, const Principal&)>;

// A handler that receives its request body as a stream (object uploads:
// straight into aligned memory, without an intermediate string).
using StreamHandler = std::function<Status(const httplib::Request&, httplib::Response&,
                                           const Principal&, const httplib::ContentReader&)>;

// A handler written as a free function of the hub, and its binding.
using HubHandler = Status (*)(Hub&, const httplib::Request&, httplib::Response&, const Principal&);
Handler Bind(Hub& hub, HubHandler fn);

// Registers routes; every one authenticates with the bearer token first
// (401 without a valid one) and records its metrics under `pattern`.
class Router {
 public:
  Router(httplib::Server* server, Hub* hub) : server_(server), hub_(hub) {}
  void Get(const std::string& pattern, Handler h);
  void Put(const std::string& pattern, Handler h);
  void Post(const std::string& pattern, Handler h);
  void Delete(const std::string& pattern, Handler h);
  void PutStream(const std::string& pattern, StreamHandler h);
  Hub& hub() { return *hub_; }

 private:
  httplib::Server::Handler Wrap(const std::string& pattern, Handler h);
  // Authenticates the request: the principal, or false after sending 401.
  static bool Authenticate(Hub* hub, const std::string& pattern, const httplib::Request& req,
                           httplib::Response& res, Principal* who);
  httplib::Server* server_;
  Hub* hub_;
};

// The route pattern and user of the request being served on this thread
// (for metrics and the request log).
std::string& CurrentRoute();
std::string& CurrentUser();

int HttpStatusFor(StatusCode code);
// {"error": {"code": "NotFound", "message": "..."}}; `http_status` 0: from
// the code.
void SendError(httplib::Response& res, const Status& status, int http_status = 0);
void SendJson(httplib::Response& res, int http_status, const Json& body);
std::string DumpJson(const Json& body);  // invalid UTF-8 replaced, never throws
// Appends `s` as a JSON string, as DumpJson writes it. For responses built
// as text: a page of 50 items costs a third as much as building a Json.
void AppendJsonString(std::string* out, std::string_view s);

// Refuses JSON bodies over the configured limit (413).
Status CheckJsonSize(Hub& hub, const httplib::Request& req);

// The caller's access to `dataset`, at least `level`: NotFound when `who`
// may not read it (whether or not it exists: a caller never learns of a
// dataset it cannot read); PermissionDenied when it may read but has less
// than `level`.
Result<Access> RequireDatasetAccess(Hub& hub, const Principal& who, const std::string& dataset,
                                    Access level);
Status RequireHubAdmin(const Principal& who, std::string_view what);

// Appends to the audit log; a failure is logged, never fails the request
// that already happened.
void Audit(Hub& hub, const Principal& who, std::string action, std::string object,
           std::string detail = "");

// {"items": [...], "next": "<after>" | null}
Json PageJson(Json items, const std::string& last, bool more);

// The same page written as text, byte for byte as PageJson would dump it,
// for the busiest listings (building a Json of a page cost most of their
// time). Items are appended whole, keys in sorted order.
class TextPage {
 public:
  explicit TextPage(size_t expected_items);
  // The body, with the separator before this item written.
  std::string& NextItem();
  size_t count() const { return count_; }
  // Closes the page with its cursor (none: the last page) and sends it.
  void Send(httplib::Response& res, const std::optional<std::string>& next);

 private:
  std::string body_ = "{\"items\":[";
  size_t count_ = 0;
};

// One page of a list the catalog or store returns whole: the items whose
// key sorts after the page's cursor, at most `limit` of them, sorted by key.
template <typename T, typename KeyFn, typename ToJson>
Json PageOf(std::vector<T> all, KeyFn key, const PageRequest& page, ToJson to_json) {
  std::sort(all.begin(), all.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  Json items = Json::array();
  std::string last;
  bool more = false;
  for (const T& item : all) {
    if (key(item) <= page.after) continue;
    if (items.size() == page.limit) {
      more = true;
      break;
    }
    items.push_back(to_json(item));
    last = key(item);
  }
  return PageJson(std::move(items), last, more);
}

void RegisterDatasetRoutes(Router& router);
void RegisterObjectRoutes(Router& router);
void RegisterIdentityRoutes(Router& router);
void RegisterCacheRoutes(Router& router);
void RegisterComputeRoutes(Router& router);
void RegisterAgentRoutes(Router& router);

}  // namespace proxima::api
