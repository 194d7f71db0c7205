#pragma once

namespace CLI {
class App;
}

#include <cstddef>
#include <string>

#include "proxima/cli/environment.h"

namespace proxima {

struct CommandContext;

// Where the parsed options of the hub commands land; owned by RunCli.
struct HubArgs {
  ServerArgs server;
  std::string token;
  std::string a1, a2, a3, description, user, expires = "never", role = "member";
  bool is_admin = false, remove = false;
  size_t limit = 50;
};

// `proxima server`, `proxima login`, `proxima whoami` and `proxima admin ...`:
// the commands that need or run a hub. Registers them on `app`; each sets
// `*rc` when it runs.
void AddHubCommands(CLI::App& app, CommandContext& ctx, HubArgs& args, int* rc);

}  // namespace proxima
