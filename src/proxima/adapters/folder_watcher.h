#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "proxima/base/result.h"
#include "proxima/ports/change_feed.h"

namespace proxima {

// Keeps track of what changes in a folder, with inotify: one watch per
// directory (the `.proxima` state directory at the top left out), and the
// paths that events named, each with the sequence number of its last event.
// The protocol and its limits are in docs/watch.md. Not thread-safe.
class ChangeTracker {
 public:
  // Watches `root` and every directory below it. ResourceExhausted naming
  // the sysctl when the kernel's watch limit is reached.
  static Result<std::unique_ptr<ChangeTracker>> Open(const std::string& root,
                                                     size_t max_paths = size_t{1} << 20);
  ~ChangeTracker();
  ChangeTracker(const ChangeTracker&) = delete;
  ChangeTracker& operator=(const ChangeTracker&) = delete;

  // The inotify descriptor, for poll(2).
  int fd() const { return fd_; }
  // Records every event queued so far. Events are queued by the kernel
  // during the system call that makes the change, so after Drain() every
  // change made before it began is recorded.
  Status Drain();
  // The changes recorded after `since` (see ChangeFeed). Forgets those at or
  // before it: a later question asks from a later token.
  ChangeSet Since(const std::optional<WatchToken>& since);

  // True once the folder itself, or a folder above it, was removed or moved
  // away (answers are then incomplete).
  bool root_gone() const { return root_gone_; }

  struct Info {
    uint64_t epoch = 0;
    uint64_t seq = 0;
    size_t directories = 0;  // watched
    size_t pending = 0;      // changed paths held for the next question
    uint64_t events = 0;
    uint64_t epochs = 1;   // 1 + restarts (queue overflows, too many changes)
    std::string degraded;  // why no answer is complete, if so
  };
  Info info() const;

 private:
  ChangeTracker(int fd, std::string root, size_t max_paths);
  // Watches `rel` and every directory below it.
  Status AddTree(const std::string& rel);
  void RemoveTree(const std::string& rel);
  void Record(const std::string& path, bool subtree);
  void NewEpoch(const std::string& why);
  void Handle(int wd, uint32_t mask, const char* name);
  bool RootMoved() const;

  int fd_;
  std::string root_;
  size_t max_paths_;
  int root_wd_ = -1;
  std::unordered_map<int, std::string> dirs_;  // watch descriptor -> path ("" is the root)
  std::map<std::string, int> wds_;             // path -> watch descriptor
  struct Change {
    uint64_t seq = 0;
    bool subtree = false;
  };
  std::unordered_map<std::string, Change> changed_;
  uint64_t epoch_ = 0;
  uint64_t seq_ = 0;
  uint64_t floor_ = 0;  // answers start after this sequence number
  uint64_t events_ = 0;
  uint64_t epochs_ = 1;
  std::string degraded_;
  bool root_gone_ = false;
  uint64_t root_dev_ = 0;
  uint64_t root_ino_ = 0;
};

struct WatchDaemonOptions {
  std::string root;  // the bound folder, absolute
  // Once the watcher answers: "ok PID\n" is written here and it is closed
  // ("error MESSAGE\n" if it could not start). -1: none.
  int ready_fd = -1;
  size_t max_paths = size_t{1} << 20;
};

// `proxima data watch run`: watches the folder and answers on the unix
// socket `ROOT/.proxima/watch.sock` (docs/watch.md) until asked to stop,
// SIGTERM or SIGINT, or until the folder or its binding is gone. One per
// folder: AlreadyExists naming the running one's pid. FailedPrecondition for
// a network file system (changes made on other machines raise no event).
Status RunWatchDaemon(const WatchDaemonOptions& options);

// The client side: a ChangeFeed that asks the watcher of the folder `root`
// over its socket. Unavailable when no watcher answers there.
class WatchClient : public ChangeFeed {
 public:
  explicit WatchClient(std::string root) : root_(std::move(root)) {}
  Result<ChangeSet> ChangesSince(const std::optional<WatchToken>& since) override;

 private:
  std::string root_;
};

// One request to the watcher of `root` ("status", "stop"); its answer line.
// Unavailable when none answers.
Result<std::string> WatchRequest(const std::string& root, const std::string& request);

}  // namespace proxima
