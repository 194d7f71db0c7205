#include "proxima/cli/detached.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace proxima {

Result<pid_t> StartDetached(const std::string& exe, std::vector<std::string> args,
                            const DetachedOptions& options) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus(errno, "cannot start '" + args[0] + "' in the background");
  if (pid > 0) return pid;
  ::setsid();
  if (options.pass_fd == 3) {
    ::fcntl(3, F_SETFD, 0);  // dup2 onto itself would keep close-on-exec
  } else if (options.pass_fd >= 0) {
    ::dup2(options.pass_fd, 3);  // the copy is not close-on-exec
  }
  int log =
      ::open(options.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, options.log_mode);
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log >= 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
  }
  if (null >= 0) ::dup2(null, STDIN_FILENO);
  if (options.chdir_root && ::chdir("/") != 0) _exit(127);
  ::execv(exe.c_str(), argv.data());
  _exit(127);
}

}  // namespace proxima
