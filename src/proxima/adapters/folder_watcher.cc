#include "proxima/adapters/folder_watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

#include "proxima/base/file_util.h"

namespace proxima {

namespace {

constexpr const char* kStateDir = ".proxima";
constexpr uint32_t kDirMask = IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                              IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW |
                              IN_ONLYDIR | IN_EXCL_UNLINK;

uint64_t RandomEpoch() {
  std::random_device rd;
  uint64_t e = 0;
  while (e == 0) e = (uint64_t{rd()} << 32) ^ rd();
  return e;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// The socket's address, through the state directory's descriptor: a unix
// socket path is limited to 107 bytes, a folder's path is not.
sockaddr_un SocketAddress(int state_fd) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/watch.sock", state_fd);
  return addr;
}

Status SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "cannot answer on the watch socket");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

// ChangeTracker --------------------------------------------------------------

ChangeTracker::ChangeTracker(int fd, std::string root, size_t max_paths)
    : fd_(fd), root_(std::move(root)), max_paths_(max_paths), epoch_(RandomEpoch()) {}

ChangeTracker::~ChangeTracker() { ::close(fd_); }

Result<std::unique_ptr<ChangeTracker>> ChangeTracker::Open(const std::string& root,
                                                           size_t max_paths) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot start inotify");
  std::unique_ptr<ChangeTracker> t(new ChangeTracker(fd, root, max_paths));
  PROXIMA_RETURN_IF_ERROR(t->AddTree(""));
  if (!t->degraded_.empty()) return Status::ResourceExhausted(t->degraded_);
  t->root_wd_ = t->wds_.at("");
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return ErrnoStatus(errno, "cannot stat '" + root + "'");
  t->root_dev_ = st.st_dev;
  t->root_ino_ = st.st_ino;
  return t;
}

Status ChangeTracker::AddTree(const std::string& top) {
  std::vector<std::string> todo = {top};
  while (!todo.empty()) {
    std::string rel = std::move(todo.back());
    todo.pop_back();
    std::string abs = rel.empty() ? root_ : root_ + "/" + rel;
    int wd = ::inotify_add_watch(fd_, abs.c_str(), kDirMask);
    if (wd < 0) {
      if (errno == ENOSPC) {
        degraded_ =
            "the kernel's limit of inotify watches is reached (raise it with 'sysctl "
            "fs.inotify.max_user_watches=N')";
        NewEpoch(degraded_);
        return Status::Ok();
      }
      if (rel == top && top.empty()) return ErrnoStatus(errno, "cannot watch '" + root_ + "'");
      continue;  // gone meanwhile, or no longer a directory: its parent reports it
    }
    auto old = dirs_.find(wd);
    if (old != dirs_.end() && old->second != rel) wds_.erase(old->second);
    dirs_[wd] = rel;
    wds_[rel] = wd;
    int dfd = ::open(abs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR* d = dfd < 0 ? nullptr : ::fdopendir(dfd);
    if (d == nullptr) {
      if (dfd >= 0) ::close(dfd);
      continue;
    }
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      if (rel.empty() && std::strcmp(e->d_name, kStateDir) == 0) continue;
      bool dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        dir =
            ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (dir) todo.push_back(Join(rel, e->d_name));
    }
    ::closedir(d);
  }
  return Status::Ok();
}

void ChangeTracker::RemoveTree(const std::string& rel) {
  for (auto it = wds_.lower_bound(rel); it != wds_.end();) {
    const std::string& p = it->first;
    if (p.compare(0, rel.size(), rel) != 0) break;
    if (p.size() == rel.size() || p[rel.size()] == '/') {
      ::inotify_rm_watch(fd_, it->second);
      dirs_.erase(it->second);
      it = wds_.erase(it);
    } else {
      ++it;
    }
  }
}

void ChangeTracker::Record(const std::string& path, bool subtree) {
  Change& c = changed_[path];
  c.seq = ++seq_;
  c.subtree = c.subtree || subtree;
  if (changed_.size() > max_paths_) {
    NewEpoch("more than " + std::to_string(max_paths_) + " paths changed since the last sync");
  }
}

void ChangeTracker::NewEpoch(const std::string& why) {
  std::fprintf(stderr, "proxima watch: starting over (%s); the next sync scans everything\n",
               why.c_str());
  epoch_ = RandomEpoch();
  ++epochs_;
  changed_.clear();
  floor_ = seq_;
}

void ChangeTracker::Handle(int wd, uint32_t mask, const char* name) {
  ++events_;
  if (mask & IN_Q_OVERFLOW) {
    // Events were lost, among them perhaps new directories to watch.
    NewEpoch("the kernel's event queue overflowed");
    Status s = AddTree("");
    if (!s.ok()) degraded_ = s.message();
    return;
  }
  auto it = dirs_.find(wd);
  if (it == dirs_.end()) return;  // a watch removed since
  if (mask & IN_IGNORED) {
    auto p = wds_.find(it->second);
    if (p != wds_.end() && p->second == wd) wds_.erase(p);
    dirs_.erase(it);
    return;
  }
  if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
    if (wd == root_wd_) root_gone_ = true;
    return;  // any other directory is reported by its parent, by name
  }
  if (name == nullptr || *name == '\0') return;  // the directory itself: as above
  const std::string& dir = it->second;
  if (dir.empty() && std::strcmp(name, kStateDir) == 0) return;
  std::string path = Join(dir, name);
  if (mask & IN_ISDIR) {
    if (mask & IN_MOVED_FROM) {
      RemoveTree(path);
      // An exchange (renameat2 RENAME_EXCHANGE) puts another directory
      // here in the same call: it is watched again below, like a new one.
      struct stat st;
      std::string abs = root_ + "/" + path;
      if (::lstat(abs.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) mask |= IN_MOVED_TO;
    }
    // A directory that could not be watched (no permission then) may be
    // now: its attributes changed.
    if ((mask & IN_ATTRIB) && wds_.count(path) == 0) mask |= IN_CREATE;
    if (mask & (IN_CREATE | IN_MOVED_TO)) {
      // What the directory held before its watch was added raised no event
      // here: the sync walks all of it.
      Status s = AddTree(path);
      if (!s.ok()) degraded_ = s.message();
      Record(path, /*subtree=*/true);
      return;
    }
  }
  Record(path, /*subtree=*/false);
}

bool ChangeTracker::RootMoved() const {
  // Paths of new directories are made from root_: if the folder or one of
  // its parents was renamed, they would point elsewhere.
  struct stat st;
  return ::stat(root_.c_str(), &st) != 0 || st.st_dev != root_dev_ || st.st_ino != root_ino_;
}

Status ChangeTracker::Drain() {
  alignas(struct inotify_event) char buf[64 << 10];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (RootMoved()) root_gone_ = true;
      return Status::Ok();
    }
    if (n <= 0) return ErrnoStatus(n < 0 ? errno : EIO, "cannot read inotify events");
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      Handle(ev->wd, ev->mask, ev->len > 0 ? ev->name : nullptr);
      p += sizeof(struct inotify_event) + ev->len;
    }
  }
}

ChangeSet ChangeTracker::Since(const std::optional<WatchToken>& since) {
  ChangeSet cs;
  cs.token = {epoch_, seq_};
  if (root_gone_ || !degraded_.empty() || !since || since->epoch != epoch_ || since->seq < floor_ ||
      since->seq > seq_) {
    return cs;
  }
  cs.complete = true;
  for (const auto& [path, c] : changed_) {
    if (c.seq > since->seq) cs.paths.push_back({path, c.subtree});
  }
  if (since->seq > floor_) {
    std::erase_if(changed_, [&](const auto& kv) { return kv.second.seq <= since->seq; });
    floor_ = since->seq;
  }
  return cs;
}

ChangeTracker::Info ChangeTracker::info() const {
  Info i;
  i.epoch = epoch_;
  i.seq = seq_;
  i.directories = dirs_.size();
  i.pending = changed_.size();
  i.events = events_;
  i.epochs = epochs_;
  i.degraded = degraded_;
  return i;
}

// The daemon ------------------------------------------------------------------

namespace {

class ReadyPipe {
 public:
  explicit ReadyPipe(int fd) : fd_(fd) {}
  ~ReadyPipe() { Send("error the watcher stopped before it was ready"); }
  void Send(const std::string& line) {
    if (fd_ < 0) return;
    std::string l = line + "\n";
    [[maybe_unused]] ssize_t ignored = ::write(fd_, l.data(), l.size());
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

bool NetworkFileSystem(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<uint32_t>(fs.f_type)) {
    case 0x6969:      // NFS
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x65735546:  // FUSE (sshfs and the like)
      return true;
    default:
      return false;
  }
}

std::string Answer(ChangeTracker& tracker, const std::string& request, bool* stop) {
  if (request == "stop") {
    *stop = true;
    return "ok\n";
  }
  if (request == "status") {
    ChangeTracker::Info i = tracker.info();
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "ok pid=%d epoch=%llu seq=%llu directories=%zu pending=%zu events=%llu "
                  "epochs=%llu degraded=%s\n",
                  static_cast<int>(::getpid()), static_cast<unsigned long long>(i.epoch),
                  static_cast<unsigned long long>(i.seq), i.directories, i.pending,
                  static_cast<unsigned long long>(i.events),
                  static_cast<unsigned long long>(i.epochs), i.degraded.empty() ? "no" : "yes");
    std::string out = buf;
    if (!i.degraded.empty()) out.insert(out.size() - 1, " reason=" + i.degraded);
    return out;
  }
  std::optional<WatchToken> since;
  unsigned long long epoch = 0, seq = 0;
  if (request == "since -") {
  } else if (std::sscanf(request.c_str(), "since %llu %llu", &epoch, &seq) == 2) {
    since = WatchToken{epoch, seq};
  } else {
    return "error unknown request\n";
  }
  ChangeSet cs = tracker.Since(since);
  char head[128];
  std::snprintf(
      head, sizeof(head), "ok %llu %llu %d %zu\n", static_cast<unsigned long long>(cs.token.epoch),
      static_cast<unsigned long long>(cs.token.seq), cs.complete ? 1 : 0, cs.paths.size());
  std::string out = head;
  for (const ChangedPath& p : cs.paths) {
    out.push_back(p.subtree ? 's' : 'e');
    out.append(p.path);
    out.push_back('\0');
  }
  return out;
}

void Serve(int client, ChangeTracker& tracker, bool* stop) {
  timeval tv{2, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string request;
  char c;
  while (request.size() < 256) {
    ssize_t n = ::recv(client, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    if (c == '\n') break;
    request.push_back(c);
  }
  // Every change made before the question is in the queue by now.
  Status s = tracker.Drain();
  std::string answer = s.ok() ? Answer(tracker, request, stop) : "error " + s.message() + "\n";
  Status sent = SendAll(client, answer);
  (void)sent;  // the client went away; nothing to do for it
}

}  // namespace

Status RunWatchDaemon(const WatchDaemonOptions& options) {
  ReadyPipe ready(options.ready_fd);
  auto fail = [&](Status s) {
    ready.Send("error " + s.message());
    return s;
  };
  UniqueFd root(::open(options.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return fail(ErrnoStatus(errno, "cannot open folder '" + options.root + "'"));
  if (NetworkFileSystem(root.get())) {
    return fail(Status::FailedPrecondition(
        "'" + options.root +
        "' is on a network file system, where changes made on other machines raise no event; "
        "syncs there scan the folder instead"));
  }
  UniqueFd state(::openat(root.get(), kStateDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (state.get() < 0) {
    return fail(ErrnoStatus(errno, "'" + options.root + "' is not a bound folder (no .proxima)"));
  }
  UniqueFd lock(::openat(state.get(), "watch.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0) return fail(ErrnoStatus(errno, "cannot open the watcher's lock"));
  // A watcher that was just killed holds the lock until it is gone: wait
  // for that a little, not for a live one (its socket answers, and those
  // who start watchers ask it first).
  bool locked = false;
  for (int i = 0; i < 50 && !(locked = ::flock(lock.get(), LOCK_EX | LOCK_NB) == 0); ++i) {
    ::usleep(20'000);
  }
  if (!locked) {
    char pid[32] = {0};
    [[maybe_unused]] ssize_t n = ::pread(lock.get(), pid, sizeof(pid) - 1, 0);
    return fail(Status::AlreadyExists("'" + options.root + "' is already watched (pid " +
                                      std::string(pid, std::strcspn(pid, "\n")) + ")"));
  }
  std::string pid_line = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock.get(), 0) != 0 ||
      ::pwrite(lock.get(), pid_line.data(), pid_line.size(), 0) < 0) {
    return fail(ErrnoStatus(errno, "cannot write the watcher's lock"));
  }

  auto tracker = ChangeTracker::Open(options.root, options.max_paths);
  if (!tracker.ok()) return fail(tracker.status());

  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (listener.get() < 0) return fail(ErrnoStatus(errno, "cannot create the watch socket"));
  sockaddr_un addr = SocketAddress(state.get());
  ::unlinkat(state.get(), "watch.sock", 0);  // a killed watcher's: we hold the lock
  mode_t old_mask = ::umask(077);
  int bound = ::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old_mask);
  if (bound != 0 || ::listen(listener.get(), 16) != 0) {
    return fail(ErrnoStatus(errno, "cannot listen on '" + options.root + "/.proxima/watch.sock'"));
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  UniqueFd sigfd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  std::fprintf(stderr, "proxima watch: watching '%s' (%zu directories, pid %d)\n",
               options.root.c_str(), (*tracker)->info().directories, static_cast<int>(::getpid()));
  ready.Send("ok " + std::to_string(::getpid()));

  Status result = Status::Ok();
  bool stop = false;
  while (!stop) {
    pollfd fds[3] = {
        {(*tracker)->fd(), POLLIN, 0}, {listener.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
    int n = ::poll(fds, sigfd.get() >= 0 ? 3 : 2, 30'000);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = ErrnoStatus(errno, "poll");
      break;
    }
    if (fds[0].revents & POLLIN) {
      result = (*tracker)->Drain();
      if (!result.ok()) break;
    }
    if ((*tracker)->root_gone()) {
      std::fprintf(stderr, "proxima watch: the folder is gone; stopping\n");
      break;
    }
    if (n == 0) {
      struct stat st;
      if (::fstatat(state.get(), "binding.json", &st, 0) != 0) {
        std::fprintf(stderr, "proxima watch: the folder is no longer bound; stopping\n");
        break;
      }
    }
    if (sigfd.get() >= 0 && (fds[2].revents & POLLIN)) {
      std::fprintf(stderr, "proxima watch: stopping on a signal\n");
      break;
    }
    if (fds[1].revents & POLLIN) {
      UniqueFd client(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (client.get() >= 0) Serve(client.get(), **tracker, &stop);
    }
  }
  ::unlinkat(state.get(), "watch.sock", 0);
  ::ftruncate(lock.get(), 0);
  std::fprintf(stderr, "proxima watch: stopped\n");
  return result;
}

// The client -------------------------------------------------------------------

namespace {

Result<std::string> WatchRequestBytes(const std::string& root, const std::string& request) {
  UniqueFd state(::open((root + "/" + kStateDir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (state.get() < 0) return ErrnoStatus(errno, "cannot open '" + root + "/.proxima'");
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return ErrnoStatus(errno, "cannot create a socket");
  sockaddr_un addr = SocketAddress(state.get());
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Status::Unavailable("no watcher answers for '" + root + "' (" + std::strerror(errno) +
                               ")");
  }
  PROXIMA_RETURN_IF_ERROR(SendAll(s.get(), request + "\n"));
  std::string out;
  char buf[64 << 10];
  for (;;) {
    pollfd p{s.get(), POLLIN, 0};
    int n = ::poll(&p, 1, 30'000);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Status::Unavailable("the watcher of '" + root + "' did not answer in 30 s");
    ssize_t got = ::recv(s.get(), buf, sizeof(buf), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus(errno, "cannot read the watcher's answer");
    if (got == 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  if (out.rfind("ok", 0) != 0) {
    std::string why = out.rfind("error ", 0) == 0 ? out.substr(6) : out.substr(0, 80);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Status::Unavailable("the watcher of '" + root + "' answered: " + why);
  }
  return out;
}

}  // namespace

Result<std::string> WatchRequest(const std::string& root, const std::string& request) {
  PROXIMA_ASSIGN_OR_RETURN(std::string out, WatchRequestBytes(root, request));
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Result<ChangeSet> WatchClient::ChangesSince(const std::optional<WatchToken>& since) {
  std::string request = "since -";
  if (since) {
    request = "since " + std::to_string(since->epoch) + " " + std::to_string(since->seq);
  }
  PROXIMA_ASSIGN_OR_RETURN(std::string out, WatchRequestBytes(root_, request));
  size_t nl = out.find('\n');
  unsigned long long epoch = 0, seq = 0;
  int complete = 0;
  size_t count = 0;
  if (nl == std::string::npos || std::sscanf(out.substr(0, nl).c_str(), "ok %llu %llu %d %zu",
                                             &epoch, &seq, &complete, &count) != 4) {
    return Status::Corruption("the watcher of '" + root_ + "' gave an answer that does not parse");
  }
  ChangeSet cs;
  cs.token = {epoch, seq};
  cs.complete = complete == 1;
  std::string_view rest = std::string_view(out).substr(nl + 1);
  cs.paths.reserve(std::min(count, rest.size() / 2));
  while (!rest.empty()) {
    size_t end = rest.find('\0');
    if (end == std::string_view::npos || end < 2 || (rest[0] != 's' && rest[0] != 'e')) {
      return Status::Corruption("the watcher of '" + root_ + "' sent a damaged list of paths");
    }
    cs.paths.push_back({std::string(rest.substr(1, end - 1)), rest[0] == 's'});
    rest.remove_prefix(end + 1);
  }
  if (cs.paths.size() != count) {
    return Status::Corruption("the watcher of '" + root_ + "' sent " +
                              std::to_string(cs.paths.size()) + " paths of " +
                              std::to_string(count));
  }
  return cs;
}

}  // namespace proxima
