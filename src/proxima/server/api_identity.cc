// Users, teams, tokens and the audit log: /api/v1/{whoami,users,teams,tokens,audit}.
#include <charconv>

#include "proxima/server/api.h"
#include "proxima/server/requests.h"

namespace proxima::api {

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

Json UserJson(const UserRecord& u) {
  return {{"name", u.name}, {"admin", u.admin}, {"created_unix_ns", u.created_unix_ns}};
}

Json TokenJson(const TokenRecord& t) {
  return {{"id", t.id},
          {"user", t.user},
          {"description", t.description},
          {"created_unix_ns", t.created_unix_ns},
          {"expires_unix_ns", t.expires_unix_ns ? Json(t.expires_unix_ns) : Json(nullptr)},
          {"revoked_unix_ns", t.revoked_unix_ns ? Json(t.revoked_unix_ns) : Json(nullptr)}};
}

// Hub admins may act on anyone; others only on themselves. Someone else's
// account is NotFound to a non-admin, as if it did not exist.
Status RequireSelfOrAdmin(const Principal& who, const std::string& user) {
  if (who.admin || who.user == user) return Status::Ok();
  return Status::NotFound("user '" + user + "' does not exist");
}

Status WhoAmI(Hub&, const httplib::Request&, httplib::Response& res, const Principal& who) {
  Json teams = Json::array();
  for (const MemberRecord& m : who.teams) {
    teams.push_back({{"team", m.team}, {"role", TeamRoleName(m.role)}});
  }
  SendJson(
      res, 200,
      {{"user", who.user}, {"admin", who.admin}, {"token_id", who.token_id}, {"teams", teams}});
  return Status::Ok();
}

Status ListUsers(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "listing users"));
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<UserRecord> users,
                           hub.catalog->ListUsers(page.after, page.limit + 1));
  bool more = users.size() > page.limit;
  if (more) users.pop_back();
  Json items = Json::array();
  for (const UserRecord& u : users) items.push_back(UserJson(u));
  SendJson(res, 200, PageJson(std::move(items), users.empty() ? "" : users.back().name, more));
  return Status::Ok();
}

Status CreateUser(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "creating users"));
  PROXIMA_ASSIGN_OR_RETURN(CreateUserRequest body, ParseCreateUser(req.body));
  UserRecord user{body.name, body.admin, hub.clock->NowUnixNanos()};
  PROXIMA_RETURN_IF_ERROR(hub.catalog->CreateUser(user));
  Audit(hub, who, "user.create", "user:" + user.name, user.admin ? "admin" : "");
  SendJson(res, 201, UserJson(user));
  return Status::Ok();
}

Status GetUser(Hub& hub, const httplib::Request& req, httplib::Response& res,
               const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(RequireSelfOrAdmin(who, name));
  PROXIMA_ASSIGN_OR_RETURN(UserRecord user, hub.catalog->GetUser(name));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<MemberRecord> teams, hub.catalog->TeamsOfUser(name));
  Json body = UserJson(user);
  body["teams"] = Json::array();
  for (const MemberRecord& m : teams) {
    body["teams"].push_back({{"team", m.team}, {"role", TeamRoleName(m.role)}});
  }
  SendJson(res, 200, body);
  return Status::Ok();
}

Status DeleteUser(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "deleting users"));
  if (name == who.user) {
    return Status::FailedPrecondition("you cannot delete yourself; another admin can");
  }
  PROXIMA_RETURN_IF_ERROR(hub.catalog->DeleteUser(name));
  hub.access->Forget();
  Audit(hub, who, "user.delete", "user:" + name);
  SendJson(res, 200, {{"deleted", name}});
  return Status::Ok();
}

Status ListTokens(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(RequireSelfOrAdmin(who, name));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->GetUser(name).status());
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<TokenRecord> tokens, hub.catalog->ListTokens(name));
  SendJson(res, 200,
           PageOf(
               std::move(tokens), [](const TokenRecord& t) { return t.id; }, page, TokenJson));
  return Status::Ok();
}

Status CreateToken(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireSelfOrAdmin(who, name));
  PROXIMA_ASSIGN_OR_RETURN(CreateTokenRequest body, ParseCreateToken(req.body));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->GetUser(name).status());
  PROXIMA_ASSIGN_OR_RETURN(
      IssuedToken issued,
      hub.access->IssueToken(name, body.description, body.expires_in_seconds * kNanosPerSecond));
  Audit(hub, who, "token.create", "user:" + name, issued.record.id);
  Json out = TokenJson(issued.record);
  out["token"] = issued.secret;  // the only time it is ever shown
  SendJson(res, 201, out);
  return Status::Ok();
}

Status RevokeToken(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal& who) {
  std::string id = req.matches[1];
  if (!who.admin) {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<TokenRecord> own, hub.catalog->ListTokens(who.user));
    bool mine = false;
    for (const TokenRecord& t : own) mine = mine || t.id == id;
    if (!mine) return Status::NotFound("token '" + id + "' does not exist");
  }
  PROXIMA_RETURN_IF_ERROR(hub.catalog->RevokeToken(id, hub.clock->NowUnixNanos()));
  hub.access->Forget();
  Audit(hub, who, "token.revoke", "token:" + id);
  SendJson(res, 200, {{"revoked", id}});
  return Status::Ok();
}

Status ListTeams(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who) {
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  Json items = Json::array();
  bool more = false;
  std::string last;
  if (who.admin) {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<TeamRecord> teams,
                             hub.catalog->ListTeams(page.after, page.limit + 1));
    more = teams.size() > page.limit;
    if (more) teams.pop_back();
    for (const TeamRecord& t : teams) {
      items.push_back({{"name", t.name}, {"created_unix_ns", t.created_unix_ns}});
      last = t.name;
    }
  } else {
    for (const MemberRecord& m : who.teams) {  // sorted by team
      if (m.team <= page.after) continue;
      if (items.size() == page.limit) {
        more = true;
        break;
      }
      items.push_back({{"name", m.team}, {"role", TeamRoleName(m.role)}});
      last = m.team;
    }
  }
  SendJson(res, 200, PageJson(std::move(items), last, more));
  return Status::Ok();
}

Status CreateTeam(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "creating teams"));
  PROXIMA_ASSIGN_OR_RETURN(CreateTeamRequest body, ParseCreateTeam(req.body));
  TeamRecord team{body.name, hub.clock->NowUnixNanos()};
  PROXIMA_RETURN_IF_ERROR(hub.catalog->CreateTeam(team));
  Audit(hub, who, "team.create", "team:" + team.name);
  SendJson(res, 201, {{"name", team.name}, {"created_unix_ns", team.created_unix_ns}});
  return Status::Ok();
}

// A team is visible to hub admins and its members; to others it does not exist.
Status RequireTeamRole(const Principal& who, const std::string& team, TeamRole level) {
  if (who.admin) return Status::Ok();
  TeamRole role = who.RoleIn(team);
  if (static_cast<int>(role) == 0) return Status::NotFound("team '" + team + "' does not exist");
  if (role < level) {
    return Status::PermissionDenied("managing team '" + team +
                                    "' needs its admin role or a hub administrator");
  }
  return Status::Ok();
}

Status GetTeam(Hub& hub, const httplib::Request& req, httplib::Response& res,
               const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(RequireTeamRole(who, name, TeamRole::kViewer));
  PROXIMA_ASSIGN_OR_RETURN(TeamRecord team, hub.catalog->GetTeam(name));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<MemberRecord> members, hub.catalog->ListMembers(name));
  Json list = Json::array();
  for (const MemberRecord& m : members) {
    list.push_back({{"user", m.user}, {"role", TeamRoleName(m.role)}});
  }
  SendJson(res, 200,
           {{"name", team.name}, {"created_unix_ns", team.created_unix_ns}, {"members", list}});
  return Status::Ok();
}

Status DeleteTeam(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "deleting teams"));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->DeleteTeam(name));
  hub.access->Forget();
  Audit(hub, who, "team.delete", "team:" + name);
  SendJson(res, 200, {{"deleted", name}});
  return Status::Ok();
}

Status PutMember(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who) {
  std::string team = req.matches[1], user = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireTeamRole(who, team, TeamRole::kAdmin));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(user, "user"));
  PROXIMA_ASSIGN_OR_RETURN(MemberRequest body, ParseMember(req.body));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->PutMember({team, user, body.role}));
  hub.access->Forget();
  Audit(hub, who, "team.member.set", "team:" + team,
        DumpJson({{"user", user}, {"role", TeamRoleName(body.role)}}));
  SendJson(res, 200, {{"team", team}, {"user", user}, {"role", TeamRoleName(body.role)}});
  return Status::Ok();
}

Status RemoveMember(Hub& hub, const httplib::Request& req, httplib::Response& res,
                    const Principal& who) {
  std::string team = req.matches[1], user = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(RequireTeamRole(who, team, TeamRole::kAdmin));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->RemoveMember(team, user));
  hub.access->Forget();
  Audit(hub, who, "team.member.remove", "team:" + team, DumpJson({{"user", user}}));
  SendJson(res, 200, {{"removed", user}});
  return Status::Ok();
}

Status ListAudit(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "reading the audit log"));
  auto params = req.params;
  int64_t before = 0;
  if (auto it = params.find("before"); it != params.end()) {
    const std::string& v = it->second;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), before);
    if (ec != std::errc() || end != v.data() + v.size() || before < 0) {
      return Status::InvalidArgument("'before' must be an audit id (a non-negative integer)");
    }
    params.erase(it);
  }
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(params, hub.options->max_page_size));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<AuditRecord> rows,
                           hub.catalog->ListAudit(before, page.limit + 1));
  bool more = rows.size() > page.limit;
  if (more) rows.pop_back();
  Json items = Json::array();
  for (const AuditRecord& a : rows) {
    items.push_back({{"id", a.id},
                     {"unix_ns", a.unix_ns},
                     {"actor", a.actor},
                     {"action", a.action},
                     {"object", a.object},
                     {"detail", a.detail}});
  }
  SendJson(
      res, 200,
      {{"items", items}, {"next", more ? Json(std::to_string(rows.back().id)) : Json(nullptr)}});
  return Status::Ok();
}

}  // namespace

void RegisterIdentityRoutes(Router& r) {
  auto bind = [&r](HubHandler fn) { return Bind(r.hub(), fn); };
  r.Get("/api/v1/whoami", bind(WhoAmI));
  r.Get("/api/v1/users", bind(ListUsers));
  r.Post("/api/v1/users", bind(CreateUser));
  r.Get("/api/v1/users/([^/]+)", bind(GetUser));
  r.Delete("/api/v1/users/([^/]+)", bind(DeleteUser));
  r.Get("/api/v1/users/([^/]+)/tokens", bind(ListTokens));
  r.Post("/api/v1/users/([^/]+)/tokens", bind(CreateToken));
  r.Delete("/api/v1/tokens/([^/]+)", bind(RevokeToken));
  r.Get("/api/v1/teams", bind(ListTeams));
  r.Post("/api/v1/teams", bind(CreateTeam));
  r.Get("/api/v1/teams/([^/]+)", bind(GetTeam));
  r.Delete("/api/v1/teams/([^/]+)", bind(DeleteTeam));
  r.Put("/api/v1/teams/([^/]+)/members/([^/]+)", bind(PutMember));
  r.Delete("/api/v1/teams/([^/]+)/members/([^/]+)", bind(RemoveMember));
  r.Get("/api/v1/audit", bind(ListAudit));
}

}  // namespace proxima::api
