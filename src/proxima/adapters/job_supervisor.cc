// The supervisor of one local attempt (adapters/local_executor.h): its own
// file, so that the small `proxima-supervise` program links nothing else.
#include "proxima/adapters/job_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

Status RecordExit(const std::string& dir, int code, const std::string& reason) {
  return WriteFileAtomic(dir + "/exit", std::to_string(code) + "\n" + reason + "\n");
}

}  // namespace

Result<std::string> PrepareAttempt(const std::string& root, const LaunchSpec& spec,
                                   const AttemptSettings& settings) {
  std::string job_dir = root + "/" + std::to_string(spec.job_id);
  std::string dir = job_dir + "/" + std::to_string(spec.attempt);
  std::string output = job_dir + "/output";
  PROXIMA_RETURN_IF_ERROR(MakeDirs(dir));
  PROXIMA_RETURN_IF_ERROR(MakeDirs(output));
  Json env = Json::array();
  for (const auto& [k, v] : spec.env) env.push_back({k, v});
  if (!spec.gpu_ids.empty()) {
    std::string ids;
    for (int g : spec.gpu_ids) ids += (ids.empty() ? "" : ",") + std::to_string(g);
    env.push_back({"CUDA_VISIBLE_DEVICES", ids});
  }
  env.push_back({"PROXIMA_OUTPUT", spec.image.empty() ? output : "/output"});
  Json datasets = Json::array();
  for (const auto& [name, path] : spec.datasets) datasets.push_back({name, path});
  Json j = {
      {"command", spec.command},
      {"env", env},
      {"datasets", datasets},
      {"image", spec.image},
      {"workdir", spec.workdir.empty() ? output : spec.workdir},
      {"output", output},
      {"name", "proxima-job-" + std::to_string(spec.job_id) + "-" + std::to_string(spec.attempt)},
      {"engine", settings.container_engine},
      {"network", settings.container_network},
      {"kill_grace_ns", settings.kill_grace_ns}};
  PROXIMA_RETURN_IF_ERROR(WriteFileAtomic(dir + "/spec.json", j.dump()));
  ::unlink((dir + "/exit").c_str());
  return dir;
}

bool ReadAttemptExit(const std::string& dir, Execution* e) {
  Result<std::string> text = ReadFile(dir + "/exit");
  if (!text.ok()) return false;
  e->phase = Execution::Phase::kExited;
  e->exit_code = std::atoi(text->c_str());
  size_t nl = text->find('\n');
  e->reason.clear();
  if (nl != std::string::npos) {
    e->reason = text->substr(nl + 1);
    while (!e->reason.empty() && e->reason.back() == '\n') e->reason.pop_back();
  }
  return true;
}

Result<std::string> ReadAttemptLog(const std::string& dir, uint64_t offset, size_t max_bytes) {
  int fd = ::open((dir + "/log").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::string();
    return ErrnoStatus(errno, "cannot read the log '" + dir + "/log'");
  }
  std::string out(max_bytes, '\0');
  ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
  int err = errno;
  ::close(fd);
  if (n < 0) return ErrnoStatus(err, "cannot read the log '" + dir + "/log'");
  out.resize(static_cast<size_t>(n));
  return out;
}

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
