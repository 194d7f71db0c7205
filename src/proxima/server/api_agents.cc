// Agents: /api/v1/agents/{name}/heartbeat and .../logs (docs/scheduler.md,
// "Agents"; server/agent_pool.h). Agents are infrastructure: their token is
// a hub administrator's.
#include <charconv>

#include "proxima/server/agent_pool.h"
#include "proxima/server/api.h"

namespace proxima::api {

namespace {

const std::string kAgent = "/api/v1/agents/([A-Za-z0-9][A-Za-z0-9._-]{0,99})";

Result<AgentPool*> Pool(Hub& hub) {
  if (hub.agents == nullptr) {
    return Status::FailedPrecondition("this hub runs no scheduler, so it takes no agents");
  }
  return hub.agents;
}

Status Heartbeat(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "running an agent"));
  PROXIMA_ASSIGN_OR_RETURN(AgentPool * pool, Pool(hub));
  int wait_ms = 0;
  if (auto it = req.params.find("wait"); it != req.params.end()) {
    const std::string& t = it->second;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), wait_ms);
    if (ec != std::errc() || end != t.data() + t.size() || wait_ms < 0 || wait_ms > 30'000) {
      return Status::InvalidArgument("'wait' is milliseconds, from 0 to 30000");
    }
  }
  PROXIMA_ASSIGN_OR_RETURN(std::string answer, pool->Heartbeat(req.matches[1], req.body, wait_ms));
  res.set_content(std::move(answer), "application/json");
  return Status::Ok();
}

Status PutLog(Hub& hub, const httplib::Request& req, httplib::Response& res, const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "running an agent"));
  PROXIMA_ASSIGN_OR_RETURN(AgentPool * pool, Pool(hub));
  uint64_t offset = 0;
  auto it = req.params.find("offset");
  const std::string& t = it == req.params.end() ? std::string() : it->second;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), offset);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
    return Status::InvalidArgument("'offset' must be the byte offset of the chunk");
  }
  PROXIMA_RETURN_IF_ERROR(pool->AppendLog(
      req.matches[1], req.matches[2].str() + "/" + req.matches[3].str(), offset, req.body));
  SendJson(res, 200, {{"next", offset + req.body.size()}});
  return Status::Ok();
}

}  // namespace

void RegisterAgentRoutes(Router& router) {
  Hub& hub = router.hub();
  router.Post(kAgent + "/heartbeat", Bind(hub, Heartbeat));
  router.Put(kAgent + "/logs/([0-9]{1,18})/([0-9]{1,9})", Bind(hub, PutLog));
}

}  // namespace proxima::api
