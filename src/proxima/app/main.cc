// The composition root: the only place that names concrete adapters.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string_view>

#include "proxima/adapters/folder_watcher.h"
#include "proxima/adapters/hub_client.h"
#include "proxima/adapters/hub_stores.h"
#include "proxima/adapters/job_supervisor.h"
#include "proxima/adapters/local_executor.h"
#include "proxima/adapters/local_object_store.h"
#include "proxima/adapters/retrying_object_store.h"
#include "proxima/adapters/s3_object_store.h"
#include "proxima/adapters/sql_catalog.h"
#include "proxima/adapters/system_clock.h"
#include "proxima/app/executors.h"
#include "proxima/app/server_config.h"
#include "proxima/app/settings.h"
#include "proxima/base/file_util.h"
#include "proxima/cli/environment.h"
#include "proxima/core/pending_pack_store.h"
#include "proxima/server/hub_server.h"

namespace {

using proxima::Result;
using proxima::Status;

std::string HomeDir() {
  if (const char* h = std::getenv("PROXIMA_HOME"); h && *h) return h;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.proxima";
}

Result<proxima::Settings> LoadSettings(const std::string& home) {
  return proxima::Settings::Load(home + "/config.yaml",
                                 [](const char* name) { return std::getenv(name); });
}

Result<proxima::RetryPolicy> RetryPolicyFrom(const proxima::Settings& settings) {
  proxima::RetryPolicy policy;
  if (const char* limit = settings.Get("PROXIMA_RETRY_SECONDS")) {
    char* end = nullptr;
    double seconds = std::strtod(limit, &end);
    if (end == limit || *end != '\0' || seconds < 0) {
      return Status::InvalidArgument(
          std::string("retry bound '") + limit +
          "' (PROXIMA_RETRY_SECONDS or s3.retry_seconds in config.yaml): expected seconds");
    }
    policy.total_time_limit_ns = static_cast<int64_t>(seconds * 1e9);
  }
  return policy;
}

std::unique_ptr<proxima::ObjectStore> WithRetries(std::unique_ptr<proxima::ObjectStore> store,
                                                  const proxima::RetryPolicy& policy,
                                                  proxima::Clock* clock) {
  return std::make_unique<proxima::RetryingObjectStore>(
      std::move(store), policy, clock, [](const Status& error, int attempt, int64_t delay_ns) {
        std::fprintf(stderr, "proxima: %s; retrying in %.1f s (attempt %d)\n",
                     error.message().c_str(), static_cast<double>(delay_ns) / 1e9, attempt + 1);
      });
}

// The data lake by its spec: a folder path, a file:// URL or an
// s3://bucket/prefix URL (endpoint, region and credentials as the AWS SDKs
// read them; docs/s3.md). "" is the folder $PROXIMA_HOME/store.
Result<std::unique_ptr<proxima::ObjectStore>> OpenStore(std::string spec, const std::string& home,
                                                        const proxima::Settings& settings,
                                                        proxima::Clock* clock) {
  if (spec.empty()) spec = home + "/store";
  if (spec.rfind("s3://", 0) == 0) {
    PROXIMA_ASSIGN_OR_RETURN(
        proxima::S3Config config,
        proxima::S3ConfigFromUrl(spec, [&](const char* name) { return settings.Get(name); }));
    PROXIMA_ASSIGN_OR_RETURN(proxima::RetryPolicy policy, RetryPolicyFrom(settings));
    return WithRetries(std::make_unique<proxima::S3ObjectStore>(std::move(config), clock), policy,
                       clock);
  }
  if (spec.rfind("file://", 0) == 0) spec = spec.substr(7);
  if (spec.find("://") != std::string::npos) {
    return Status::InvalidArgument("store '" + spec +
                                   "': expected a folder, file://PATH or s3://BUCKET/PREFIX");
  }
  PROXIMA_ASSIGN_OR_RETURN(auto store, proxima::LocalObjectStore::Open(spec));
  return std::unique_ptr<proxima::ObjectStore>(std::move(store));
}

std::string StoreSpec(const proxima::Settings& settings) {
  const char* s = settings.Get("PROXIMA_STORE");
  return s == nullptr ? "" : s;
}

// The hub the data commands go through: --hub, else PROXIMA_HUB or the
// login in config.yaml. Null in embedded mode.
Result<std::shared_ptr<proxima::HubClient>> OpenHub(const proxima::Environment& env,
                                                    const proxima::Settings& settings) {
  std::string url = env.hub_flag;
  if (url.empty()) {
    if (const char* u = settings.Get("PROXIMA_HUB")) url = u;
  }
  if (url.empty()) return std::shared_ptr<proxima::HubClient>();
  const char* token = settings.Get("PROXIMA_TOKEN");
  if (token == nullptr) {
    return Status::Unauthenticated("no token for hub " + url + ": run 'proxima login --hub " + url +
                                   "' or set PROXIMA_TOKEN");
  }
  const char* ca = settings.Get("PROXIMA_HUB_CA_BUNDLE");
  return std::make_shared<proxima::HubClient>(
      proxima::HubConfig{url, token, ca == nullptr ? "" : ca});
}

int RunServer(const proxima::ServerArgs& args, const std::string& home, proxima::Clock* clock) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "proxima server: error: %s\n", s.message().c_str());
    return 1;
  };
  Result<proxima::ServerConfig> config = proxima::LoadServerConfig(args.config_file);
  if (!config.ok()) return fail(config.status());
  if (!args.listen.empty()) {
    if (Status s = proxima::ParseListen(args.listen, &config->options); !s.ok()) return fail(s);
  }
  if (!args.quiet) {
    config->options.log = [](const std::string& line) {
      std::fprintf(stderr, "%s\n", line.c_str());
    };
  }
  Result<proxima::Settings> settings = LoadSettings(home);
  if (!settings.ok()) return fail(settings.status());
  if (Status s = proxima::MakeDirs(home); !s.ok()) return fail(s);
  std::string catalog_spec = config->catalog.empty() ? home + "/catalog.db" : config->catalog;
  auto catalog =
      proxima::OpenCatalog(catalog_spec, clock->NowUnixNanos(), config->catalog_connections);
  if (!catalog.ok()) return fail(catalog.status());
  auto store = OpenStore(config->store.empty() ? StoreSpec(*settings) : config->store, home,
                         *settings, clock);
  if (!store.ok()) return fail(store.status());

  // The local executor wakes the scheduler when an attempt ends; the
  // server exists only below, hence the indirection.
  std::atomic<proxima::HubServer*> serving{nullptr};
  auto executors = std::make_unique<proxima::Executors>(home + "/jobs", [&serving] {
    if (proxima::HubServer* s = serving.load()) s->WakeScheduler();
  });
  config->options.executor_for = [&executors](const proxima::ResourceRecord& r) {
    return executors->For(r);
  };
  config->options.jobs_dir = home + "/jobs";
  config->options.local_capacity = proxima::LocalMachineShape();
  proxima::HubServer server(catalog->get(), store->get(), clock, config->options);
  serving = &server;
  const char* admin_token = std::getenv("PROXIMA_ADMIN_TOKEN");
  std::string new_admin_token;
  if (Status s = server.Start(admin_token ? admin_token : "", &new_admin_token); !s.ok()) {
    return fail(s);
  }
  bool tls = !config->options.tls_cert_file.empty();
  std::fprintf(stderr, "proxima server: listening on %s://%s:%d (catalog %s, store %s)\n",
               tls ? "https" : "http", config->options.host.c_str(), server.port(),
               (*catalog)->Describe().c_str(), (*store)->Describe().c_str());
  if (!new_admin_token.empty()) {
    // The only time this secret is ever printed: it is stored hashed.
    std::fprintf(stderr,
                 "proxima server: created the administrator 'admin'. Its token, shown only "
                 "this once:\n%s\n",
                 new_admin_token.c_str());
  }
  Status served = proxima::ServeUntilSignalled(server);
  serving = nullptr;
  executors.reset();  // joins their threads, which may be waking the server right now
  if (!served.ok()) return fail(served);
  std::fprintf(stderr, "proxima server: stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "__supervise") {
    return proxima::SuperviseAttempt(argv[2]);  // the local executor's (adapters/local_executor.h)
  }
  proxima::SystemClock clock;
  proxima::Environment env;
  env.home = HomeDir();
  env.clock = &clock;
  env.stderr_is_tty = isatty(STDERR_FILENO) == 1;
  // Settings and the hub are resolved once per process, after the command
  // line has set env.hub_flag: every command then shares one config read
  // and one pool of connections to the hub.
  std::optional<proxima::Settings> settings;
  std::shared_ptr<proxima::HubClient> hub;
  auto resolve = [&]() -> Status {
    if (settings) return Status::Ok();
    PROXIMA_ASSIGN_OR_RETURN(proxima::Settings loaded, LoadSettings(env.home));
    PROXIMA_ASSIGN_OR_RETURN(hub, OpenHub(env, loaded));
    settings = std::move(loaded);
    return Status::Ok();
  };
  env.open_store = [&]() -> Result<std::unique_ptr<proxima::ObjectStore>> {
    PROXIMA_RETURN_IF_ERROR(resolve());
    if (hub) {
      PROXIMA_ASSIGN_OR_RETURN(proxima::RetryPolicy policy, RetryPolicyFrom(*settings));
      return WithRetries(proxima::MakeHubObjectStore(hub), policy, &clock);
    }
    // A hub's store may hold packs still waiting for its verification
    // (docs/api.md, "Objects"): this reads them too.
    PROXIMA_ASSIGN_OR_RETURN(auto store,
                             OpenStore(StoreSpec(*settings), env.home, *settings, &clock));
    return std::unique_ptr<proxima::ObjectStore>(
        std::make_unique<proxima::PendingPackStore>(std::move(store)));
  };
  env.open_refs = [&]() -> Result<std::unique_ptr<proxima::RefStore>> {
    PROXIMA_RETURN_IF_ERROR(resolve());
    if (hub) return proxima::MakeHubRefStore(hub);
    PROXIMA_RETURN_IF_ERROR(proxima::MakeDirs(env.home));
    PROXIMA_ASSIGN_OR_RETURN(
        auto catalog, proxima::OpenSqliteCatalog(env.home + "/catalog.db", clock.NowUnixNanos()));
    return std::unique_ptr<proxima::RefStore>(std::move(catalog));
  };
  env.open_caches = [&]() -> Result<std::unique_ptr<proxima::CacheCatalog>> {
    PROXIMA_RETURN_IF_ERROR(resolve());
    if (hub) return proxima::MakeHubCacheCatalog(hub);
    PROXIMA_RETURN_IF_ERROR(proxima::MakeDirs(env.home));
    PROXIMA_ASSIGN_OR_RETURN(
        auto catalog, proxima::OpenSqliteCatalog(env.home + "/catalog.db", clock.NowUnixNanos()));
    return std::unique_ptr<proxima::CacheCatalog>(std::move(catalog));
  };
  env.open_compute = [&]() -> Result<std::unique_ptr<proxima::ComputeCatalog>> {
    PROXIMA_RETURN_IF_ERROR(resolve());
    if (hub) return proxima::MakeHubComputeCatalog(hub);
    PROXIMA_RETURN_IF_ERROR(proxima::MakeDirs(env.home));
    PROXIMA_ASSIGN_OR_RETURN(
        auto catalog, proxima::OpenSqliteCatalog(env.home + "/catalog.db", clock.NowUnixNanos()));
    return std::unique_ptr<proxima::ComputeCatalog>(std::move(catalog));
  };
  std::unique_ptr<proxima::Executors> executors;
  env.executor_for = [&](const proxima::ResourceRecord& r) -> proxima::Executor* {
    if (!executors) executors = std::make_unique<proxima::Executors>(env.home + "/jobs", nullptr);
    return executors->For(r);
  };
  env.local_capacity = proxima::LocalMachineShape();
  env.uses_hub = [&]() -> Result<bool> {
    PROXIMA_RETURN_IF_ERROR(resolve());
    return hub != nullptr;
  };
  env.hub_call = [&](std::string_view method, const std::string& path,
                     std::string_view body) -> Result<std::string> {
    PROXIMA_RETURN_IF_ERROR(resolve());
    if (!hub) {
      return Status::FailedPrecondition(
          "this command needs a hub: pass --hub URL or run 'proxima login --hub URL'");
    }
    return hub->Call(method, path, body);
  };
  env.login = [&](const std::string& url, const std::string& token) -> Result<std::string> {
    PROXIMA_ASSIGN_OR_RETURN(proxima::Settings settings, LoadSettings(env.home));
    const char* ca = settings.Get("PROXIMA_HUB_CA_BUNDLE");
    proxima::HubClient hub(proxima::HubConfig{url, token, ca == nullptr ? "" : ca});
    PROXIMA_ASSIGN_OR_RETURN(std::string who, hub.Call("GET", "/api/v1/whoami"));
    PROXIMA_RETURN_IF_ERROR(proxima::MakeDirs(env.home));
    PROXIMA_RETURN_IF_ERROR(proxima::SaveHubLogin(env.home + "/config.yaml", url, token));
    return who;
  };
  env.change_feed = [](const std::string& root) -> std::unique_ptr<proxima::ChangeFeed> {
    return std::make_unique<proxima::WatchClient>(root);
  };
  env.watch_request = proxima::WatchRequest;
  env.run_watcher = [](const std::string& root, int ready_fd) {
    return proxima::RunWatchDaemon({root, ready_fd});
  };
  env.run_server = [&](const proxima::ServerArgs& args) {
    return RunServer(args, env.home, &clock);
  };
  return proxima::RunCli(argc, argv, env);
}
