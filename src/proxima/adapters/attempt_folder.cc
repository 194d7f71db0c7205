#include "proxima/adapters/attempt_folder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "proxima/base/file_util.h"
#include "proxima/base/hash.h"

namespace proxima {

using Json = nlohmann::json;

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
  Json j = {{"command", spec.command},
            {"env", env},
            {"datasets", datasets},
            {"image", spec.image},
            {"workdir", spec.workdir.empty() ? output : spec.workdir},
            {"output", output},
            // Unique on the machine: several homes (users, hubs) number jobs alike.
            {"name", "proxima-job-" + std::to_string(spec.job_id) + "-" +
                         std::to_string(spec.attempt) + "-" + RandomHex(4)},
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

}  // namespace proxima
