// `proxima cache use`: runs a command with a cache, holding a lease.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "proxima/base/units.h"
#include "proxima/cli/cache_cli.h"
#include "proxima/cli/output.h"
#include "proxima/core/cache_janitor.h"
#include "proxima/core/scheduler.h"

namespace proxima::cache_cli {

namespace {
// The pid of the command `cache use` runs, for the signal forwarder.
std::atomic<pid_t> g_child{0};

void ForwardSignal(int sig) {
  pid_t child = g_child.load();
  if (child > 0) ::kill(child, sig);
}

}  // namespace

int CmdCacheUse(CommandContext& ctx, const CacheArgs& a) {
  if (a.command.empty()) {
    return ReportError(
        Status::InvalidArgument("no command: proxima cache use NAME@REV --volume V "
                                "-- COMMAND [ARGS...]"));
  }
  auto duration = ParseDuration(a.lease, "--lease");
  if (!duration.ok()) return ReportError(duration.status());
  if (*duration < 10 * kSecond) {
    return ReportError(
        Status::InvalidArgument("--lease: at least 10s (it is renewed every third)"));
  }
  auto t = Resolve(ctx, a.spec, a.volume);
  if (!t.ok()) return ReportError(t.status());
  CacheServices s = Services(ctx);
  char host[256] = "?";
  ::gethostname(host, sizeof(host) - 1);
  std::string holder = "cache use (pid " + std::to_string(::getpid()) + " on " + host + ")";
  Result<LeaseRecord> lease = Status::Internal("not run");
  std::string path;
  for (int attempt = 0; attempt < 3; ++attempt) {
    Result<FillReport> fill = Status::Internal("not run");
    {
      ProgressPrinter printer(&ctx.progress, ctx.env.clock, ShowProgress(ctx));
      fill = FillCache(s, t->volume, t->rev.dataset, t->rev.commit);
    }
    if (!fill.ok()) return ReportError(fill.status());
    path = fill->path;
    lease = TakeLease(s, t->volume, t->rev.dataset, t->rev.commit, holder, *duration);
    // Lost to an eviction between the fill and the lease: fill again.
    StatusCode code = lease.status().code();
    if (lease.ok() || (code != StatusCode::kFailedPrecondition && code != StatusCode::kNotFound)) {
      break;
    }
  }
  if (!lease.ok()) return ReportError(lease.status());
  // Everything the child needs is ready before the fork, and no other
  // thread runs yet: the child only sets its environment and execs.
  std::string variable = DatasetVariable(t->rev.dataset);
  std::vector<std::string> args = a.command;
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv(variable.c_str(), path.c_str(), 1);
    ::setenv("PROXIMA_DATA", path.c_str(), 1);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "proxima: error: cannot run '%s': %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  int rc = 1;
  if (pid < 0) {
    std::fprintf(stderr, "proxima: error: cannot start the command: %s\n", std::strerror(errno));
    IgnoreError(ReleaseLease(s, *lease));
    return rc;
  }
  // Signals meant for this process go to the command, which decides; the
  // lease is released when it ends.
  g_child = pid;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, ForwardSignal);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread renew([&] {
    std::unique_lock<std::mutex> lock(mu);
    auto every = std::chrono::nanoseconds(*duration / 3);
    while (!cv.wait_for(lock, every, [&] { return done; })) {
      Status st = RenewLease(s, *lease, *duration);
      if (!st.ok()) {
        std::fprintf(stderr, "proxima: warning: cannot renew the lease on %s: %s\n", path.c_str(),
                     st.message().c_str());
      }
    }
  });
  int status = 0;
  pid_t waited;
  do {
    waited = ::waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  if (waited == pid) {
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    std::fprintf(stderr, "proxima: error: lost track of the command (pid %d): %s\n",
                 static_cast<int>(pid), std::strerror(errno));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  renew.join();
  if (Status st = ReleaseLease(s, *lease); !st.ok()) {
    std::fprintf(stderr, "proxima: cannot release the lease (it lapses by itself): %s\n",
                 st.message().c_str());
  }
  return rc;
}

}  // namespace proxima::cache_cli
