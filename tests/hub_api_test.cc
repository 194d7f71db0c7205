// The hub's REST API (docs/api.md), in process on a real socket: every
// endpoint without a token (401), with a token that lacks the permission
// (403, or 404 where the object must stay invisible), and with the right
// one; bad input of every kind; tokens that expire, are revoked or outlive
// their user; and the audit log.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "proxima/adapters/http_client.h"
#include "proxima/adapters/local_object_store.h"
#include "proxima/adapters/sql_catalog.h"
#include "proxima/base/coding.h"
#include "proxima/model/keys.h"
#include "proxima/model/pack.h"
#include "proxima/server/api.h"
#include "proxima/server/hub_server.h"
#include "proxima/server/upload_verifier.h"
#include "test_util.h"

namespace proxima {
namespace {

using nlohmann::json;

constexpr const char* kAdminSecret =
    "pxm_00000000000000000000000000000000000000000000000000000000000000aa";

class HubApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = OpenSqliteCatalog(dir_ / "catalog.db", clock_.NowUnixNanos());
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
    auto store = LocalObjectStore::Open(dir_ / "store");
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    ServerOptions options;
    options.port = 0;
    options.max_json_bytes = 4096;
    options.max_object_bytes = 1 << 20;
    options.max_page_size = 50;
    options.threads = 8;
    options.verify_uploads = verify_;
    options.verifier_thread = verifier_thread_;
    server_ = std::make_unique<HubServer>(catalog_.get(), store_.get(), &clock_, options);
    std::string printed;
    ASSERT_TRUE(server_->Start(kAdminSecret, &printed).ok());
    EXPECT_TRUE(printed.empty());  // an adopted secret is never printed
    serving_ = std::thread([this] { IgnoreError(server_->Serve()); });
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    admin_ = kAdminSecret;

    // The cast: a team member who owns datasets, a writer and a reader of
    // 'ds', and a stranger with no team and no grant.
    for (const char* u : {"owner", "writer", "reader", "stranger", "spare"}) {
      ASSERT_EQ(Call(admin_, "POST", "/api/v1/users", json{{"name", u}}.dump()).first, 201);
      tokens_[u] = Token(u);
    }
    ASSERT_EQ(Call(admin_, "POST", "/api/v1/teams", R"({"name":"ml"})").first, 201);
    ASSERT_EQ(Call(admin_, "PUT", "/api/v1/teams/ml/members/owner", R"({"role":"member"})").first,
              200);
    for (const char* d : {"ds", "victim"}) {
      ASSERT_EQ(Call(tokens_["owner"], "POST", "/api/v1/datasets", json{{"name", d}}.dump()).first,
                201);
      ASSERT_EQ(Call(tokens_["owner"], "PUT", std::string("/api/v1/datasets/") + d + "/grants",
                     R"({"subject":"user:writer","access":"write"})")
                    .first,
                200);
    }
    ASSERT_EQ(Call(tokens_["owner"], "PUT", "/api/v1/datasets/ds/grants",
                   R"({"subject":"user:reader","access":"read"})")
                  .first,
              200);
    // An object in the store: a commit-kind object (the hub checks its hash).
    commit_bytes_ = "a commit, as far as the hub can tell";
    commit_key_ = ObjectKey(ObjectKind::kCommit, Sha256(commit_bytes_));
    ASSERT_EQ(Call(tokens_["writer"], "PUT", "/api/v1/objects/" + commit_key_, commit_bytes_).first,
              201);
  }

  void TearDown() override {
    http_.reset();  // closes its keep-alive connections, so the server stops at once
    if (server_) server_->Stop();
    if (serving_.joinable()) serving_.join();
  }

  std::string Token(const std::string& user) {
    auto [status, body] = Call(admin_, "POST", "/api/v1/users/" + user + "/tokens", "{}");
    EXPECT_EQ(status, 201) << body;
    return json::parse(body).value("token", "");
  }

  // (HTTP status, body); the token "" sends no Authorization header.
  std::pair<long, std::string> Call(const std::string& token, std::string_view method,
                                    const std::string& path, std::string_view body = {},
                                    HttpHeaders headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    headers.emplace_back("Expect", "");
    HttpRequest req{method, base_ + path, std::move(headers), body, 0};
    Result<HttpResponse> r = http_->Send(req);
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      return {0, ""};
    }
    return {r->status, r->body};
  }

  std::string TokenIdOf(const std::string& secret) {
    return json::parse(Call(secret, "GET", "/api/v1/whoami").second).value("token_id", "");
  }

  static std::string Code(const std::string& body) {
    json doc = json::parse(body, nullptr, false);
    if (!doc.is_object() || !doc.contains("error")) return "(no error body: " + body + ")";
    return doc["error"].value("code", "");
  }

  // Set by a derived fixture's constructor, before SetUp.
  ServerOptions::VerifyUploads verify_ = ServerOptions::VerifyUploads::kBehind;
  bool verifier_thread_ = true;
  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<HubServer> server_;
  std::thread serving_;
  std::unique_ptr<HttpClient> http_ = std::make_unique<HttpClient>(HttpClient::Options{});
  std::string base_, admin_, commit_key_, commit_bytes_;
  std::map<std::string, std::string> tokens_;
};

// A body of POST /api/v1/objects/batch.
std::string Batch(const std::vector<std::pair<std::string, std::string>>& objects) {
  std::string body;
  for (const auto& [key, bytes] : objects) {
    PutLengthPrefixed(&body, key);
    PutLengthPrefixed(&body, bytes);
  }
  return body;
}

struct Case {
  const char* method;
  std::string path;
  std::string body;
  const char* allowed;  // a user allowed to do it ("admin" for the admin)
  long ok_status;
  const char* lacking;  // a user who may not ("" when everyone may)
  long denied_status;   // 403, or 404 where existence must not leak
};

TEST_F(HubApiTest, EveryEndpointChecksItsCaller) {
  tokens_["admin"] = admin_;
  std::string commit_id = commit_key_.substr(commit_key_.rfind('/') + 1);
  auto token_id = [&](const std::string& user) {
    auto [s, body] = Call(tokens_[user], "GET", "/api/v1/users/" + user + "/tokens");
    return json::parse(body)["items"][0].value("id", "");
  };
  std::vector<Case> cases = {
      {"GET", "/api/v1/whoami", "", "stranger", 200, "", 0},
      {"GET", "/api/v1/datasets", "", "stranger", 200, "", 0},
      {"POST", "/api/v1/datasets", R"({"name":"fresh"})", "owner", 201, "stranger", 403},
      {"GET", "/api/v1/datasets/ds", "", "reader", 200, "stranger", 404},
      {"GET", "/api/v1/datasets/ds/refs", "", "reader", 200, "stranger", 404},
      {"GET", "/api/v1/datasets/ds/refs/head", "", "reader", 200, "stranger", 404},
      {"PUT", "/api/v1/datasets/ds/refs/tags/t1",
       R"({"expected":null,"desired":")" + commit_id + "\"}", "writer", 200, "reader", 403},
      {"GET", "/api/v1/datasets/ds/grants", "", "owner", 200, "reader", 403},
      {"PUT", "/api/v1/datasets/ds/grants", R"({"subject":"user:spare","access":"read"})", "owner",
       200, "writer", 403},
      {"DELETE", "/api/v1/datasets/ds/grants/user:spare", "", "owner", 200, "writer", 403},
      {"GET", "/api/v1/objects/config", "", "stranger", 200, "", 0},
      {"GET", "/api/v1/objects/" + commit_key_, "", "reader", 200, "stranger", 403},
      {"HEAD", "/api/v1/objects/" + commit_key_, "", "reader", 200, "stranger", 403},
      {"PUT", "/api/v1/objects/" + commit_key_, commit_bytes_, "writer", 201, "reader", 403},
      {"GET", "/api/v1/objects?prefix=index/", "", "reader", 200, "stranger", 403},
      {"GET", "/api/v1/objects?prefix=commits/", "", "reader", 200, "", 0},
      {"GET", "/api/v1/objects?prefix=data/", "", "admin", 200, "reader", 403},
      {"POST", "/api/v1/objects/sync", "", "writer", 200, "reader", 403},
      {"POST", "/api/v1/objects/batch", Batch({{commit_key_, commit_bytes_}}), "writer", 201,
       "reader", 403},
      // A local store hands out no URLs: 412, and the client streams instead.
      {"POST", "/api/v1/objects/urls", R"({"method":"GET","keys":["config"]})", "stranger", 412, "",
       0},
      {"POST", "/api/v1/objects/urls", R"({"method":"GET","keys":[")" + commit_key_ + "\"]}",
       "reader", 412, "stranger", 403},
      {"POST", "/api/v1/volumes", R"({"name":"nfs1","path":"/mnt/nfs1"})", "admin", 201, "owner",
       403},
      {"GET", "/api/v1/volumes", "", "stranger", 200, "", 0},
      {"PUT", "/api/v1/volumes/nfs1/quotas/ml", R"({"bytes":1000000})", "admin", 200, "owner", 403},
      {"GET", "/api/v1/volumes/nfs1/quotas", "", "stranger", 200, "", 0},
      {"GET", "/api/v1/volumes/nfs1", "", "stranger", 200, "", 0},
      {"PUT", "/api/v1/volumes/nfs1/caches/ds/" + commit_id, R"({"state":"queued","version":0})",
       "reader", 200, "stranger", 404},
      {"GET", "/api/v1/volumes/nfs1/caches/ds/" + commit_id, "", "reader", 200, "stranger", 404},
      {"GET", "/api/v1/volumes/nfs1/caches", "", "stranger", 200, "", 0},
      {"PUT", "/api/v1/volumes/nfs1/leases/l1",
       R"({"dataset":"ds","commit":")" + commit_id + R"(","holder":"job 7","expires_unix_ns":5})",
       "reader", 200, "stranger", 404},
      {"GET", "/api/v1/volumes/nfs1/leases", "", "stranger", 200, "", 0},
      {"DELETE", "/api/v1/volumes/nfs1/leases/l1", "", "reader", 200, "stranger", 404},
      {"DELETE", "/api/v1/volumes/nfs1/caches/ds/" + commit_id + "?version=1", "", "reader", 200,
       "stranger", 404},
      {"DELETE", "/api/v1/volumes/nfs1", "", "admin", 200, "owner", 403},
      {"POST", "/api/v1/compute",
       R"({"name":"site","kind":"slurm","millicpus":8000,"memory_bytes":0,"gpus":2})", "admin", 201,
       "owner", 403},
      {"GET", "/api/v1/compute", "", "stranger", 200, "", 0},
      {"GET", "/api/v1/compute/site", "", "stranger", 200, "", 0},
      {"POST", "/api/v1/templates", R"({"name":"g1","resource":"site","millicpus":1000})", "admin",
       201, "owner", 403},
      {"GET", "/api/v1/templates", "", "stranger", 200, "", 0},
      {"GET", "/api/v1/templates/g1", "", "stranger", 200, "", 0},
      {"POST", "/api/v1/queues", R"({"name":"train","templates":["g1"]})", "admin", 201, "owner",
       403},
      {"GET", "/api/v1/queues", "", "stranger", 200, "", 0},
      {"GET", "/api/v1/queues/train", "", "stranger", 200, "", 0},
      {"POST", "/api/v1/jobs",
       R"({"command":["true"],"queue":"train","datasets":[{"name":"ds","commit":")" + commit_id +
           "\"}]}",
       "reader", 201, "stranger", 404},
      {"GET", "/api/v1/jobs", "", "stranger", 200, "", 0},
      {"GET", "/api/v1/jobs/1", "", "reader", 200, "stranger", 404},
      {"GET", "/api/v1/jobs/1/logs", "", "reader", 200, "stranger", 404},
      {"POST", "/api/v1/jobs/1/cancel", "", "reader", 200, "stranger", 404},
      {"DELETE", "/api/v1/queues/train", "", "admin", 200, "owner", 403},
      {"DELETE", "/api/v1/templates/g1", "", "admin", 200, "owner", 403},
      {"DELETE", "/api/v1/compute/site", "", "admin", 200, "owner", 403},
      {"GET", "/api/v1/users", "", "admin", 200, "owner", 403},
      {"POST", "/api/v1/users", R"({"name":"newbie"})", "admin", 201, "owner", 403},
      {"GET", "/api/v1/users/reader", "", "reader", 200, "owner", 404},
      {"GET", "/api/v1/users/reader/tokens", "", "reader", 200, "owner", 404},
      {"POST", "/api/v1/users/reader/tokens", "{}", "reader", 201, "owner", 404},
      {"GET", "/api/v1/teams", "", "stranger", 200, "", 0},
      {"POST", "/api/v1/teams", R"({"name":"vision"})", "admin", 201, "owner", 403},
      {"GET", "/api/v1/teams/ml", "", "owner", 200, "stranger", 404},
      {"PUT", "/api/v1/teams/ml/members/spare", R"({"role":"viewer"})", "admin", 200, "owner", 403},
      {"DELETE", "/api/v1/teams/ml/members/spare", "", "admin", 200, "owner", 403},
      {"DELETE", "/api/v1/teams/vision", "", "admin", 200, "owner", 403},
      {"GET", "/api/v1/audit", "", "admin", 200, "owner", 403},
      {"DELETE", "/api/v1/tokens/" + token_id("spare"), "", "spare", 200, "owner", 404},
      {"DELETE", "/api/v1/users/newbie", "", "admin", 200, "owner", 403},
      {"DELETE", "/api/v1/objects/" + commit_key_, "", "admin", 200, "writer", 403},
      {"DELETE", "/api/v1/datasets/victim", "", "owner", 200, "writer", 403},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path);
    auto [s401, b401] = Call("", c.method, c.path, c.body);
    EXPECT_EQ(s401, 401);
    if (std::string(c.method) != "HEAD") EXPECT_EQ(Code(b401), "Unauthenticated");
    auto [sbad, bbad] = Call("pxm_" + std::string(64, 'f'), c.method, c.path, c.body);
    EXPECT_EQ(sbad, 401);
    if (*c.lacking != '\0') {
      auto [s, b] = Call(tokens_[c.lacking], c.method, c.path, c.body);
      EXPECT_EQ(s, c.denied_status) << b;
      if (std::string(c.method) != "HEAD") {
        EXPECT_EQ(Code(b), c.denied_status == 404 ? "NotFound" : "PermissionDenied");
      }
    }
    auto [s, b] = Call(tokens_[c.allowed], c.method, c.path, c.body);
    EXPECT_EQ(s, c.ok_status) << b;
  }
  // Public endpoints need no token.
  EXPECT_EQ(Call("", "GET", "/healthz").first, 200);
  auto [ms, metrics] = Call("", "GET", "/metrics");
  EXPECT_EQ(ms, 200);
  EXPECT_NE(metrics.find("proxima_http_requests_total{route=\"/api/v1/datasets/([^/]+)\""),
            std::string::npos);
  EXPECT_NE(metrics.find("proxima_catalog_rows{kind=\"users\"}"), std::string::npos);
}

TEST_F(HubApiTest, CacheRowsMoveByCompareAndSwapAndStayInvisibleToStrangers) {
  ASSERT_EQ(Call(admin_, "POST", "/api/v1/volumes", R"({"name":"v","path":"/v"})").first, 201);
  std::string commit = std::string(64, 'a');
  std::string path = "/api/v1/volumes/v/caches/ds/" + commit;
  auto [s1, b1] = Call(tokens_["reader"], "PUT", path, R"({"state":"filling","version":0})");
  ASSERT_EQ(s1, 200) << b1;
  EXPECT_EQ(json::parse(b1).value("version", 0), 1);
  // A second writer that read no row loses.
  auto [s2, b2] = Call(tokens_["writer"], "PUT", path, R"({"state":"filling","version":0})");
  EXPECT_EQ(s2, 412) << b2;
  EXPECT_EQ(Code(b2), "FailedPrecondition");
  auto [s3, b3] =
      Call(tokens_["writer"], "PUT", path, R"({"state":"ready","files":3,"bytes":30,"version":1})");
  EXPECT_EQ(s3, 200) << b3;
  auto [s4, b4] = Call(tokens_["reader"], "GET", "/api/v1/volumes/v/caches");
  ASSERT_EQ(s4, 200);
  ASSERT_EQ(json::parse(b4)["items"].size(), 1u);
  EXPECT_EQ(json::parse(b4)["items"][0].value("state", ""), "ready");
  EXPECT_EQ(json::parse(b4)["items"][0].value("files", 0), 3);
  auto [s5, b5] = Call(tokens_["stranger"], "GET", "/api/v1/volumes/v/caches");
  ASSERT_EQ(s5, 200);
  EXPECT_TRUE(json::parse(b5)["items"].empty()) << "a stranger sees no cache of 'ds'";
  // Bad input names the field.
  for (const char* bad :
       {R"({"state":"cooking","version":1})", R"({"state":"ready"})",
        R"({"state":"ready","version":-1})", R"({"state":"ready","version":1,"files":"3"})",
        R"({"state":"ready","version":1,"colour":"red"})"}) {
    auto [s, b] = Call(tokens_["reader"], "PUT", path, bad);
    EXPECT_EQ(s, 400) << bad << ": " << b;
  }
  for (const char* bad : {R"({"name":"w","path":"relative"})", R"({"name":"../w","path":"/w"})",
                          R"({"name":"w","path":"/w","high":0.5,"low":0.6})",
                          R"({"name":"w","path":"/w","ttl_seconds":0})"}) {
    auto [s, b] = Call(admin_, "POST", "/api/v1/volumes", bad);
    EXPECT_EQ(s, 400) << bad << ": " << b;
  }
  // A cache counts against a team only when a member of it asks.
  std::string other = "/api/v1/volumes/v/caches/ds/" + std::string(64, 'b');
  auto [s6, b6] =
      Call(tokens_["reader"], "PUT", other, R"({"state":"queued","team":"ml","version":0})");
  EXPECT_EQ(s6, 403) << b6;
  auto [s7, b7] =
      Call(tokens_["owner"], "PUT", other, R"({"state":"queued","team":"ml","version":0})");
  EXPECT_EQ(s7, 200) << b7;
  auto [s8, b8] = Call(tokens_["owner"], "GET", other);
  EXPECT_EQ(json::parse(b8).value("team", ""), "ml");
  EXPECT_EQ(Call(admin_, "PUT", "/api/v1/volumes/v/quotas/nosuchteam", R"({"bytes":1})").first,
            404);
  EXPECT_EQ(Call(admin_, "PUT", "/api/v1/volumes/v/quotas/ml", R"({"bytes":-1})").first, 400);
  // A lease is its taker's: another reader can neither end nor renew it.
  ASSERT_EQ(Call(tokens_["owner"], "PUT", "/api/v1/datasets/ds/grants",
                 R"({"subject":"user:spare","access":"read"})")
                .first,
            200);
  std::string lease = "/api/v1/volumes/v/leases/mine";
  std::string body = R"({"dataset":"ds","commit":")" + commit +
                     R"(","holder":"job 1","expires_unix_ns":9000000000000000000})";
  ASSERT_EQ(Call(tokens_["reader"], "PUT", lease, body).first, 200);
  EXPECT_EQ(Call(tokens_["spare"], "DELETE", lease).first, 403);
  EXPECT_EQ(Call(tokens_["spare"], "PUT", lease, body).first, 403);
  auto [sl, bl] = Call(tokens_["reader"], "GET", "/api/v1/volumes/v/leases");
  json listed = json::parse(bl)["items"][0];
  EXPECT_EQ(listed.value("owner", ""), "reader");
  EXPECT_LE(listed.value("expires_unix_ns", int64_t{0}),
            clock_.NowUnixNanos() + int64_t{7} * 24 * 3600 * 1'000'000'000)
      << "a lease is capped at a week";
  // The same id on another cache is refused, not silently renewed.
  std::string other_body = R"({"dataset":"ds","commit":")" + std::string(64, 'b') +
                           R"(","holder":"job 1","expires_unix_ns":5})";
  EXPECT_EQ(Call(tokens_["reader"], "PUT", lease, other_body).first, 409);
  EXPECT_EQ(Call(tokens_["reader"], "DELETE", lease).first, 200);
  EXPECT_EQ(Call(admin_, "DELETE", "/api/v1/volumes/v").first, 412) << "it still has a cache";
  EXPECT_EQ(Call(tokens_["reader"], "DELETE", path + "?version=1").first, 412) << "stale version";
  EXPECT_EQ(Call(tokens_["reader"], "DELETE", path + "?version=x").first, 400);
  EXPECT_EQ(Call(tokens_["reader"], "DELETE", path + "?version=2").first, 200);
}

TEST_F(HubApiTest, JobsAreTheirOwnersAndOnlyTheSchedulerMovesThem) {
  ASSERT_EQ(Call(admin_, "POST", "/api/v1/compute",
                 R"({"name":"site","kind":"local","millicpus":2000,"memory_bytes":0,"gpus":0})")
                .first,
            201);
  ASSERT_EQ(Call(admin_, "POST", "/api/v1/templates",
                 R"({"name":"t","resource":"site","millicpus":1000})")
                .first,
            201);
  ASSERT_EQ(Call(admin_, "POST", "/api/v1/queues", R"({"name":"default","templates":["t"]})").first,
            201);
  // No queue and no template: the default queue.
  auto [s1, b1] = Call(tokens_["reader"], "POST", "/api/v1/jobs", R"({"command":["echo","hi"]})");
  ASSERT_EQ(s1, 201) << b1;
  json job = json::parse(b1);
  EXPECT_EQ(job["owner"], "reader");
  EXPECT_EQ(job["spec"]["queue"], "default");
  EXPECT_EQ(job["state"], "queued");
  std::string path = "/api/v1/jobs/" + std::to_string(job["id"].get<int64_t>());
  ASSERT_EQ(Call(tokens_["writer"], "POST", "/api/v1/jobs", R"({"command":["x"]})").first, 201);

  // Each sees its own; an admin sees all, and may filter by owner.
  auto [sl, bl] = Call(tokens_["reader"], "GET", "/api/v1/jobs");
  ASSERT_EQ(sl, 200);
  EXPECT_EQ(json::parse(bl)["items"].size(), 1u);
  EXPECT_EQ(json::parse(Call(admin_, "GET", "/api/v1/jobs").second)["items"].size(), 2u);
  EXPECT_EQ(json::parse(Call(admin_, "GET", "/api/v1/jobs?owner=writer").second)["items"].size(),
            1u);
  EXPECT_EQ(Call(tokens_["reader"], "GET", "/api/v1/jobs?owner=writer").first, 403);
  EXPECT_EQ(Call(tokens_["writer"], "GET", path).first, 404);
  EXPECT_EQ(Call(tokens_["reader"], "GET", "/api/v1/jobs?state=queued,bogus").first, 400);
  EXPECT_EQ(json::parse(Call(admin_, "GET", "/api/v1/jobs?state=running").second)["items"].size(),
            0u);

  // A client may not move a job; it may ask to cancel it.
  json moved = json::parse(Call(tokens_["reader"], "GET", path).second);
  moved["state"] = "succeeded";
  auto [sm, bm] = Call(tokens_["reader"], "PUT", path, moved.dump());
  EXPECT_EQ(sm, 403) << bm;
  json cancel = json::parse(Call(tokens_["reader"], "GET", path).second);
  cancel["cancel_requested"] = true;
  auto [sc, bc] = Call(tokens_["reader"], "PUT", path, cancel.dump());
  EXPECT_EQ(sc, 200) << bc;
  EXPECT_EQ(Call(tokens_["reader"], "PUT", path, cancel.dump()).first, 412) << "stale version";
  EXPECT_TRUE(json::parse(Call(tokens_["reader"], "GET", path).second)["cancel_requested"]);

  // Bad submissions say what is wrong.
  std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"command":[]})", "command"},
      {R"({"command":"ls"})", "command"},
      {R"({"command":["ls"],"queue":"nope"})", "nope"},
      {R"({"command":["ls"],"template":"nope"})", "nope"},
      {R"({"command":["ls"],"queue":"default","template":"t"})", "not both"},
      {R"({"command":["ls"],"env":[{"name":"1X","value":"v"}]})", "1X"},
      {R"({"command":["ls"],"datasets":[{"name":"ds","commit":"abc"}]})", "64 hex"},
      {R"({"command":["ls"],"timeout_ns":-5})", "timeout_ns"},
      {R"({"command":["ls"],"max_retries":1000})", "max_retries"},
      {R"({"command":["ls"],"workdir":"rel/dir"})", "absolute"},
      {"not json", "JSON"},
  };
  for (const auto& [body, word] : bad) {
    auto [s, b] = Call(tokens_["reader"], "POST", "/api/v1/jobs", body);
    EXPECT_TRUE(s == 400 || s == 404) << body << " -> " << s << " " << b;
    EXPECT_NE(b.find(word), std::string::npos) << body << " -> " << b;
  }
  EXPECT_EQ(Call(admin_, "POST", "/api/v1/compute", R"({"name":"k","kind":"kubernetes"})").first,
            400);
  EXPECT_EQ(Call(admin_, "POST", "/api/v1/compute", R"({"name":"a/b","kind":"local"})").first, 400);
  EXPECT_EQ(Call(admin_, "POST", "/api/v1/queues", R"({"name":"q2","templates":["t","t"]})").first,
            400);
  EXPECT_EQ(Call(admin_, "POST", "/api/v1/templates",
                 R"({"name":"t2","resource":"nowhere","millicpus":1000})")
                .first,
            404);
  EXPECT_EQ(Call(admin_, "DELETE", "/api/v1/compute/site").first, 412) << "its template uses it";
}

TEST_F(HubApiTest, AGrantChangeReachesObjectAccessAtOnce) {
  // Object requests check the caller's best access, cached with its
  // authentication: a grant through this hub must not wait for the cache.
  std::string object = "/api/v1/objects/" + commit_key_;
  EXPECT_EQ(Call(tokens_["stranger"], "GET", object).first, 403);
  ASSERT_EQ(Call(tokens_["owner"], "PUT", "/api/v1/datasets/ds/grants",
                 R"({"subject":"user:stranger","access":"read"})")
                .first,
            200);
  EXPECT_EQ(Call(tokens_["stranger"], "GET", object).first, 200);
  EXPECT_EQ(Call(tokens_["stranger"], "PUT", object, commit_bytes_).first, 403);
  ASSERT_EQ(Call(tokens_["owner"], "DELETE", "/api/v1/datasets/ds/grants/user:stranger").first,
            200);
  EXPECT_EQ(Call(tokens_["stranger"], "GET", object).first, 403);
}

TEST_F(HubApiTest, AStrangerNeverLearnsADatasetExists) {
  auto [s1, b1] = Call(tokens_["stranger"], "GET", "/api/v1/datasets/ds");
  auto [s2, b2] = Call(tokens_["stranger"], "GET", "/api/v1/datasets/no-such-dataset");
  EXPECT_EQ(s1, 404);
  EXPECT_EQ(s2, 404);
  // Same answer, word for word, but for the name asked about.
  std::string existing = json::parse(b1)["error"]["message"];
  std::string missing = json::parse(b2)["error"]["message"];
  existing.replace(existing.find("'ds'"), 4, "'no-such-dataset'");
  EXPECT_EQ(existing, missing);
  auto [sl, list] = Call(tokens_["stranger"], "GET", "/api/v1/datasets");
  EXPECT_EQ(json::parse(list)["items"].size(), 0u);
  auto [sr, rlist] = Call(tokens_["reader"], "GET", "/api/v1/datasets");
  ASSERT_EQ(json::parse(rlist)["items"].size(), 1u);
  EXPECT_EQ(json::parse(rlist)["items"][0]["name"], "ds");
  EXPECT_EQ(json::parse(rlist)["items"][0]["created_unix_ns"], clock_.NowUnixNanos());
  EXPECT_EQ(json::parse(rlist)["items"][0]["access"], "read");
}

TEST_F(HubApiTest, TeamGrantsFollowTheMembersRole) {
  ASSERT_EQ(Call(tokens_["owner"], "PUT", "/api/v1/datasets/ds/grants",
                 R"({"subject":"team:ml","access":"write"})")
                .first,
            200);
  ASSERT_EQ(Call(admin_, "PUT", "/api/v1/teams/ml/members/spare", R"({"role":"viewer"})").first,
            200);
  auto [s, body] = Call(tokens_["spare"], "GET", "/api/v1/datasets/ds");
  EXPECT_EQ(s, 200);
  EXPECT_EQ(json::parse(body)["access"], "read");  // a viewer reads, even on a write grant
  ASSERT_EQ(Call(admin_, "PUT", "/api/v1/teams/ml/members/spare", R"({"role":"member"})").first,
            200);
  EXPECT_EQ(json::parse(Call(tokens_["spare"], "GET", "/api/v1/datasets/ds").second)["access"],
            "write");
}

TEST_F(HubApiTest, BadInputGetsA4xxThatSaysWhatToFix) {
  const std::string& owner = tokens_["owner"];
  struct Bad {
    const char* method;
    std::string path, body;
    long status;
    const char* message;
  };
  std::vector<Bad> cases = {
      {"POST", "/api/v1/datasets", "{not json", 400, "not valid JSON"},
      {"POST", "/api/v1/datasets", "[1,2]", 400, "must be a JSON object"},
      {"POST", "/api/v1/datasets", R"({"name":42})", 400, "'name' must be a string"},
      {"POST", "/api/v1/datasets", R"({"nme":"x"})", 400, "unknown field 'nme'"},
      {"POST", "/api/v1/datasets", R"({})", 400, "missing field 'name'"},
      {"POST", "/api/v1/datasets", R"({"name":"a/b"})", 400, "dataset name"},
      {"POST", "/api/v1/datasets", "{\"name\":\"a\\u0001b\"}", 400, "dataset name"},
      {"POST", "/api/v1/datasets", R"({"name":"..hidden"})", 400, "dataset name"},
      {"POST", "/api/v1/datasets", R"({"name":"ds"})", 409, "already exists"},
      {"POST", "/api/v1/datasets", "{\"name\":\"" + std::string(5000, 'x') + "\"}", 400,
       "over the limit"},
      {"GET", "/api/v1/datasets?limit=100000", "", 400, "'limit' must be an integer from 1 to 50"},
      {"GET", "/api/v1/datasets?limit=abc", "", 400, "'limit'"},
      {"GET", "/api/v1/datasets?limit=0", "", 400, "'limit'"},
      {"PUT", "/api/v1/datasets/ds/refs/head", R"({"expected":null})", 400, "missing field"},
      {"PUT", "/api/v1/datasets/ds/refs/head", R"({"desired":"abc"})", 400, "64 hex digits"},
      {"PUT", "/api/v1/datasets/ds/refs/head", R"({"desired":7})", 400, "commit id"},
      {"PUT", "/api/v1/datasets/ds/refs/head", R"({"desired":")" + std::string(64, 'a') + "\"}",
       412, "not in the store"},
      {"PUT", "/api/v1/datasets/ds/grants", R"({"subject":"bob","access":"read"})", 400,
       "user:NAME"},
      {"PUT", "/api/v1/datasets/ds/grants", R"({"subject":"user:bob","access":"all"})", 400,
       "'read', 'write' or 'admin'"},
      {"PUT", "/api/v1/datasets/ds/grants", R"({"subject":"user:ghost","access":"read"})", 404,
       "ghost"},
      {"GET", "/api/v1/objects/not-a-key", "", 400, "object key"},
      {"PUT", "/api/v1/objects/" + commit_key_, "different bytes", 422, "do not hash"},
      {"PUT", "/api/v1/objects/config", "x", 403, "owns its store's config"},
      {"GET", "/api/v1/objects/" + commit_key_ + "?offset=-1", "", 400, "'offset'"},
      {"GET", "/api/v1/nope", "", 404, "no such endpoint"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path.substr(0, 80) + " " + c.body.substr(0, 80));
    auto [s, body] = Call(owner, c.method, c.path, c.body);
    EXPECT_EQ(s, c.status) << body;
    json doc = json::parse(body, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << body;
    EXPECT_NE(doc["error"].value("message", "").find(c.message), std::string::npos) << body;
  }
  // An object over the size limit is refused before it is read.
  auto [big, bb] = Call(tokens_["writer"], "PUT", "/api/v1/objects/" + commit_key_,
                        std::string((1 << 20) + 1, 'x'));
  EXPECT_EQ(big, 413);
  EXPECT_EQ(Code(bb), "InvalidArgument");
  // Malformed tokens and headers.
  auto [s1, b1] = Call("", "GET", "/api/v1/whoami", "", {{"Authorization", "Basic abc"}});
  EXPECT_EQ(s1, 401);
  EXPECT_NE(b1.find("Bearer"), std::string::npos);
  auto [s2, b2] = Call("pxm_short", "GET", "/api/v1/whoami");
  EXPECT_EQ(s2, 401);
  EXPECT_NE(b2.find("malformed token"), std::string::npos);
}

TEST_F(HubApiTest, ExpiredRevokedAndOrphanedTokensAreRefused) {
  auto [s, body] = Call(tokens_["spare"], "POST", "/api/v1/users/spare/tokens",
                        R"({"description":"short","expires_in_seconds":60})");
  ASSERT_EQ(s, 201);
  std::string short_lived = json::parse(body)["token"];
  std::string id = json::parse(body)["id"];
  EXPECT_EQ(Call(short_lived, "GET", "/api/v1/whoami").first, 200);
  clock_.Advance(61'000'000'000);
  auto [se, be] = Call(short_lived, "GET", "/api/v1/whoami");
  EXPECT_EQ(se, 401);
  EXPECT_NE(be.find("expired"), std::string::npos);

  // Listing shows tokens without their secrets.
  auto [sl, list] = Call(tokens_["spare"], "GET", "/api/v1/users/spare/tokens");
  EXPECT_EQ(list.find(short_lived), std::string::npos);
  EXPECT_NE(list.find(id), std::string::npos);

  EXPECT_EQ(Call(tokens_["spare"], "DELETE", "/api/v1/tokens/" + TokenIdOf(tokens_["spare"])).first,
            200);
  auto [sr, br] = Call(tokens_["spare"], "GET", "/api/v1/whoami");
  EXPECT_EQ(sr, 401);
  EXPECT_NE(br.find("revoked"), std::string::npos);

  ASSERT_EQ(Call(admin_, "DELETE", "/api/v1/users/reader").first, 200);
  auto [sd, bd] = Call(tokens_["reader"], "GET", "/api/v1/whoami");
  EXPECT_EQ(sd, 401);  // the token went with its user
  EXPECT_EQ(Code(bd), "Unauthenticated");
}

TEST_F(HubApiTest, TheAuditLogRecordsWhoDidWhat) {
  std::string commit_id = commit_key_.substr(commit_key_.rfind('/') + 1);
  ASSERT_EQ(Call(tokens_["writer"], "PUT", "/api/v1/datasets/ds/refs/head",
                 R"({"expected":null,"desired":")" + commit_id + "\"}")
                .first,
            200);
  ASSERT_EQ(Call(tokens_["owner"], "DELETE", "/api/v1/datasets/victim").first, 200);
  auto [s, body] = Call(admin_, "GET", "/api/v1/audit?limit=50");
  ASSERT_EQ(s, 200);
  std::vector<std::string> seen;
  const json log = json::parse(body);
  for (const json& a : log["items"]) {
    seen.push_back(a["actor"].get<std::string>() + " " + a["action"].get<std::string>() + " " +
                   a["object"].get<std::string>());
  }
  auto has = [&](const std::string& line) {
    return std::find(seen.begin(), seen.end(), line) != seen.end();
  };
  EXPECT_TRUE(has("owner dataset.create dataset:ds"));
  EXPECT_TRUE(has("owner grant.set dataset:ds"));
  EXPECT_TRUE(has("writer ref.update dataset:ds"));
  EXPECT_TRUE(has("owner dataset.delete dataset:victim"));
  EXPECT_TRUE(has("admin user.create user:owner"));
  EXPECT_EQ(seen.front(), "owner dataset.delete dataset:victim");  // newest first
  // Paging by id.
  auto [s2, page] = Call(admin_, "GET", "/api/v1/audit?limit=2");
  json p = json::parse(page);
  ASSERT_EQ(p["items"].size(), 2u);
  ASSERT_TRUE(p["next"].is_string());
  auto [s3, page2] =
      Call(admin_, "GET", "/api/v1/audit?limit=2&before=" + p["next"].get<std::string>());
  EXPECT_LT(json::parse(page2)["items"][0]["id"].get<int64_t>(),
            p["items"][1]["id"].get<int64_t>());
}

// A pack built from `contents`, as the client would upload it.
struct BuiltPack {
  std::string key, bytes;
  ObjectId id;
  std::vector<PackedBlob> blobs;
};
BuiltPack BuildPack(const std::vector<std::string>& contents) {
  PackBuilder builder;
  for (const std::string& c : contents) builder.Add(Sha256(c), c, false);
  BuiltPack p;
  AlignedBuffer bytes = builder.Finish(&p.blobs, AlignedBuffer(), &p.id);
  p.bytes.assign(bytes.data(), bytes.size());
  p.key = ObjectKey(ObjectKind::kPack, p.id);
  return p;
}

class HubVerifyBeforeTest : public HubApiTest {
 protected:
  HubVerifyBeforeTest() { verify_ = ServerOptions::VerifyUploads::kBlobs; }
};

class HubVerifyBehindTest : public HubApiTest {
 protected:
  HubVerifyBehindTest() { verifier_thread_ = false; }  // run by hand: VerifyUploadsNow

  // key -> pending, in `user`'s listing of the index objects.
  std::map<std::string, bool> Indexes(const std::string& user) {
    auto [s, body] = Call(tokens_[user], "GET", "/api/v1/objects?prefix=index/");
    EXPECT_EQ(s, 200) << body;
    std::map<std::string, bool> out;
    json doc = json::parse(body);
    for (const json& item : doc["items"]) {
      out[item.value("key", "")] = item.value("pending", false);
    }
    return out;
  }
};

TEST_F(HubVerifyBehindTest, APackIsUsableAtOnceAndTrustedOnlyOnceVerified) {
  const std::string& writer = tokens_["writer"];
  BuiltPack good = BuildPack({"blob one", "blob two"});
  // A liar: its trailer says "blob three" is stored, its bytes are others.
  BuiltPack bad = BuildPack({"blob three", "blob four"});
  size_t at = bad.bytes.find("blob three");
  ASSERT_NE(at, std::string::npos);
  bad.bytes[at] = 'X';
  for (const BuiltPack* p : {&good, &bad}) {
    auto [s, b] = Call(writer, "PUT", "/api/v1/objects/" + p->key, p->bytes);
    ASSERT_EQ(s, 201) << b;  // the trailer is all that is checked now
  }
  std::string good_index = EncodeIndex({{good.id, good.blobs}});
  std::string bad_index = EncodeIndex({{bad.id, bad.blobs}});
  std::string good_index_key = ObjectKey(ObjectKind::kIndex, Sha256(good_index));
  std::string bad_index_key = ObjectKey(ObjectKind::kIndex, Sha256(bad_index));
  ASSERT_EQ(Call(writer, "PUT", "/api/v1/objects/" + good_index_key, good_index).first, 201);
  ASSERT_EQ(Call(writer, "PUT", "/api/v1/objects/" + bad_index_key, bad_index).first, 201);
  // An index must still match the trailers of the packs it lists.
  std::vector<PackedBlob> forged = good.blobs;
  forged[0].id = Sha256("a blob someone else will upload later");
  std::string lie = EncodeIndex({{good.id, forged}});
  EXPECT_EQ(
      Call(writer, "PUT", "/api/v1/objects/" + ObjectKey(ObjectKind::kIndex, Sha256(lie)), lie)
          .first,
      422);

  // Pending: never at the pack's key, but served from where it waits.
  EXPECT_TRUE(store_->Size(good.key).status().IsNotFound());
  auto [gs, got] = Call(tokens_["reader"], "GET", "/api/v1/objects/" + good.key);
  EXPECT_EQ(gs, 200);
  EXPECT_TRUE(got == good.bytes);
  auto [rs, range] =
      Call(tokens_["reader"], "GET",
           "/api/v1/objects/" + good.key + "?offset=" + std::to_string(good.blobs[1].offset) +
               "&length=" + std::to_string(good.blobs[1].stored_length));
  EXPECT_EQ(rs, 200);
  EXPECT_EQ(range, "blob two");
  // A range past the end is cut at the end; one beyond it is empty.
  const std::string at_end = "/api/v1/objects/" + good.key +
                             "?offset=" + std::to_string(good.bytes.size() - 5) + "&length=4096";
  auto [es, tail] = Call(tokens_["reader"], "GET", at_end);
  EXPECT_EQ(es, 200);
  EXPECT_EQ(tail, good.bytes.substr(good.bytes.size() - 5));
  auto [bs, beyond] =
      Call(tokens_["reader"], "GET",
           "/api/v1/objects/" + good.key + "?offset=" + std::to_string(good.bytes.size() + 10));
  EXPECT_EQ(bs, 200);
  EXPECT_EQ(beyond, "");
  // A Range header goes to the library, which answers within the object.
  for (const std::string& range :
       {std::string("bytes=2-5"), "bytes=" + std::to_string(good.bytes.size() + 100) + "-"}) {
    auto [hs, part] =
        Call(tokens_["reader"], "GET", "/api/v1/objects/" + good.key, {}, {{"Range", range}});
    // Never bytes from outside it: the range, the whole object, or nothing.
    EXPECT_TRUE(hs == 200 || hs == 206 || hs == 416) << range << ": " << hs;
    EXPECT_TRUE(part == good.bytes.substr(2, 4) || part == good.bytes || part.empty())
        << range << ": " << part.size() << " bytes";
  }
  // Others see both indexes as pending; their uploader does not.
  auto theirs = Indexes("reader");
  EXPECT_TRUE(theirs[good_index_key]);
  EXPECT_TRUE(theirs[bad_index_key]);
  auto own = Indexes("writer");
  EXPECT_FALSE(own[good_index_key]);
  EXPECT_EQ(own.count(bad_index_key), 1u);
  EXPECT_FALSE(own[bad_index_key]);

  ASSERT_TRUE(server_->VerifyUploadsNow().ok());
  // The honest pack is in place and its index trusted by everyone.
  EXPECT_EQ(*store_->Get(good.key), good.bytes);
  theirs = Indexes("reader");
  EXPECT_FALSE(theirs[good_index_key]);
  // The liar's pack is gone; its index stays pending for the grace period
  // (an index may still be on its way when its pack fails), then goes.
  EXPECT_EQ(Call(admin_, "GET", "/api/v1/objects/" + bad.key).first, 404);
  EXPECT_TRUE(theirs[bad_index_key]);
  clock_.Advance(int64_t{11} * 60 * 1'000'000'000);
  ASSERT_TRUE(server_->VerifyUploadsNow().ok());
  theirs = Indexes("reader");
  EXPECT_EQ(theirs.count(bad_index_key), 0u);
  EXPECT_EQ(Call(admin_, "GET", "/api/v1/objects/" + bad_index_key).first, 404);
  EXPECT_TRUE(catalog_->ListUnverified()->empty());
  auto [as, audit] = Call(admin_, "GET", "/api/v1/audit?limit=50");
  ASSERT_EQ(as, 200) << audit;
  int rejected = 0;
  json entries = json::parse(audit);
  for (const json& item : entries["items"]) {
    if (item.value("action", "") == "object.reject") {
      ++rejected;
      EXPECT_EQ(item.value("actor", ""), "writer");
    }
  }
  EXPECT_EQ(rejected, 2);  // the pack, and the index that listed it
  // Nothing is left waiting where the store keeps uploads.
  int incoming = 0;
  ASSERT_TRUE(store_
                  ->List("incoming/",
                         [&](const ObjectInfo&) {
                           ++incoming;
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(incoming, 0);

  // Once in place, uploading the pack again stores nothing new.
  EXPECT_EQ(Call(writer, "PUT", "/api/v1/objects/" + good.key, good.bytes).first, 201);
  EXPECT_TRUE(catalog_->ListUnverified()->empty());
}

TEST_F(HubVerifyBehindTest, AnUploadCutShortByACrashIsForgotten) {
  // What a hub killed between the catalog row and the bytes leaves.
  BuiltPack p = BuildPack({"never stored"});
  ASSERT_TRUE(
      catalog_->AddUnverified({IncomingKey(p.id), p.key, "writer", "", clock_.NowUnixNanos()})
          .ok());
  EXPECT_EQ(Call(tokens_["reader"], "GET", "/api/v1/objects/" + p.key).first, 404);
  // Its bytes may still be on their way...
  ASSERT_TRUE(server_->VerifyUploadsNow().ok());
  EXPECT_EQ(catalog_->ListUnverified()->size(), 1u);
  // ...until the grace period is over.
  clock_.Advance(int64_t{11} * 60 * 1'000'000'000);
  ASSERT_TRUE(server_->VerifyUploadsNow().ok());
  EXPECT_TRUE(catalog_->ListUnverified()->empty());
}

TEST_F(HubVerifyBeforeTest, UploadsAreVerifiedSoThatDeduplicationCannotBePoisoned) {
  const std::string& writer = tokens_["writer"];
  PackBuilder builder;
  builder.Add(Sha256("blob one"), "blob one", false);
  builder.Add(Sha256("blob two"), "blob two", false);
  std::vector<PackedBlob> blobs;
  ObjectId pack_id;
  AlignedBuffer pack = builder.Finish(&blobs, AlignedBuffer(), &pack_id);
  std::string pack_bytes(pack.data(), pack.size());
  std::string pack_key = ObjectKey(ObjectKind::kPack, pack_id);

  // A pack whose content does not match its trailer is refused.
  std::string damaged = pack_bytes;
  damaged[10] ^= 1;
  auto [sd, bd] = Call(writer, "PUT", "/api/v1/objects/" + pack_key, damaged);
  EXPECT_EQ(sd, 422) << bd;
  // An index may only list packs the store holds...
  std::string index = EncodeIndex({{pack_id, blobs}});
  std::string index_key = ObjectKey(ObjectKind::kIndex, Sha256(index));
  auto [s1, b1] = Call(writer, "PUT", "/api/v1/objects/" + index_key, index);
  EXPECT_EQ(s1, 412) << b1;
  EXPECT_NE(b1.find("upload packs first"), std::string::npos);
  ASSERT_EQ(Call(writer, "PUT", "/api/v1/objects/" + pack_key, pack_bytes).first, 201);
  // ...and only with the blobs those packs really hold, where they hold them.
  std::vector<PackedBlob> forged = blobs;
  forged[0].id = Sha256("a blob someone else will upload later");
  std::string lie = EncodeIndex({{pack_id, forged}});
  auto [s2, b2] =
      Call(writer, "PUT", "/api/v1/objects/" + ObjectKey(ObjectKind::kIndex, Sha256(lie)), lie);
  EXPECT_EQ(s2, 422) << b2;
  EXPECT_NE(b2.find("does not match pack"), std::string::npos);
  EXPECT_EQ(Call(writer, "PUT", "/api/v1/objects/" + index_key, index).first, 201);
}

// Bodies of 256 KiB and more are read from the socket directly (server/
// socket_body.h): the bytes must arrive whole, the connection must carry the
// next request, and a body cut short must store nothing.
TEST_F(HubApiTest, LargeBodiesArriveWholeAndACutOneStoresNothing) {
  const std::string& writer = tokens_["writer"];
  // Through curl, then written straight from the caller's buffer (the hub
  // client's way).
  for (bool direct : {false, true}) {
    SCOPED_TRACE(direct ? "direct" : "curl");
    HttpClient::Options options;
    options.direct_large_bodies = direct;
    http_ = std::make_unique<HttpClient>(options);
    for (size_t size : {size_t{256} << 10, (size_t{600} << 10) + 7 + direct}) {
      std::string bytes(size, '\0');
      uint64_t x = size;
      for (char& c : bytes) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        c = static_cast<char>(x >> 56);
      }
      std::string key = ObjectKey(ObjectKind::kCommit, Sha256(bytes));
      auto [s, b] = Call(writer, "PUT", "/api/v1/objects/" + key, bytes);
      ASSERT_EQ(s, 201) << b;
      // The same keep-alive connection serves the next requests.
      auto [gs, got] = Call(writer, "GET", "/api/v1/objects/" + key);
      ASSERT_EQ(gs, 200);
      EXPECT_TRUE(got == bytes) << "the stored object differs from the upload";
      std::string damaged = bytes;
      damaged[damaged.size() / 2] ^= 1;
      auto [ds, db] = Call(writer, "PUT", "/api/v1/objects/" + key, damaged);
      EXPECT_EQ(ds, 422);
      EXPECT_EQ(Code(db), "Corruption") << db;
    }
    // Over the hub's limit: answered before the body is read, which the
    // direct writer cannot see; the answer still arrives whole.
    std::string huge((size_t{3} << 20) + 1, 'h');
    auto [hs, hb] = Call(writer, "PUT",
                         "/api/v1/objects/" + ObjectKey(ObjectKind::kCommit, Sha256(huge)), huge);
    EXPECT_EQ(hs, 413) << hb;
    EXPECT_NE(hb.find("max_object_bytes"), std::string::npos) << hb;
    // Each accepted or refused body of the loop went directly, or none did.
    if (direct) {
      EXPECT_GE(http_->direct_bodies_sent(), 4u);
    } else {
      EXPECT_EQ(http_->direct_bodies_sent(), 0u);
    }
  }

  // They were read from the socket, not through the library.
  auto [ms, metrics] = Call(admin_, "GET", "/metrics");
  ASSERT_EQ(ms, 200);
  size_t at = metrics.find("\nproxima_socket_body_bytes_total ");
  ASSERT_NE(at, std::string::npos) << metrics;
  // 2 x 1,712 KiB were sent; the library hands on at most 4 KiB of each body.
  EXPECT_GT(std::stoull(metrics.substr(at + 33)), uint64_t{2 * 1712 - 8 * 4} << 10);

  // A client that promises 400 KiB, sends 300 KiB and hangs up.
  std::string bytes(400 << 10, 'x');
  std::string key = ObjectKey(ObjectKind::kCommit, Sha256(bytes));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string head = "PUT /api/v1/objects/" + key +
                     " HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer " + writer +
                     "\r\nContent-Length: " + std::to_string(bytes.size()) + "\r\n\r\n";
  std::string sent = head + bytes.substr(0, 300 << 10);
  for (size_t done = 0; done < sent.size();) {
    ssize_t n = send(fd, sent.data() + done, sent.size() - done, MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    done += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  char reply[512];
  while (recv(fd, reply, sizeof(reply), 0) > 0) {
  }
  close(fd);
  EXPECT_EQ(Call(admin_, "GET", "/api/v1/objects/" + key).first, 404);
  // The hub still serves everyone else.
  EXPECT_EQ(Call(writer, "GET", "/api/v1/objects/" + commit_key_).first, 200);
}

TEST_F(HubApiTest, ABatchStoresManySmallObjectsEachVerified) {
  const std::string& writer = tokens_["writer"];
  std::vector<std::pair<std::string, std::string>> trees;
  for (int i = 0; i < 300; ++i) {
    std::string bytes = "tree number " + std::to_string(i);
    trees.emplace_back(ObjectKey(ObjectKind::kTree, Sha256(bytes)), bytes);
  }
  auto [s, body] = Call(writer, "POST", "/api/v1/objects/batch", Batch(trees));
  ASSERT_EQ(s, 201) << body;
  EXPECT_EQ(json::parse(body).value("stored", 0), 300);
  for (const auto& [key, bytes] : trees) EXPECT_EQ(*store_->Get(key), bytes);

  // Each object must hash to its key; the error names the one that does not.
  std::string liar = ObjectKey(ObjectKind::kTree, Sha256("what the key says"));
  auto [bs, bad] =
      Call(writer, "POST", "/api/v1/objects/batch", Batch({trees[0], {liar, "other bytes"}}));
  EXPECT_EQ(bs, 422) << bad;
  EXPECT_NE(bad.find(liar), std::string::npos) << bad;
  EXPECT_TRUE(store_->Get(liar).status().IsNotFound());
  // Packs and the config are not batched; a body cut short says so.
  BuiltPack pack = BuildPack({"x"});
  EXPECT_EQ(Call(writer, "POST", "/api/v1/objects/batch", Batch({{pack.key, pack.bytes}})).first,
            400);
  std::string cut = Batch(trees);
  cut.resize(cut.size() - 3);
  auto [cs, cb] = Call(writer, "POST", "/api/v1/objects/batch", cut);
  EXPECT_EQ(cs, 400);
  EXPECT_NE(cb.find("cut short"), std::string::npos) << cb;
  EXPECT_EQ(Call(writer, "POST", "/api/v1/objects/batch", "").first, 400);
}

TEST_F(HubApiTest, PagingThroughAKindOfObjectsSeesEachKeyOnceInOrder) {
  std::vector<std::string> keys;
  for (int i = 0; i < 9; ++i) {
    std::string bytes = "tree " + std::to_string(i);
    keys.push_back(ObjectKey(ObjectKind::kTree, Sha256(bytes)));
    ASSERT_EQ(Call(tokens_["writer"], "PUT", "/api/v1/objects/" + keys.back(), bytes).first, 201);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> seen;
  std::string after;
  for (int pages = 0; pages < 20; ++pages) {
    auto [s, body] = Call(admin_, "GET", "/api/v1/objects?prefix=trees/&limit=2&after=" + after);
    ASSERT_EQ(s, 200) << body;
    json page = json::parse(body);
    for (const json& item : page["items"]) seen.push_back(item.value("key", ""));
    if (!page["next"].is_string()) break;
    after = page["next"].get<std::string>();
  }
  EXPECT_EQ(seen, keys);
}

TEST(HubJsonTest, StringsAppendedAsTextMatchADumpedJson) {
  for (std::string s :
       {std::string("ds-01.v2"), std::string("quote\" back\\ nl\n"), std::string("ctl\x01 del\x7f"),
        std::string("caf\xc3\xa9"), std::string("bad \xff utf-8"), std::string()}) {
    std::string out = "[";
    api::AppendJsonString(&out, s);
    EXPECT_EQ(out, "[" + api::DumpJson(json(s))) << s;
  }
}

TEST_F(HubApiTest, EveryListIsPaged) {
  std::string commit_id = commit_key_.substr(commit_key_.rfind('/') + 1);
  ASSERT_EQ(Call(tokens_["owner"], "POST", "/api/v1/datasets", R"({"name":"extra"})").first, 201);
  ASSERT_EQ(Call(tokens_["writer"], "PUT",
                 "/api/v1/objects/" + ObjectKey(ObjectKind::kTree, Sha256("another object")),
                 "another object")
                .first,
            201);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Call(tokens_["writer"], "PUT", "/api/v1/datasets/ds/refs/tags/t" + std::to_string(i),
                   R"({"expected":null,"desired":")" + commit_id + "\"}")
                  .first,
              200);
  }
  for (const std::string& path :
       {std::string("/api/v1/datasets/ds/refs"), std::string("/api/v1/users"),
        std::string("/api/v1/datasets"), std::string("/api/v1/objects?prefix=")}) {
    SCOPED_TRACE(path);
    std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    std::vector<std::string> seen;
    std::string after;
    int pages = 0;
    while (true) {
      auto [s, body] = Call(admin_, "GET", path + sep + "limit=2&after=" + after);
      ASSERT_EQ(s, 200) << body;
      json page = json::parse(body);
      // Lists written as text read exactly as a dumped Json would.
      EXPECT_EQ(body, page.dump() + "\n");
      ASSERT_LE(page["items"].size(), 2u);
      for (const json& item : page["items"]) seen.push_back(item.dump());
      ++pages;
      if (!page["next"].is_string()) break;
      after = page["next"].get<std::string>();
    }
    EXPECT_GE(pages, 2);
    std::vector<std::string> unique = seen;
    std::sort(unique.begin(), unique.end());
    EXPECT_EQ(std::unique(unique.begin(), unique.end()), unique.end()) << "an item came twice";
  }
  auto [s, all] = Call(admin_, "GET", "/api/v1/datasets/ds/refs?limit=50");
  EXPECT_EQ(json::parse(all)["items"].size(), 5u);
}

}  // namespace
}  // namespace proxima
