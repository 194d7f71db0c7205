// The supervisor of one local attempt (adapters/local_executor.h): its own
// file, so that the small `proxima-supervise` program links nothing else.
#include "proxima/adapters/job_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "proxima/base/file_util.h"

namespace proxima {

namespace {

using Json = nlohmann::json;

std::vector<std::string> ContainerCommand(const Json& spec) {
  std::vector<std::string> argv = {spec.value("engine", "podman"),
                                   "run",
                                   "--rm",
                                   "--name",
                                   spec.value("name", "proxima-job"),
                                   "--network",
                                   spec.value("network", "host"),
                                   "-v",
                                   spec.value("output", "") + ":/output",
                                   "-w",
                                   "/output"};
  for (const Json& d : spec["datasets"]) {
    argv.push_back("-v");
    argv.push_back(d[1].get<std::string>() + ":/data/" + d[0].get<std::string>() + ":ro");
  }
  for (const Json& e : spec["env"]) {
    std::string name = e[0].get<std::string>();
    std::string value = e[1].get<std::string>();
    // Inside the container the datasets are at /data/<name>.
    for (const Json& d : spec["datasets"]) {
      if (value == d[1].get<std::string>()) value = "/data/" + d[0].get<std::string>();
    }
    argv.push_back("-e");
    argv.push_back(name + "=" + value);
  }
  argv.push_back(spec.value("image", ""));
  for (const Json& c : spec["command"]) argv.push_back(c.get<std::string>());
  return argv;
}

// `<engine> stop --time <grace> <name>`, in the background (its own
// child, left to the end of this short-lived supervisor).
void StopContainer(const Json& spec, int64_t grace_ns) {
  std::string engine = spec.value("engine", "podman");
  std::string name = spec.value("name", "");
  std::string seconds = std::to_string(std::max<int64_t>(1, grace_ns / 1'000'000'000));
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execlp(engine.c_str(), engine.c_str(), "stop", "--time", seconds.c_str(), name.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

Status RecordExit(const std::string& dir, int code, const std::string& reason) {
  return WriteFileAtomic(dir + "/exit", std::to_string(code) + "\n" + reason + "\n");
}

}  // namespace

int SuperviseAttempt(const std::string& dir) {
  Result<std::string> text = ReadFile(dir + "/spec.json");
  Json spec = text.ok() ? Json::parse(*text, nullptr, false) : Json();
  if (spec.is_discarded() || !spec.is_object() || !spec["command"].is_array() ||
      spec["command"].empty()) {
    IgnoreError(RecordExit(dir, 127, "the attempt's spec.json is missing or damaged"));
    return 1;
  }
  std::vector<std::string> argv;
  bool container = !spec.value("image", "").empty();
  if (container) {
    argv = ContainerCommand(spec);
  } else {
    for (const Json& c : spec["command"]) argv.push_back(c.get<std::string>());
    for (const Json& e : spec["env"]) {
      ::setenv(e[0].get<std::string>().c_str(), e[1].get<std::string>().c_str(), 1);
    }
  }
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::string workdir = container ? spec.value("output", "/") : spec.value("workdir", "/");
  int64_t grace_ns = spec.value("kill_grace_ns", int64_t{10'000'000'000});

  sigset_t watched;
  sigemptyset(&watched);
  sigaddset(&watched, SIGTERM);
  sigaddset(&watched, SIGINT);
  sigaddset(&watched, SIGCHLD);
  sigprocmask(SIG_BLOCK, &watched, nullptr);

  int log = ::open((dir + "/log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    IgnoreError(RecordExit(dir, 127, std::string("cannot open the log: ") + std::strerror(errno)));
    return 1;
  }
  pid_t child = ::fork();
  if (child < 0) {
    IgnoreError(RecordExit(dir, 127, std::string("cannot fork: ") + std::strerror(errno)));
    return 1;
  }
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &watched, nullptr);
    ::setpgid(0, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    if (::chdir(workdir.c_str()) != 0) {
      std::string msg = "proxima: cannot enter the job's folder '" + workdir +
                        "': " + std::strerror(errno) + "\n";
      IgnoreError(WriteAll(2, msg, "log"));
      ::_exit(127);
    }
    ::execvp(args[0], args.data());
    std::string msg = "proxima: cannot run '" + argv[0] + "': " + std::strerror(errno) + "\n";
    IgnoreError(WriteAll(2, msg, "log"));
    ::_exit(127);
  }
  ::setpgid(child, child);  // also here, so that a kill right away finds the group
  ::close(log);
  IgnoreError(WriteFileAtomic(dir + "/child.pid", std::to_string(child)));

  bool cancelled = false;
  int64_t kill_at_ns = 0;  // monotonic; 0: no SIGKILL due
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) break;
    struct timespec wait = {1, 0};
    if (kill_at_ns != 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      int64_t left = kill_at_ns - (now.tv_sec * 1'000'000'000 + now.tv_nsec);
      if (left <= 0) {
        ::kill(-child, SIGKILL);
        kill_at_ns = 0;
      } else if (left < 1'000'000'000) {
        wait = {0, static_cast<long>(left)};
      }
    }
    siginfo_t info;
    int sig = sigtimedwait(&watched, &info, &wait);
    if (sig == SIGTERM || sig == SIGINT) {
      if (!cancelled) {
        cancelled = true;
        if (container) {
          // The container's first process ignores SIGTERM unless it handles
          // it (it is PID 1 there), and killing the podman client would
          // leave the container running: the engine stops it, SIGTERM then
          // SIGKILL after the grace period, and `podman run` then returns.
          StopContainer(spec, grace_ns);
        }
        ::kill(-child, SIGTERM);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        kill_at_ns = now.tv_sec * 1'000'000'000 + now.tv_nsec + grace_ns;
      }
    }
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  Status st = RecordExit(dir, code, cancelled ? "cancelled" : "");
  return st.ok() ? 0 : 1;
}

}  // namespace proxima
