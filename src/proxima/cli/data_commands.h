#pragma once

#include <string>

#include "proxima/cli/context.h"

namespace proxima {

struct SyncArgs {
  std::string message;
  std::string metadata = "{}";
  bool force = false;
  bool compress = false;
};

// Each returns the process exit code (see RunCli).
int CmdInit(CommandContext& ctx, const std::string& name, const std::string& dir);
int CmdSync(CommandContext& ctx, const SyncArgs& args);
int CmdStatus(CommandContext& ctx);
int CmdClone(CommandContext& ctx, const std::string& spec, const std::string& dest);
int CmdCheckout(CommandContext& ctx, const std::string& rev, bool force);
int CmdTag(CommandContext& ctx, const std::string& spec, const std::string& tag);

int CmdLog(CommandContext& ctx, const std::string& name, size_t limit);
int CmdLs(CommandContext& ctx, const std::string& spec, const std::string& path);
int CmdDiff(CommandContext& ctx, const std::string& a, const std::string& b);
int CmdShow(CommandContext& ctx, const std::string& spec);
int CmdList(CommandContext& ctx);
int CmdFsck(CommandContext& ctx, bool read_data);

}  // namespace proxima
