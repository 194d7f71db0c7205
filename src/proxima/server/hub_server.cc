#include "proxima/server/hub_server.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <mutex>
#include <thread>

#include "proxima/core/pending_pack_store.h"
#include "proxima/server/agent_pool.h"
#include "proxima/server/api.h"
#include "proxima/server/cache_janitor_thread.h"
#include "proxima/server/scheduler_thread.h"
#include "proxima/server/upload_verifier.h"

namespace proxima {

namespace {

using api::Json;

struct RequestClock {
  std::chrono::steady_clock::time_point start;
  std::string id;
};

RequestClock& CurrentRequest() {
  thread_local RequestClock r;
  return r;
}

// httplib listens with a backlog of 5, so a burst of new connections (64
// clients at once) overflows the accept queue and the kernel drops SYNs,
// which the clients retry only after a second. This exposes the listening
// socket so that the backlog can be raised.
template <typename Server>
class ListeningServer : public Server {
 public:
  using Server::Server;
  int listening_socket() const { return this->svr_sock_; }
};

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

struct HubServer::Impl {
  Impl(Catalog* catalog, ObjectStore* store, Clock* clock, ServerOptions opts)
      : options(std::move(opts)), access(catalog, clock) {
    hub.catalog = catalog;
    hub.store = store;
    hub.clock = clock;
    hub.access = &access;
    hub.options = &options;
    hub.metrics = &metrics;
    view = std::make_unique<PendingPackStore>(store);
    hub.reads = view.get();
    verifier = std::make_unique<UploadVerifier>(catalog, store, clock, options.log);
    hub.verifier = verifier.get();
  }

  ServerOptions options;
  AccessControl access;
  api::Metrics metrics;
  api::Hub hub;
  std::unique_ptr<Repository> repo;
  std::unique_ptr<httplib::Server> http;
  std::unique_ptr<PendingPackStore> view;
  std::unique_ptr<UploadVerifier> verifier;
  std::unique_ptr<CacheJanitorThread> janitor;
  std::unique_ptr<AgentPool> agents;
  std::unique_ptr<SchedulerThread> scheduler;  // set and reset under scheduler_mu
  std::mutex scheduler_mu;
  std::function<int()> listening_socket;
  std::string request_prefix = RandomHex(3);
  std::atomic<uint64_t> request_counter{0};
  int port = 0;

  Status Bootstrap(const std::string& admin_secret, std::string* new_admin_secret);
  void Configure();
};

HubServer::HubServer(Catalog* catalog, ObjectStore* store, Clock* clock, ServerOptions options)
    : impl_(std::make_unique<Impl>(catalog, store, clock, std::move(options))) {}

HubServer::~HubServer() = default;

int HubServer::port() const { return impl_->port; }

Status HubServer::Impl::Bootstrap(const std::string& admin_secret, std::string* new_admin_secret) {
  PROXIMA_ASSIGN_OR_RETURN(std::vector<UserRecord> users, hub.catalog->ListUsers("", 1));
  if (!users.empty()) return Status::Ok();
  // Two servers starting together on one PostgreSQL: one creates the
  // administrator, the other finds it exists and carries on.
  Status created = hub.catalog->CreateUser({"admin", true, hub.clock->NowUnixNanos()});
  if (created.IsAlreadyExists()) return Status::Ok();
  PROXIMA_RETURN_IF_ERROR(created);
  Result<IssuedToken> token = admin_secret.empty()
                                  ? access.IssueToken("admin", "first administrator", 0)
                                  : access.AdoptToken("admin", admin_secret, "PROXIMA_ADMIN_TOKEN");
  if (!token.ok()) {
    IgnoreError(hub.catalog->DeleteUser("admin"));  // retried cleanly at the next start
    return token.status();
  }
  if (admin_secret.empty()) *new_admin_secret = token->secret;
  AuditRecord record{
      0, hub.clock->NowUnixNanos(), "admin", "user.create", "user:admin", "first administrator"};
  IgnoreError(hub.catalog->AppendAudit(record));
  return Status::Ok();
}

void HubServer::Impl::Configure() {
  httplib::Server& s = *http;
  int threads = options.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(options.max_object_bytes);
  s.set_keep_alive_max_count(10'000);
  s.set_keep_alive_timeout(5);  // also bounds how long a stop waits for idle clients
  s.set_read_timeout(60);
  s.set_write_timeout(60);
  s.set_tcp_nodelay(true);

  s.set_pre_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    RequestClock& r = CurrentRequest();
    r.start = std::chrono::steady_clock::now();
    char id[40];
    std::snprintf(id, sizeof(id), "%s-%06llu", request_prefix.c_str(),
                  static_cast<unsigned long long>(++request_counter));
    r.id = id;
    api::CurrentRoute() = "unmatched";
    api::CurrentUser().clear();
    res.set_header("X-Request-Id", r.id);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors that happen before or outside a route (no route, body too large,
  // a malformed request line) still get the JSON error body.
  s.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        Status st;
        if (res.status == 404) {
          st = Status::NotFound("no such endpoint: " + req.method + " " + req.path +
                                " (see docs/api.md)");
        } else if (res.status == 413) {
          st = Status::InvalidArgument("request body is over the hub's limit");
        } else if (res.status == 405) {
          st = Status::InvalidArgument("method " + req.method + " is not allowed on " + req.path);
        } else {
          st = Status::InvalidArgument("malformed request");
        }
        api::SendError(res, st, res.status);
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler([this](const httplib::Request&, httplib::Response& res,
                                 std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    if (options.log) options.log("request " + CurrentRequest().id + " failed: " + what);
    api::SendError(res, Status::Internal("internal error (request " + CurrentRequest().id + ")"));
  });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    RequestClock& r = CurrentRequest();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count();
    metrics.Record(api::CurrentRoute(), req.method, res.status, seconds, req.body.size(),
                   res.body.empty() ? res.content_length_ : res.body.size());
    if (!options.log) return;
    char line[512];
    std::snprintf(line, sizeof(line), "%s %s %s %s %d %.1fms user=%s", UtcNow().c_str(),
                  r.id.c_str(), req.method.c_str(), req.path.substr(0, 200).c_str(), res.status,
                  seconds * 1e3, api::CurrentUser().empty() ? "-" : api::CurrentUser().c_str());
    options.log(line);
  });

  s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    api::CurrentRoute() = "/healthz";
    Result<bool> probe = hub.catalog->DatasetExists("healthz");
    if (!probe.ok()) {
      api::SendError(res, Status::Unavailable("catalog: " + probe.status().message()));
      return;
    }
    api::SendJson(
        res, 200,
        {{"status", "ok"}, {"catalog", hub.catalog->Describe()}, {"store", hub.store->Describe()}});
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    api::CurrentRoute() = "/metrics";
    Result<CatalogCounts> counts = hub.catalog->Counts();
    res.set_content(metrics.Render(counts.ok() ? &*counts : nullptr), "text/plain; version=0.0.4");
  });

  api::Router router(&s, &hub);
  api::RegisterDatasetRoutes(router);
  api::RegisterObjectRoutes(router);
  api::RegisterIdentityRoutes(router);
  api::RegisterCacheRoutes(router);
  api::RegisterComputeRoutes(router);
  api::RegisterAgentRoutes(router);
}

Status HubServer::Start(const std::string& admin_secret, std::string* new_admin_secret) {
  Impl& m = *impl_;
  PROXIMA_ASSIGN_OR_RETURN(m.repo, Repository::Open(m.hub.reads, /*create=*/true));
  m.hub.repo = m.repo.get();
  PROXIMA_RETURN_IF_ERROR(m.Bootstrap(admin_secret, new_admin_secret));
  if (!m.options.tls_cert_file.empty() || !m.options.tls_key_file.empty()) {
    if (m.options.tls_cert_file.empty() || m.options.tls_key_file.empty()) {
      return Status::InvalidArgument("TLS needs both a certificate and a key file");
    }
    auto tls = std::make_unique<ListeningServer<httplib::SSLServer>>(
        m.options.tls_cert_file.c_str(), m.options.tls_key_file.c_str());
    if (!tls->is_valid()) {
      return Status::InvalidArgument("cannot load the TLS certificate '" + m.options.tls_cert_file +
                                     "' and key '" + m.options.tls_key_file +
                                     "' (PEM files that match)");
    }
    m.listening_socket = [server = tls.get()] { return server->listening_socket(); };
    m.http = std::move(tls);
  } else {
    auto plain = std::make_unique<ListeningServer<httplib::Server>>();
    m.listening_socket = [server = plain.get()] { return server->listening_socket(); };
    m.http = std::move(plain);
  }
  m.Configure();
  if (m.options.port == 0) {
    m.port = m.http->bind_to_any_port(m.options.host);
    if (m.port < 0) m.port = 0;
  } else if (m.http->bind_to_port(m.options.host, m.options.port)) {
    m.port = m.options.port;
  }
  if (m.port != 0) ::listen(m.listening_socket(), 1024);  // see ListeningServer
  if (m.port == 0) {
    return Status::Unavailable("cannot listen on " + m.options.host + ":" +
                               std::to_string(m.options.port) +
                               " (in use, or not an address of this machine)");
  }
  return Status::Ok();
}

Status HubServer::Serve() {
  // Pending uploads of an earlier run (or of another hub) are verified too.
  if (impl_->options.verifier_thread) impl_->verifier->Start();
  impl_->janitor =
      std::make_unique<CacheJanitorThread>(impl_->hub.catalog, impl_->repo.get(), impl_->hub.clock,
                                           impl_->options.janitor_interval_ns, impl_->options.log);
  if (impl_->options.executor_for) {
    Impl& m = *impl_;
    Status defaults =
        EnsureDefaultCompute(*m.hub.catalog, m.options.local_capacity, m.hub.clock->NowUnixNanos());
    if (!defaults.ok() && m.options.log) {
      m.options.log("scheduler: cannot record the default compute: " + defaults.message());
    }
    m.agents = std::make_unique<AgentPool>(
        m.hub.catalog, m.hub.clock, m.options.jobs_dir + "/agents", [this] { WakeScheduler(); },
        m.options.log);
    m.hub.agents = m.agents.get();
    m.hub.executor_for = [&m](const ResourceRecord& r) -> Executor* {
      if (r.kind == ResourceKind::kAgent) return m.agents.get();
      return m.options.executor_for(r);
    };
    SchedulerServices services{*m.hub.catalog, *m.hub.catalog,     *m.repo,
                               *m.hub.clock,   m.hub.executor_for, m.options.log};
    SchedulerOptions options;
    options.jobs_dir = m.options.jobs_dir;
    {
      std::lock_guard lock(m.scheduler_mu);
      m.scheduler =
          std::make_unique<SchedulerThread>(services, options, m.options.scheduler_idle_ns);
    }
    m.hub.wake_scheduler = [scheduler = m.scheduler.get()] { scheduler->Wake(); };
  }
  bool listened = impl_->http->listen_after_bind();
  impl_->hub.wake_scheduler = nullptr;
  {
    std::lock_guard lock(impl_->scheduler_mu);
    impl_->scheduler.reset();
  }
  impl_->hub.agents = nullptr;
  impl_->hub.executor_for = nullptr;
  impl_->agents.reset();
  impl_->janitor.reset();
  if (!listened) {
    return Status::Internal("the HTTP server stopped with an error");
  }
  return Status::Ok();
}

Status HubServer::VerifyUploadsNow() { return impl_->verifier->RunOnce(); }

void HubServer::WakeScheduler() {
  std::lock_guard lock(impl_->scheduler_mu);
  if (impl_->scheduler) impl_->scheduler->Wake();
}

void HubServer::Stop() {
  if (impl_->http) impl_->http->stop();
}

Status ServeUntilSignalled(HubServer& server) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Status served;
  std::thread serving([&] {
    served = server.Serve();
    if (!served.ok()) kill(getpid(), SIGTERM);  // wake the sigwait below
  });
  int sig = 0;
  sigwait(&signals, &sig);
  // Stop accepting; the worker pool finishes the requests in flight before
  // Serve returns.
  server.Stop();
  serving.join();
  return served;
}

}  // namespace proxima
