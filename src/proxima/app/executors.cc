#include "proxima/app/executors.h"

#include <unistd.h>

#include <cstdio>

#include "proxima/adapters/local_executor.h"
#include "proxima/adapters/slurm_executor.h"

namespace proxima {

namespace {

std::string SelfPath() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "/proc/self/exe";
}

}  // namespace

Executors::Executors(std::string jobs_root, std::function<void()> on_exit)
    : jobs_root_(std::move(jobs_root)), on_exit_(std::move(on_exit)), self_(SelfPath()) {
  std::string beside = self_.substr(0, self_.rfind('/') + 1) + "proxima-supervise";
  if (::access(beside.c_str(), X_OK) == 0) supervisor_ = beside;
}

Executors::~Executors() = default;

Executor* Executors::For(const ResourceRecord& r) {
  std::lock_guard lock(mu_);
  if (r.kind == ResourceKind::kLocal) {
    if (!local_) {
      LocalExecutorOptions o;
      o.root = jobs_root_;
      o.supervisor = supervisor_;
      o.self_exe = self_;
      o.on_exit = on_exit_;
      local_ = MakeLocalExecutor(o);
    }
    return local_.get();
  }
  if (r.kind != ResourceKind::kSlurm) return nullptr;
  auto it = slurm_.find(r.name);
  if (it != slurm_.end() && it->second.first == r.config) return it->second.second.get();
  Result<SlurmExecutorOptions> o =
      SlurmOptionsFromConfig(r.config, jobs_root_ + "/slurm-" + r.name);
  if (!o.ok()) {
    std::fprintf(stderr, "proxima: resource '%s': %s\n", r.name.c_str(),
                 o.status().message().c_str());
    slurm_[r.name] = {r.config, nullptr};
    return nullptr;
  }
  o->supervisor = supervisor_.empty() ? self_ : supervisor_;
  o->supervisor_is_proxima = supervisor_.empty();
  // A replaced executor may still be in use by a caller: keep it alive.
  if (it != slurm_.end() && it->second.second) retired_.push_back(std::move(it->second.second));
  slurm_[r.name] = {r.config, MakeSlurmExecutor(std::move(*o))};
  return slurm_[r.name].second.get();
}

}  // namespace proxima
