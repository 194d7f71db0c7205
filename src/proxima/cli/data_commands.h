#pragma once

#include <memory>
#include <string>

#include "proxima/cli/context.h"
#include "proxima/core/workdir.h"
#include "proxima/ports/change_feed.h"

namespace CLI {
class App;
}

namespace proxima {

struct SyncArgs {
  std::string message;
  std::string metadata = "{}";
  bool force = false;
  bool compress = false;
  bool full_scan = false;  // ignore the folder's watcher
};

// Each returns the process exit code (see RunCli).
int CmdInit(CommandContext& ctx, const std::string& name, const std::string& dir);
int CmdSync(CommandContext& ctx, const SyncArgs& args);
int CmdStatus(CommandContext& ctx, bool full_scan);
int CmdClone(CommandContext& ctx, const std::string& spec, const std::string& dest);
int CmdCheckout(CommandContext& ctx, const std::string& rev, bool force);
int CmdTag(CommandContext& ctx, const std::string& spec, const std::string& tag);

int CmdLog(CommandContext& ctx, const std::string& name, size_t limit);
int CmdLs(CommandContext& ctx, const std::string& spec, const std::string& path);
int CmdDiff(CommandContext& ctx, const std::string& a, const std::string& b);
int CmdShow(CommandContext& ctx, const std::string& spec);
int CmdList(CommandContext& ctx);
int CmdFsck(CommandContext& ctx, bool read_data);

// `proxima data watch start|stop|status|run`.
void AddWatchCommands(CLI::App* data, CommandContext& ctx, int* rc);
// The change feed of the folder's watcher for sync and status; it starts
// the watcher when the folder should have one and none answers.
std::unique_ptr<ChangeFeed> FolderChangeFeed(CommandContext& ctx, const WorkDir& wd);

}  // namespace proxima
