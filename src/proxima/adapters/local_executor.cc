#include "proxima/adapters/local_executor.h"

#include "proxima/adapters/attempt_folder.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

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
  explicit LocalExecutor(LocalExecutorOptions o) : o_(std::move(o)) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    reaper_ = std::thread([this] { ReapLoop(); });
  }
  ~LocalExecutor() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    uint64_t one = 1;
    IgnoreError(WriteAll(wake_fd_, std::string_view(reinterpret_cast<char*>(&one), 8), "eventfd"));
    reaper_.join();
    for (auto& [pid, fd] : children_) ::close(fd);
    ::close(wake_fd_);
  }

  Result<std::string> Launch(const LaunchSpec& spec) override {
    std::string handle = std::to_string(spec.job_id) + "/" + std::to_string(spec.attempt);
    AttemptSettings settings{o_.container_engine, o_.container_network, o_.kill_grace_ns};
    PROXIMA_ASSIGN_OR_RETURN(std::string dir, PrepareAttempt(o_.root, spec, settings));

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
    bool own = !o_.supervisor.empty();
    std::string program = own ? o_.supervisor : o_.self_exe;
    std::string arg0 = own ? "proxima-supervise" : "proxima";
    std::string arg1 = "__supervise";
    char* argv_self[] = {arg0.data(), arg1.data(), dir.data(), nullptr};
    char* argv_own[] = {arg0.data(), dir.data(), nullptr};
    pid_t pid = 0;
    int rc =
        posix_spawn(&pid, program.c_str(), &actions, &attr, own ? argv_own : argv_self, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      return ErrnoStatus(rc,
                         "cannot start the supervisor of job " + handle + " ('" + program + "')");
    }
    PROXIMA_RETURN_IF_ERROR(WriteFileAtomic(dir + "/supervisor.pid", std::to_string(pid)));
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    {
      std::lock_guard lock(mu_);
      children_[pid] = pidfd;  // -1 (no pidfd): reaped by Poll
    }
    uint64_t one = 1;
    IgnoreError(WriteAll(wake_fd_, std::string_view(reinterpret_cast<char*>(&one), 8), "eventfd"));
    return handle;
  }

  Result<Execution> Poll(const std::string& handle) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string dir, Dir(handle));
    Execution e;
    if (ReadAttemptExit(dir, &e)) return e;
    pid_t pid = ReadPid(dir + "/supervisor.pid");
    if (SupervisorAlive(pid, dir)) {
      e.phase = Execution::Phase::kRunning;
      return e;
    }
    if (ReadAttemptExit(dir, &e)) return e;  // it finished between the two looks
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
    return ReadAttemptLog(dir, offset, max_bytes);
  }

  Status Forget(const std::string& handle) override { return Dir(handle).status(); }

  std::string Describe() const override { return "local processes (" + o_.root + ")"; }

 private:
  Result<std::string> Dir(const std::string& handle) const {
    if (!ValidHandle(handle)) {
      return Status::InvalidArgument("'" + handle + "' is not a local job handle (JOB/ATTEMPT)");
    }
    return o_.root + "/" + handle;
  }

  // Collects the supervisors this process started that have ended (they
  // are its children until then); true when one had.
  bool Reap() {
    std::lock_guard lock(mu_);
    bool any = false;
    for (auto it = children_.begin(); it != children_.end();) {
      int status = 0;
      pid_t r = ::waitpid(it->first, &status, WNOHANG);
      if (r == it->first || (r < 0 && errno == ECHILD)) {
        if (it->second >= 0) ::close(it->second);
        it = children_.erase(it);
        any = true;
      } else {
        ++it;
      }
    }
    return any;
  }

  // Waits for supervisors to end (their pidfds become readable), reaps
  // them, and tells the scheduler.
  void ReapLoop() {
    for (;;) {
      std::vector<struct pollfd> fds = {{wake_fd_, POLLIN, 0}};
      {
        std::lock_guard lock(mu_);
        if (stop_) return;
        for (const auto& [pid, fd] : children_) {
          if (fd >= 0) fds.push_back({fd, POLLIN, 0});
        }
      }
      if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) return;
      if (fds[0].revents & POLLIN) {
        uint64_t n;
        ssize_t ignored = ::read(wake_fd_, &n, sizeof(n));
        (void)ignored;
      }
      if (Reap() && o_.on_exit) o_.on_exit();
    }
  }

  LocalExecutorOptions o_;
  std::mutex mu_;
  std::map<pid_t, int> children_;  // supervisor -> its pidfd
  bool stop_ = false;
  int wake_fd_ = -1;
  std::thread reaper_;
};

}  // namespace

// The GPUs NVML counts, loading the driver's library at run time (no
// build dependency on CUDA); -1 without a driver.
int NvmlGpuCount() {
  void* lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return -1;
  using InitFn = int (*)();
  using CountFn = int (*)(unsigned int*);
  auto init = reinterpret_cast<InitFn>(::dlsym(lib, "nvmlInit_v2"));
  auto count = reinterpret_cast<CountFn>(::dlsym(lib, "nvmlDeviceGetCount_v2"));
  auto shutdown = reinterpret_cast<InitFn>(::dlsym(lib, "nvmlShutdown"));
  int result = -1;
  unsigned int n = 0;
  if (init != nullptr && count != nullptr && init() == 0) {  // 0: NVML_SUCCESS
    if (count(&n) == 0) result = static_cast<int>(n);
    if (shutdown != nullptr) shutdown();
  }
  ::dlclose(lib);
  return result;
}

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
  } else if (int nvml = NvmlGpuCount(); nvml >= 0) {
    shape.gpus = nvml;
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

}  // namespace proxima
