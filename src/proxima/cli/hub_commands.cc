#include "proxima/cli/hub_commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "proxima/base/units.h"
#include "proxima/cli/context.h"
#include "proxima/cli/output.h"
#include "proxima/model/commit.h"

namespace proxima {

namespace {

using nlohmann::json;

constexpr const char* kAdminHelp = R"(Users, teams, tokens, grants and the audit log of a hub.

Needs a hub (--hub URL or 'proxima login'). Hub administrators manage users
and teams; a team admin manages the team's members; a dataset admin grants
access to the dataset.

  proxima admin user add bob
  proxima admin team add ml && proxima admin team member ml bob --role member
  proxima admin token create --user bob --expires 30d     prints the token once
  proxima admin grant xray team:ml write
  proxima admin audit --limit 20
)";

// A token's lifetime in seconds: a duration (base/units.h: 30d, 12h, 90m),
// a number of seconds, or "never" (0).
Result<int64_t> LifetimeSeconds(const std::string& s) {
  if (s == "never" || s == "0") return int64_t{0};
  bool digits =
      !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos;
  PROXIMA_ASSIGN_OR_RETURN(int64_t ns, ParseDuration(digits ? s + "s" : s, "--expires"));
  return ns / 1'000'000'000;
}

// Calls the hub and prints the answer: raw JSON with --json, else `print`.
int Call(CommandContext& ctx, const char* method, const std::string& path, const json& body,
         const std::function<void(const json&)>& print) {
  Result<std::string> r =
      ctx.env.hub_call(method, path, body.is_null() ? std::string() : body.dump());
  if (!r.ok()) return ReportError(r.status());
  json doc = json::parse(*r, nullptr, false);
  if (ctx.json || doc.is_discarded()) {
    std::printf("%s", r->c_str());
    return 0;
  }
  print(doc);
  return 0;
}

// GET of a paged listing, following "next" to the end.
Result<json> CallAll(CommandContext& ctx, const std::string& path) {
  json all = json::array();
  std::string after;
  while (true) {
    std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    PROXIMA_ASSIGN_OR_RETURN(std::string body,
                             ctx.env.hub_call("GET", path + sep + "limit=1000&after=" + after, ""));
    json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded()) return Status::Unavailable("hub sent malformed JSON");
    for (auto& item : doc["items"]) all.push_back(item);
    if (!doc["next"].is_string()) break;
    after = doc["next"].get<std::string>();
  }
  return all;
}

// Prints every item of a paged listing: as one JSON array with --json, else
// one `print` per item.
int ListAll(CommandContext& ctx, const std::string& path,
            const std::function<void(const json&)>& print) {
  Result<json> all = CallAll(ctx, path);
  if (!all.ok()) return ReportError(all.status());
  if (ctx.json) {
    std::printf("%s\n", all->dump(2).c_str());
  } else {
    for (const json& x : *all) print(x);
  }
  return 0;
}

std::string Str(const json& j, const char* key);

// `user`, or the caller's own name (GET /api/v1/whoami) when it is empty.
Result<std::string> UserOrSelf(CommandContext& ctx, const std::string& user) {
  if (!user.empty()) return user;
  PROXIMA_ASSIGN_OR_RETURN(std::string me, ctx.env.hub_call("GET", "/api/v1/whoami", ""));
  return Str(json::parse(me, nullptr, false), "user");
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

void AddHubCommands(CLI::App& app, CommandContext& ctx, HubArgs& args, int* rc) {
  // --- server ---
  ServerArgs& server_args = args.server;
  CLI::App* server = app.add_subcommand(
      "server",
      "Run the hub: the REST API over the catalog and the store (docs/api.md).\n"
      "With no configuration: SQLite catalog and local store under $PROXIMA_HOME,\n"
      "listening on 127.0.0.1:8080. On first start it creates the user 'admin' and\n"
      "prints its token once (or adopts PROXIMA_ADMIN_TOKEN). Stops on SIGTERM after\n"
      "finishing the requests in flight.");
  server->add_option("--config", server_args.config_file,
                     "YAML file: listen, catalog (postgresql://...), store, tls, limits");
  server->add_option("--listen", server_args.listen, "HOST:PORT (overrides the file)");
  server->add_flag("--quiet-log", server_args.quiet, "Do not log requests");
  server->callback([&, rc] { *rc = ctx.env.run_server(server_args); });

  // --- login / whoami ---
  std::string& token = args.token;
  CLI::App* login = app.add_subcommand(
      "login",
      "Store a hub's URL and your token in $PROXIMA_HOME/config.yaml (mode 0600);\n"
      "'proxima data' commands then work through that hub.\n"
      "The token comes from --token, else PROXIMA_TOKEN, else the first line of stdin.");
  login->add_option("--token", token, "API token (pxm_...)");
  login->callback([&, rc] {
    if (ctx.env.hub_flag.empty()) {
      *rc = ReportError(Status::InvalidArgument("login needs --hub URL"));
      return;
    }
    std::string t = token;
    if (t.empty()) {
      if (const char* e = std::getenv("PROXIMA_TOKEN")) t = e;
    }
    if (t.empty()) std::getline(std::cin, t);
    while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
    Result<std::string> who = ctx.env.login(ctx.env.hub_flag, t);
    if (!who.ok()) {
      *rc = ReportError(who.status());
      return;
    }
    json doc = json::parse(*who, nullptr, false);
    std::printf("Logged in to %s as %s.\n", ctx.env.hub_flag.c_str(),
                doc.is_object() ? Str(doc, "user").c_str() : "?");
    *rc = 0;
  });
  CLI::App* whoami = app.add_subcommand("whoami", "Who the hub thinks you are");
  whoami->add_flag("--json", ctx.json, "Print JSON for scripts");
  whoami->callback([&, rc] {
    *rc = Call(ctx, "GET", "/api/v1/whoami", nullptr, [](const json& d) {
      std::printf("%s%s\n", Str(d, "user").c_str(), d.value("admin", false) ? " (admin)" : "");
      for (const json& t : d["teams"]) {
        std::printf("  team %s: %s\n", Str(t, "team").c_str(), Str(t, "role").c_str());
      }
    });
  });

  // --- admin ---
  CLI::App* admin = app.add_subcommand("admin", kAdminHelp);
  admin->require_subcommand(1);
  admin->add_flag("--json", ctx.json, "Print JSON for scripts");
  std::string &a1 = args.a1, &a2 = args.a2, &a3 = args.a3, &description = args.description,
              &user = args.user, &expires = args.expires, &role = args.role;
  bool &is_admin = args.is_admin, &remove = args.remove;
  size_t& limit = args.limit;

  CLI::App* u = admin->add_subcommand("user", "Users of the hub");
  u->require_subcommand(1);
  CLI::App* uadd = u->add_subcommand("add", "Create a user");
  uadd->add_option("NAME", a1)->required();
  uadd->add_flag("--admin", is_admin, "A hub administrator");
  uadd->callback([&, rc] {
    *rc = Call(ctx, "POST", "/api/v1/users", {{"name", a1}, {"admin", is_admin}},
               [&](const json& d) { std::printf("Created user %s.\n", Str(d, "name").c_str()); });
  });
  u->add_subcommand("ls", "List users")->callback([&, rc] {
    *rc = ListAll(ctx, "/api/v1/users", [](const json& x) {
      std::printf("%-24s %s\n", Str(x, "name").c_str(), x.value("admin", false) ? "admin" : "");
    });
  });
  CLI::App* urm = u->add_subcommand("rm", "Delete a user, its tokens, memberships and grants");
  urm->add_option("NAME", a1)->required();
  urm->callback([&, rc] {
    *rc = Call(ctx, "DELETE", "/api/v1/users/" + a1, nullptr,
               [&](const json&) { std::printf("Deleted user %s.\n", a1.c_str()); });
  });

  CLI::App* t = admin->add_subcommand("team", "Teams and their members");
  t->require_subcommand(1);
  CLI::App* tadd = t->add_subcommand("add", "Create a team");
  tadd->add_option("NAME", a1)->required();
  tadd->callback([&, rc] {
    *rc = Call(ctx, "POST", "/api/v1/teams", {{"name", a1}},
               [](const json& d) { std::printf("Created team %s.\n", Str(d, "name").c_str()); });
  });
  t->add_subcommand("ls", "List teams (yours, or all for an admin)")->callback([&, rc] {
    *rc = ListAll(ctx, "/api/v1/teams",
                  [](const json& x) { std::printf("%s\n", Str(x, "name").c_str()); });
  });
  CLI::App* tshow = t->add_subcommand("show", "A team and its members");
  tshow->add_option("NAME", a1)->required();
  tshow->callback([&, rc] {
    *rc = Call(ctx, "GET", "/api/v1/teams/" + a1, nullptr, [](const json& d) {
      std::printf("team %s\n", Str(d, "name").c_str());
      for (const json& m : d["members"]) {
        std::printf("  %-24s %s\n", Str(m, "user").c_str(), Str(m, "role").c_str());
      }
    });
  });
  CLI::App* trm = t->add_subcommand("rm", "Delete a team, its memberships and grants");
  trm->add_option("NAME", a1)->required();
  trm->callback([&, rc] {
    *rc = Call(ctx, "DELETE", "/api/v1/teams/" + a1, nullptr,
               [&](const json&) { std::printf("Deleted team %s.\n", a1.c_str()); });
  });
  CLI::App* tmember = t->add_subcommand("member", "Add a member, change its role, or remove it");
  tmember->add_option("TEAM", a1)->required();
  tmember->add_option("USER", a2)->required();
  tmember->add_option("--role", role, "viewer, member or admin")
      ->check(CLI::IsMember({"viewer", "member", "admin"}));
  tmember->add_flag("--remove", remove, "Remove the user from the team");
  tmember->callback([&, rc] {
    std::string path = "/api/v1/teams/" + a1 + "/members/" + a2;
    if (remove) {
      *rc = Call(ctx, "DELETE", path, nullptr, [&](const json&) {
        std::printf("Removed %s from team %s.\n", a2.c_str(), a1.c_str());
      });
    } else {
      *rc = Call(ctx, "PUT", path, {{"role", role}}, [&](const json&) {
        std::printf("%s is now %s of team %s.\n", a2.c_str(), role.c_str(), a1.c_str());
      });
    }
  });

  CLI::App* tok = admin->add_subcommand("token", "API tokens");
  tok->require_subcommand(1);
  CLI::App* tcreate = tok->add_subcommand("create", "Create a token (shown once)");
  tcreate->add_option("--user", user, "For this user (default: yourself)");
  tcreate->add_option("--description", description, "What it is for");
  tcreate->add_option("--expires", expires, "Lifetime: 30d, 12h, ... or never (default)");
  tcreate->callback([&, rc] {
    Result<int64_t> seconds = LifetimeSeconds(expires);
    if (!seconds.ok()) {
      *rc = ReportError(seconds.status());
      return;
    }
    Result<std::string> who = UserOrSelf(ctx, user);
    if (!who.ok()) {
      *rc = ReportError(who.status());
      return;
    }
    *rc =
        Call(ctx, "POST", "/api/v1/users/" + *who + "/tokens",
             {{"description", description}, {"expires_in_seconds", *seconds}}, [](const json& d) {
               std::printf("%s\n", Str(d, "token").c_str());
               std::fprintf(stderr, "Token %s for %s. It is shown only this once; store it now.\n",
                            Str(d, "id").c_str(), Str(d, "user").c_str());
             });
  });
  CLI::App* tls = tok->add_subcommand("ls", "List tokens (never their secrets)");
  tls->add_option("--user", user, "Of this user (default: yourself)");
  tls->callback([&, rc] {
    Result<std::string> who = UserOrSelf(ctx, user);
    if (!who.ok()) {
      *rc = ReportError(who.status());
      return;
    }
    *rc = Call(ctx, "GET", "/api/v1/users/" + *who + "/tokens", nullptr, [](const json& d) {
      for (const json& x : d["items"]) {
        std::string state = x["revoked_unix_ns"].is_null() ? "live" : "revoked";
        std::printf("%-14s %-8s %s\n", Str(x, "id").c_str(), state.c_str(),
                    Str(x, "description").c_str());
      }
    });
  });
  CLI::App* trevoke = tok->add_subcommand("revoke", "Revoke a token by id");
  trevoke->add_option("ID", a1)->required();
  trevoke->callback([&, rc] {
    *rc = Call(ctx, "DELETE", "/api/v1/tokens/" + a1, nullptr,
               [&](const json&) { std::printf("Revoked token %s.\n", a1.c_str()); });
  });

  CLI::App* grant = admin->add_subcommand("grant", "Grant a user or team access to a dataset");
  grant->add_option("DATASET", a1)->required();
  grant->add_option("SUBJECT", a2, "user:NAME or team:NAME")->required();
  grant->add_option("ACCESS", a3, "read, write or admin")
      ->required()
      ->check(CLI::IsMember({"read", "write", "admin"}));
  grant->callback([&, rc] {
    *rc = Call(ctx, "PUT", "/api/v1/datasets/" + a1 + "/grants", {{"subject", a2}, {"access", a3}},
               [&](const json&) {
                 std::printf("%s has %s access to %s.\n", a2.c_str(), a3.c_str(), a1.c_str());
               });
  });
  CLI::App* ungrant = admin->add_subcommand("revoke", "Remove a grant from a dataset");
  ungrant->add_option("DATASET", a1)->required();
  ungrant->add_option("SUBJECT", a2, "user:NAME or team:NAME")->required();
  ungrant->callback([&, rc] {
    *rc = Call(ctx, "DELETE", "/api/v1/datasets/" + a1 + "/grants/" + a2, nullptr,
               [&](const json&) { std::printf("Removed the grant of %s.\n", a2.c_str()); });
  });
  CLI::App* grants = admin->add_subcommand("grants", "List the grants of a dataset");
  grants->add_option("DATASET", a1)->required();
  grants->callback([&, rc] {
    *rc = Call(ctx, "GET", "/api/v1/datasets/" + a1 + "/grants", nullptr, [](const json& d) {
      for (const json& g : d["items"]) {
        std::printf("%-32s %s\n", Str(g, "subject").c_str(), Str(g, "access").c_str());
      }
    });
  });

  CLI::App* audit = admin->add_subcommand("audit", "The audit log, newest first");
  audit->add_option("-n,--limit", limit, "At most N entries")->check(CLI::Range(1, 1000));
  audit->callback([&, rc] {
    *rc = Call(
        ctx, "GET", "/api/v1/audit?limit=" + std::to_string(limit), nullptr, [](const json& d) {
          for (const json& a : d["items"]) {
            int64_t ns = a.value("unix_ns", int64_t{0});
            std::printf("%-8s %s  %-12s %-20s %-24s %s\n", Str(a, "id").c_str(),
                        FormatUtc(ns).c_str(), Str(a, "actor").c_str(), Str(a, "action").c_str(),
                        Str(a, "object").c_str(), Str(a, "detail").c_str());
          }
        });
  });
}

}  // namespace proxima
