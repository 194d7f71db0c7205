#pragma once

namespace CLI {
class App;
}

namespace proxima {

struct CommandContext;

// `proxima volume ...` and `proxima cache ...` (docs/caches.md). Registers
// them on `app`; each sets `*rc` when it runs.
void AddCacheCommands(CLI::App& app, CommandContext& ctx, int* rc);

}  // namespace proxima
