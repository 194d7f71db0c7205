#include "proxima/adapters/slurm_executor.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "proxima/adapters/attempt_folder.h"
#include "proxima/adapters/subprocess.h"
#include "proxima/base/file_util.h"

namespace proxima {

namespace {

using Json = nlohmann::json;

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

// "<id>@<job>/<attempt>"
bool SplitHandle(const std::string& h, std::string* slurm_id, std::string* attempt) {
  size_t at = h.find('@');
  if (at == std::string::npos || at == 0) return false;
  *slurm_id = h.substr(0, at);
  *attempt = h.substr(at + 1);
  for (char c : *slurm_id) {
    if (c < '0' || c > '9') return false;
  }
  size_t slash = attempt->find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == attempt->size()) return false;
  for (size_t i = 0; i < attempt->size(); ++i) {
    char c = (*attempt)[i];
    if (i != slash && (c < '0' || c > '9')) return false;
  }
  return true;
}

// "JobState=FAILED" -> "FAILED" from `scontrol show job` output.
std::string Field(const std::string& text, const std::string& key) {
  size_t at = text.find(key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  size_t end = text.find_first_of(" \n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

class SlurmExecutor : public Executor {
 public:
  explicit SlurmExecutor(SlurmExecutorOptions o) : o_(std::move(o)) {
    if (!o_.slurm_conf.empty()) env_.emplace_back("SLURM_CONF", o_.slurm_conf);
  }

  Result<std::string> Launch(const LaunchSpec& spec) override {
    AttemptSettings settings;
    settings.kill_grace_ns = o_.kill_grace_ns;
    PROXIMA_ASSIGN_OR_RETURN(std::string dir, PrepareAttempt(o_.root, spec, settings));
    std::string script = "#!/bin/sh\n# Proxima job " + std::to_string(spec.job_id) + ", attempt " +
                         std::to_string(spec.attempt) + "\nexec " + ShellQuote(o_.supervisor) +
                         (o_.supervisor_is_proxima ? " __supervise " : " ") + ShellQuote(dir) +
                         "\n";
    PROXIMA_RETURN_IF_ERROR(WriteFileAtomic(dir + "/job.sh", script));
    ::chmod((dir + "/job.sh").c_str(), 0755);
    std::vector<std::string> argv = {
        "sbatch",
        "--parsable",
        "--job-name=proxima-" + std::to_string(spec.job_id) + "-" + std::to_string(spec.attempt),
        "--output=" + dir + "/slurm.out",
        "--chdir=" + dir,
        "--cpus-per-task=" +
            std::to_string(std::max<int64_t>(1, (spec.shape.millicpus + 999) / 1000))};
    if (spec.shape.memory_bytes > 0) {
      argv.push_back("--mem=" + std::to_string((spec.shape.memory_bytes + (1 << 20) - 1) >> 20) +
                     "M");
    }
    if (spec.shape.gpus > 0) argv.push_back("--gres=gpu:" + std::to_string(spec.shape.gpus));
    if (!spec.partition.empty()) argv.push_back("--partition=" + spec.partition);
    for (const std::string& a : o_.sbatch_args) argv.push_back(a);
    argv.push_back(dir + "/job.sh");
    PROXIMA_ASSIGN_OR_RETURN(ProcessOutput r, RunProcess(argv, env_));
    if (r.exit_code != 0) {
      std::string why = Trim(r.err.empty() ? r.out : r.err);
      bool down = why.find("Unable to contact") != std::string::npos ||
                  why.find("Connection refused") != std::string::npos ||
                  why.find("Socket timed out") != std::string::npos;
      std::string message = "sbatch refused job " + std::to_string(spec.job_id) + ": " + why;
      return down ? Status::Unavailable(message) : Status::InvalidArgument(message);
    }
    std::string id = Trim(r.out);
    id = id.substr(0, id.find(';'));  // "<id>;<cluster>" on federated setups
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
      return Status::Internal("sbatch answered '" + Trim(r.out) + "', not a job id");
    }
    Forget();  // the next Poll lists the queue again
    return id + "@" + std::to_string(spec.job_id) + "/" + std::to_string(spec.attempt);
  }

  Result<Execution> Poll(const std::string& handle) override {
    std::string id, attempt;
    if (!SplitHandle(handle, &id, &attempt)) return BadHandle(handle);
    std::string dir = o_.root + "/" + attempt;
    Execution e;
    PROXIMA_ASSIGN_OR_RETURN(std::string state, QueueState(id));
    if (state == "PENDING" || state == "CONFIGURING" || state == "REQUEUED") {
      e.phase = Execution::Phase::kPending;
      return e;
    }
    if (state == "RUNNING" || state == "COMPLETING" || state == "SUSPENDED" || state == "STOPPED" ||
        state == "RESIZING") {
      // COMPLETING: the supervisor may have written the exit already.
      if (ReadAttemptExit(dir, &e)) return e;
      e.phase = Execution::Phase::kRunning;
      return e;
    }
    // Out of the queue: the supervisor's record, else what Slurm says.
    if (ReadAttemptExit(dir, &e)) return e;
    PROXIMA_ASSIGN_OR_RETURN(ProcessOutput r,
                             RunProcess({"scontrol", "show", "job", id, "-o"}, env_));
    std::string job_state = Field(r.out, "JobState");
    if (r.exit_code != 0 || job_state.empty()) {
      if (ReadAttemptExit(dir, &e)) return e;
      e.phase = Execution::Phase::kLost;
      e.reason = "Slurm no longer knows job " + id + " and it left no exit record";
      return e;
    }
    if (job_state == "NODE_FAIL" || job_state == "BOOT_FAIL" || job_state == "PREEMPTED" ||
        job_state == "DEADLINE") {
      e.phase = Execution::Phase::kLost;
      e.reason = "Slurm job " + id + " ended " + job_state + " (" + Field(r.out, "Reason") + ")";
      return e;
    }
    e.phase = Execution::Phase::kExited;
    std::string code = Field(r.out, "ExitCode");  // "3:0" or "0:15"
    int status = std::atoi(code.c_str());
    int signal =
        code.find(':') != std::string::npos ? std::atoi(code.c_str() + code.find(':') + 1) : 0;
    e.exit_code = signal != 0 ? 128 + signal : status;
    if (e.exit_code == 0 && job_state != "COMPLETED") e.exit_code = 1;
    e.reason =
        "Slurm job " + id + " ended " + job_state + " before its supervisor recorded an exit";
    return e;
  }

  Status Cancel(const std::string& handle) override {
    std::string id, attempt;
    if (!SplitHandle(handle, &id, &attempt)) return BadHandle(handle);
    PROXIMA_ASSIGN_OR_RETURN(ProcessOutput r, RunProcess({"scancel", id}, env_));
    if (r.exit_code != 0 && r.err.find("already completing or completed") == std::string::npos &&
        r.err.find("Invalid job id") == std::string::npos) {
      return Status::Unavailable("scancel " + id + ": " + Trim(r.err));
    }
    Forget();
    return Status::Ok();
  }

  Result<std::string> ReadLog(const std::string& handle, uint64_t offset,
                              size_t max_bytes) override {
    std::string id, attempt;
    if (!SplitHandle(handle, &id, &attempt)) return BadHandle(handle);
    return ReadAttemptLog(o_.root + "/" + attempt, offset, max_bytes);
  }

  Status Forget(const std::string& handle) override {
    std::string id, attempt;
    if (!SplitHandle(handle, &id, &attempt)) return BadHandle(handle);
    return Status::Ok();
  }

  std::string Describe() const override {
    return "Slurm" + (o_.slurm_conf.empty() ? std::string() : " (" + o_.slurm_conf + ")");
  }

 private:
  static Status BadHandle(const std::string& h) {
    return Status::InvalidArgument("'" + h + "' is not a Slurm job handle (ID@JOB/ATTEMPT)");
  }

  void Forget() {
    std::lock_guard lock(mu_);
    listed_at_ = {};
  }

  // The job's state in `squeue` ("" when it left the queue), from one
  // listing of the whole queue at most every 100 ms.
  Result<std::string> QueueState(const std::string& id) {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (now - listed_at_ > std::chrono::milliseconds(100)) {
      PROXIMA_ASSIGN_OR_RETURN(ProcessOutput r, RunProcess({"squeue", "-h", "-o", "%i %T"}, env_));
      if (r.exit_code != 0) {
        return Status::Unavailable("squeue failed: " + Trim(r.err));
      }
      states_.clear();
      size_t start = 0;
      while (start < r.out.size()) {
        size_t end = r.out.find('\n', start);
        if (end == std::string::npos) end = r.out.size();
        std::string line = r.out.substr(start, end - start);
        size_t sp = line.find(' ');
        if (sp != std::string::npos) states_[line.substr(0, sp)] = Trim(line.substr(sp + 1));
        start = end + 1;
      }
      listed_at_ = now;
    }
    auto it = states_.find(id);
    return it == states_.end() ? std::string() : it->second;
  }

  SlurmExecutorOptions o_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point listed_at_{};
  std::map<std::string, std::string> states_;
};

}  // namespace

std::unique_ptr<Executor> MakeSlurmExecutor(SlurmExecutorOptions options) {
  return std::make_unique<SlurmExecutor>(std::move(options));
}

Result<SlurmExecutorOptions> SlurmOptionsFromConfig(const std::string& config_json,
                                                    const std::string& default_root) {
  Json j = Json::parse(config_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("a slurm resource's config must be a JSON object");
  }
  SlurmExecutorOptions o;
  o.root = default_root;
  auto text = [&](const char* key, std::string* out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_string()) {
      return Status::InvalidArgument(std::string("slurm config: '") + key + "' must be a string");
    }
    *out = it->get<std::string>();
    return Status::Ok();
  };
  PROXIMA_RETURN_IF_ERROR(text("slurm_conf", &o.slurm_conf));
  PROXIMA_RETURN_IF_ERROR(text("jobs_dir", &o.root));
  if (auto it = j.find("sbatch_args"); it != j.end()) {
    if (!it->is_array()) {
      return Status::InvalidArgument("slurm config: 'sbatch_args' must be an array of strings");
    }
    for (const Json& a : *it) {
      if (!a.is_string()) {
        return Status::InvalidArgument("slurm config: 'sbatch_args' must be an array of strings");
      }
      o.sbatch_args.push_back(a.get<std::string>());
    }
  }
  return o;
}

}  // namespace proxima
