#include "proxima/adapters/local_executor.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "proxima/base/file_util.h"

extern char** environ;

namespace proxima {

namespace {

using Json = nlohmann::json;

// A handle is "<job>/<attempt>".
bool ValidHandle(const std::string& h) {
  size_t slash = h.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == h.size()) return false;
  for (size_t i = 0; i < h.size(); ++i) {
    if (i != slash && (h[i] < '0' || h[i] > '9')) return false;
  }
  return true;
}

pid_t ReadPid(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return 0;
  return static_cast<pid_t>(std::atoll(text->c_str()));
}

// True when `pid` is a live supervisor of `dir` (not a zombie, not a
// recycled pid).
bool SupervisorAlive(pid_t pid, const std::string& dir) {
  if (pid <= 0) return false;
  Result<std::string> cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.ok() && cmdline->find(dir) != std::string::npos;
}

class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(LocalExecutorOptions o) : o_(std::move(o)) {}

  Result<std::string> Launch(const LaunchSpec& spec) override {
    std::string job_dir = o_.root + "/" + std::to_string(spec.job_id);
    std::string handle = std::to_string(spec.job_id) + "/" + std::to_string(spec.attempt);
    std::string dir = o_.root + "/" + handle;
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
        {"engine", o_.container_engine},
        {"network", o_.container_network},
        {"kill_grace_ns", o_.kill_grace_ns}};
    PROXIMA_RETURN_IF_ERROR(WriteFileAtomic(dir + "/spec.json", j.dump()));
    ::unlink((dir + "/exit").c_str());  // a relaunch of the same attempt starts afresh

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::string slog = dir + "/supervisor.log";
    posix_spawn_file_actions_addopen(&actions, 1, slog.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGCHLD);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::string arg0 = "proxima";
    std::string arg1 = "__supervise";
    char* argv[] = {arg0.data(), arg1.data(), dir.data(), nullptr};
    pid_t pid = 0;
    int rc = posix_spawn(&pid, o_.self_exe.c_str(), &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      return ErrnoStatus(
          rc, "cannot start the supervisor of job " + handle + " ('" + o_.self_exe + "')");
    }
    PROXIMA_RETURN_IF_ERROR(WriteFileAtomic(dir + "/supervisor.pid", std::to_string(pid)));
    std::lock_guard lock(mu_);
    children_.insert(pid);
    return handle;
  }

  Result<Execution> Poll(const std::string& handle) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string dir, Dir(handle));
    Reap();
    Execution e;
    if (ReadExit(dir, &e)) return e;
    pid_t pid = ReadPid(dir + "/supervisor.pid");
    if (SupervisorAlive(pid, dir)) {
      e.phase = Execution::Phase::kRunning;
      return e;
    }
    if (ReadExit(dir, &e)) return e;  // it finished between the two looks
    e.phase = Execution::Phase::kLost;
    e.reason = "its supervisor (pid " + std::to_string(pid) +
               ") stopped without recording an exit: killed, or the machine restarted";
    return e;
  }

  Status Cancel(const std::string& handle) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string dir, Dir(handle));
    pid_t pid = ReadPid(dir + "/supervisor.pid");
    if (SupervisorAlive(pid, dir)) {
      ::kill(pid, SIGTERM);  // it stops the attempt and records the exit
      return Status::Ok();
    }
    pid_t child = ReadPid(dir + "/child.pid");
    if (child > 0) ::kill(-child, SIGKILL);
    return Status::Ok();
  }

  Result<std::string> ReadLog(const std::string& handle, uint64_t offset,
                              size_t max_bytes) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string dir, Dir(handle));
    int fd = ::open((dir + "/log").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return std::string();
      return ErrnoStatus(errno, "cannot read the log of job " + handle);
    }
    std::string out(max_bytes, '\0');
    ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
    int err = errno;
    ::close(fd);
    if (n < 0) return ErrnoStatus(err, "cannot read the log of job " + handle);
    out.resize(static_cast<size_t>(n));
    return out;
  }

  Status Forget(const std::string& handle) override {
    Reap();
    return Dir(handle).status();
  }

  std::string Describe() const override { return "local processes (" + o_.root + ")"; }

 private:
  Result<std::string> Dir(const std::string& handle) const {
    if (!ValidHandle(handle)) {
      return Status::InvalidArgument("'" + handle + "' is not a local job handle (JOB/ATTEMPT)");
    }
    return o_.root + "/" + handle;
  }

  static bool ReadExit(const std::string& dir, Execution* e) {
    Result<std::string> text = ReadFile(dir + "/exit");
    if (!text.ok()) return false;
    e->phase = Execution::Phase::kExited;
    e->exit_code = std::atoi(text->c_str());
    size_t nl = text->find('\n');
    if (nl != std::string::npos) {
      e->reason = text->substr(nl + 1);
      while (!e->reason.empty() && e->reason.back() == '\n') e->reason.pop_back();
    }
    return true;
  }

  // Collects the supervisors this process started that have ended (they
  // are its children until then).
  void Reap() {
    std::lock_guard lock(mu_);
    for (auto it = children_.begin(); it != children_.end();) {
      int status = 0;
      pid_t r = ::waitpid(*it, &status, WNOHANG);
      it = (r == *it || (r < 0 && errno == ECHILD)) ? children_.erase(it) : std::next(it);
    }
  }

  LocalExecutorOptions o_;
  std::mutex mu_;
  std::set<pid_t> children_;
};

// ---- the supervisor ----

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

Shape LocalMachineShape() {
  Shape shape;
  cpu_set_t set;
  CPU_ZERO(&set);
  int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
  if (cpus <= 0) cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  shape.millicpus = int64_t{std::max(cpus, 1)} * 1000;
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) shape.memory_bytes = static_cast<uint64_t>(pages) * page;
  if (const char* gpus = std::getenv("PROXIMA_GPUS"); gpus != nullptr && *gpus != '\0') {
    shape.gpus = std::max(0, std::atoi(gpus));
  } else {
    for (int i = 0; i < 64; ++i) {
      struct stat st;
      if (::stat(("/dev/nvidia" + std::to_string(i)).c_str(), &st) == 0) shape.gpus = i + 1;
    }
  }
  return shape;
}

std::unique_ptr<Executor> MakeLocalExecutor(LocalExecutorOptions options) {
  return std::make_unique<LocalExecutor>(std::move(options));
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
