#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "proxima/cli/data_commands.h"
#include "proxima/cli/detached.h"
#include "proxima/cli/output.h"

namespace proxima {

namespace {

constexpr const char* kWatchHelp = R"(Keep track of a bound folder's changes as they happen.

A watcher (one background process per folder, using inotify) records which
paths change. 'sync' and 'status' then look only at those instead of every
file: on a folder of a million files that is the difference between seconds
and a moment. Without a watcher, or when it cannot vouch for what changed (it
was restarted, its queue overflowed), they scan the folder as usual.

  proxima data watch start -C ./xray   start it; syncs restart it if it dies
  proxima data watch status -C ./xray
  proxima data watch stop -C ./xray

Changes made through mmap, or on another machine of a network file system,
raise no event: see docs/watch.md. 'sync --full-scan' looks at everything.
)";

// Starts `proxima data watch run` on `root`, detached, logging to
// ROOT/.proxima/watch.log; returns its pid once it answers.
Result<pid_t> StartWatcher(CommandContext& ctx, const std::string& root) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return ErrnoStatus(errno, "cannot start a watcher");
  std::string log = root + "/.proxima/watch.log";
  Result<pid_t> pid = StartDetached(
      ctx.env.self_exe, {"proxima", "data", "watch", "run", "-C", root, "--ready-fd", "3"},
      {log, /*log_mode=*/0600, pipefd[1], /*chdir_root=*/true});
  if (!pid.ok()) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return pid.status();
  }
  ::close(pipefd[1]);
  std::string line;
  char buf[512];
  for (;;) {
    pollfd p{pipefd[0], POLLIN, 0};
    int n = ::poll(&p, 1, 60'000);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ssize_t got = ::read(pipefd[0], buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    line.append(buf, static_cast<size_t>(got));
  }
  ::close(pipefd[0]);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.rfind("ok ", 0) == 0) return *pid;
  ::waitpid(*pid, nullptr, WNOHANG);
  if (line.rfind("error ", 0) == 0) return Status::FailedPrecondition(line.substr(6));
  return Status::Unavailable("the watcher of '" + root + "' did not start; see " + log);
}

// "ok pid=1 epoch=2 ..." as a map.
std::map<std::string, std::string> ParseStatus(const std::string& line) {
  std::map<std::string, std::string> out;
  size_t reason = line.find(" reason=");
  std::istringstream in(line.substr(0, reason));
  std::string word;
  while (in >> word) {
    size_t eq = word.find('=');
    if (eq != std::string::npos) out[word.substr(0, eq)] = word.substr(eq + 1);
  }
  if (reason != std::string::npos) out["reason"] = line.substr(reason + 8);
  return out;
}

// The change feed of a folder, starting its watcher when the folder should
// have one and none answers (after a reboot, a kill).
class FolderFeed : public ChangeFeed {
 public:
  FolderFeed(CommandContext& ctx, const WorkDir& wd)
      : ctx_(ctx), wd_(wd), feed_(ctx.env.change_feed(wd.root())) {}

  Result<ChangeSet> ChangesSince(const std::optional<WatchToken>& since) override {
    Result<ChangeSet> cs = feed_->ChangesSince(since);
    if (cs.ok() || cs.status().code() != StatusCode::kUnavailable) return cs;
    if (!wd_.watch()) {
      return Status::Unavailable("the folder is not watched (see 'proxima data watch --help')");
    }
    Result<pid_t> pid = StartWatcher(ctx_, wd_.root());
    if (!pid.ok()) {
      std::fprintf(stderr, "proxima: warning: cannot restart the watcher of '%s': %s\n",
                   wd_.root().c_str(), pid.status().message().c_str());
      return pid.status();
    }
    return feed_->ChangesSince(since);
  }

 private:
  CommandContext& ctx_;
  const WorkDir& wd_;
  std::unique_ptr<ChangeFeed> feed_;
};

int CmdWatchStart(CommandContext& ctx) {
  auto wd = WorkDir::Find(ctx.dir);
  if (!wd.ok()) return ReportError(wd.status());
  auto running = ctx.env.watch_request(wd->root(), "status");
  std::string pid;
  if (running.ok()) {
    pid = ParseStatus(*running)["pid"];
  } else {
    auto started = StartWatcher(ctx, wd->root());
    if (!started.ok()) return ReportError(started.status());
    pid = std::to_string(*started);
  }
  if (Status s = wd->SetWatch(true); !s.ok()) return ReportError(s);
  if (!ctx.quiet) {
    std::printf(
        "%s '%s' (pid %s): sync and status now look only at what changed.\n"
        "The next sync still scans everything, once. Stop with 'proxima data watch stop'.\n",
        running.ok() ? "Already watching" : "Watching", wd->root().c_str(), pid.c_str());
  }
  return 0;
}

int CmdWatchStop(CommandContext& ctx) {
  auto wd = WorkDir::Find(ctx.dir);
  if (!wd.ok()) return ReportError(wd.status());
  if (Status s = wd->SetWatch(false); !s.ok()) return ReportError(s);
  auto stopped = ctx.env.watch_request(wd->root(), "stop");
  if (!ctx.quiet) {
    std::printf("%s '%s'; syncs scan the folder again.\n",
                stopped.ok() ? "Stopped watching" : "No watcher was running for",
                wd->root().c_str());
  }
  return 0;
}

int CmdWatchStatus(CommandContext& ctx) {
  auto wd = WorkDir::Find(ctx.dir);
  if (!wd.ok()) return ReportError(wd.status());
  auto answer = ctx.env.watch_request(wd->root(), "status");
  std::map<std::string, std::string> st;
  if (answer.ok()) st = ParseStatus(*answer);
  if (ctx.json) {
    nlohmann::json out = {
        {"folder", wd->root()}, {"enabled", wd->watch()}, {"running", answer.ok()}};
    for (const char* k : {"pid", "directories", "pending", "events", "epochs"}) {
      if (st.count(k)) out[k] = std::stoll(st[k]);
    }
    if (st.count("reason")) out["degraded"] = st["reason"];
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (!answer.ok()) {
    std::printf("'%s' is not watched%s; syncs scan the folder.\n", wd->root().c_str(),
                wd->watch() ? " (its watcher is not running: the next sync starts it)" : "");
    return 0;
  }
  std::printf(
      "Watching '%s' (pid %s): %s directories, %s paths changed since the last sync, %s events "
      "seen.\n",
      wd->root().c_str(), st["pid"].c_str(), st["directories"].c_str(), st["pending"].c_str(),
      st["events"].c_str());
  if (st.count("reason")) {
    std::printf("It cannot vouch for what changed, so syncs scan everything: %s\n",
                st["reason"].c_str());
  }
  return 0;
}

int CmdWatchRun(CommandContext& ctx, int ready_fd) {
  auto wd = WorkDir::Find(ctx.dir);
  if (!wd.ok()) {
    if (ready_fd >= 0) {
      std::string line = "error " + wd.status().message() + "\n";
      [[maybe_unused]] ssize_t n = ::write(ready_fd, line.data(), line.size());
    }
    return ReportError(wd.status());
  }
  Status s = ctx.env.run_watcher(wd->root(), ready_fd);
  return s.ok() ? 0 : ReportError(s);
}

}  // namespace

std::unique_ptr<ChangeFeed> FolderChangeFeed(CommandContext& ctx, const WorkDir& wd) {
  return std::make_unique<FolderFeed>(ctx, wd);
}

void AddWatchCommands(CLI::App* data, CommandContext& ctx, int* rc) {
  CLI::App* watch = data->add_subcommand("watch", kWatchHelp);
  watch->require_subcommand(1);
  auto sub = [&](const char* name, const char* help) {
    CLI::App* cmd = watch->add_subcommand(name, help);
    cmd->add_option("-C,--dir", ctx.dir, "The bound folder (default: the current one)");
    return cmd;
  };
  sub("start", "Start watching the folder (and again after a reboot, at the next sync)")
      ->callback([&ctx, rc] { *rc = CmdWatchStart(ctx); });
  sub("stop", "Stop watching the folder")->callback([&ctx, rc] { *rc = CmdWatchStop(ctx); });
  CLI::App* status = sub("status", "Whether the folder is watched, and what its watcher holds");
  status->add_flag("--json", ctx.json, "Print JSON for scripts");
  status->callback([&ctx, rc] { *rc = CmdWatchStatus(ctx); });
  auto ready_fd = std::make_shared<int>(-1);
  CLI::App* run = sub("run", "Run the watcher in the foreground (for a service manager)");
  run->add_option("--ready-fd", *ready_fd, "Write 'ok PID' to this descriptor once answering");
  run->callback([&ctx, rc, ready_fd] { *rc = CmdWatchRun(ctx, *ready_fd); });
}

}  // namespace proxima
