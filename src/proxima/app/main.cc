// The composition root: the only place that names concrete adapters.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "proxima/adapters/local_object_store.h"
#include "proxima/adapters/retrying_object_store.h"
#include "proxima/adapters/s3_object_store.h"
#include "proxima/adapters/sql_catalog.h"
#include "proxima/adapters/system_clock.h"
#include "proxima/app/settings.h"
#include "proxima/base/file_util.h"
#include "proxima/cli/environment.h"

namespace {

std::string HomeDir() {
  if (const char* h = std::getenv("PROXIMA_HOME"); h && *h) return h;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.proxima";
}

// PROXIMA_STORE selects the data lake: a folder path, a file:// URL or an
// s3://bucket/prefix URL (endpoint, region and credentials as the AWS SDKs
// read them; docs/s3.md). The default is the folder $PROXIMA_HOME/store.
proxima::Result<std::unique_ptr<proxima::ObjectStore>> OpenStore(const std::string& home,
                                                                 proxima::Clock* clock) {
  PROXIMA_ASSIGN_OR_RETURN(proxima::Settings settings,
                           proxima::Settings::Load(home + "/config.yaml", [](const char* name) {
                             return std::getenv(name);
                           }));
  const char* s = settings.Get("PROXIMA_STORE");
  std::string spec = s == nullptr || *s == '\0' ? home + "/store" : s;
  if (spec.rfind("s3://", 0) == 0) {
    PROXIMA_ASSIGN_OR_RETURN(
        proxima::S3Config config,
        proxima::S3ConfigFromUrl(spec, [&](const char* name) { return settings.Get(name); }));
    auto s3 = std::make_unique<proxima::S3ObjectStore>(std::move(config), clock);
    proxima::RetryPolicy policy;
    if (const char* limit = settings.Get("PROXIMA_RETRY_SECONDS")) {
      char* end = nullptr;
      double seconds = std::strtod(limit, &end);
      if (end == limit || *end != '\0' || seconds < 0) {
        return proxima::Status::InvalidArgument(
            std::string("retry bound '") + limit +
            "' (PROXIMA_RETRY_SECONDS or s3.retry_seconds in config.yaml): expected seconds");
      }
      policy.total_time_limit_ns = static_cast<int64_t>(seconds * 1e9);
    }
    auto store = std::make_unique<proxima::RetryingObjectStore>(
        std::move(s3), policy, clock,
        [](const proxima::Status& error, int attempt, int64_t delay_ns) {
          std::fprintf(stderr, "proxima: %s; retrying in %.1f s (attempt %d)\n",
                       error.message().c_str(), static_cast<double>(delay_ns) / 1e9, attempt + 1);
        });
    return std::unique_ptr<proxima::ObjectStore>(std::move(store));
  }
  if (spec.rfind("file://", 0) == 0) spec = spec.substr(7);
  if (spec.find("://") != std::string::npos) {
    return proxima::Status::InvalidArgument(
        "PROXIMA_STORE='" + spec + "': expected a folder, file://PATH or s3://BUCKET/PREFIX");
  }
  PROXIMA_ASSIGN_OR_RETURN(auto store, proxima::LocalObjectStore::Open(spec));
  return std::unique_ptr<proxima::ObjectStore>(std::move(store));
}

}  // namespace

int main(int argc, char** argv) {
  proxima::SystemClock clock;
  proxima::Environment env;
  env.home = HomeDir();
  env.clock = &clock;
  env.stderr_is_tty = isatty(STDERR_FILENO) == 1;
  env.open_store = [&]() { return OpenStore(env.home, &clock); };
  env.open_refs = [&]() -> proxima::Result<std::unique_ptr<proxima::RefStore>> {
    PROXIMA_RETURN_IF_ERROR(proxima::MakeDirs(env.home));
    PROXIMA_ASSIGN_OR_RETURN(
        auto catalog, proxima::OpenSqliteCatalog(env.home + "/catalog.db", clock.NowUnixNanos()));
    return std::unique_ptr<proxima::RefStore>(std::move(catalog));
  };
  return proxima::RunCli(argc, argv, env);
}
