#pragma once

namespace CLI {
class App;
}

namespace proxima {

struct CommandContext;

// `proxima compute|template|queue ...` (compute_commands.cc) and `proxima
// run` and `proxima job ...` (job_commands.cc), docs/scheduler.md. Each
// sets `*rc` when it runs.
void AddComputeCommands(CLI::App& app, CommandContext& ctx, int* rc);
void AddJobCommands(CLI::App& app, CommandContext& ctx, int* rc);
// `proxima agent` (agent_command.cc).
void AddAgentCommand(CLI::App& app, CommandContext& ctx, int* rc);

}  // namespace proxima
