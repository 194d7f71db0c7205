// The Catalog contract (ports/catalog.h) beyond refs, run against SQLite and
// a real PostgreSQL server.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "catalog_factories.h"
#include "pg_test_util.h"
#include "proxima/adapters/sql_catalog.h"
#include "proxima/adapters/sql_database.h"
#include "test_util.h"

namespace proxima {
namespace {

using Factories = CatalogFactories;
TYPED_TEST_SUITE(CatalogConformance, Factories, Names);

TYPED_TEST(CatalogConformance, UsersAreCreatedListedByPageAndDeleted) {
  for (const char* n : {"carol", "alice", "bob", "dave"}) {
    ASSERT_TRUE(this->c().CreateUser({n, std::string(n) == "alice", 42}).ok());
  }
  Status dup = this->c().CreateUser({"bob", false, 0});
  EXPECT_TRUE(dup.IsAlreadyExists());
  EXPECT_NE(dup.message().find("bob"), std::string::npos);
  auto alice = this->c().GetUser("alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_TRUE(alice->admin);
  EXPECT_EQ(alice->created_unix_ns, 42);
  auto page1 = this->c().ListUsers("", 2);
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->size(), 2u);
  EXPECT_EQ((*page1)[0].name, "alice");
  EXPECT_EQ((*page1)[1].name, "bob");
  auto page2 = this->c().ListUsers("bob", 2);
  ASSERT_EQ(page2->size(), 2u);
  EXPECT_EQ((*page2)[0].name, "carol");
  EXPECT_EQ(this->c().ListUsers("dave", 2)->size(), 0u);
  ASSERT_TRUE(this->c().DeleteUser("bob").ok());
  EXPECT_TRUE(this->c().GetUser("bob").status().IsNotFound());
  EXPECT_TRUE(this->c().DeleteUser("bob").IsNotFound());
}

TYPED_TEST(CatalogConformance, DatasetsAreReadOneByOne) {
  ASSERT_TRUE(this->c().CreateDataset("xray", 77).ok());
  auto d = this->c().GetDataset("xray");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->name, "xray");
  EXPECT_EQ(d->created_unix_ns, 77);
  Status missing = this->c().GetDataset("nope").status();
  EXPECT_TRUE(missing.IsNotFound());
  EXPECT_NE(missing.message().find("nope"), std::string::npos);
}

TYPED_TEST(CatalogConformance, TeamsHaveMembersWithRoles) {
  ASSERT_TRUE(this->c().CreateUser({"ann", false, 0}).ok());
  ASSERT_TRUE(this->c().CreateUser({"ben", false, 0}).ok());
  ASSERT_TRUE(this->c().CreateTeam({"ml", 7}).ok());
  EXPECT_TRUE(this->c().CreateTeam({"ml", 8}).IsAlreadyExists());
  ASSERT_TRUE(this->c().PutMember({"ml", "ann", TeamRole::kAdmin}).ok());
  ASSERT_TRUE(this->c().PutMember({"ml", "ben", TeamRole::kViewer}).ok());
  ASSERT_TRUE(this->c().PutMember({"ml", "ben", TeamRole::kMember}).ok());  // a role change
  EXPECT_TRUE(this->c().PutMember({"ml", "nobody", TeamRole::kMember}).IsNotFound());
  EXPECT_TRUE(this->c().PutMember({"none", "ann", TeamRole::kMember}).IsNotFound());
  auto members = this->c().ListMembers("ml");
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].user, "ann");
  EXPECT_EQ((*members)[0].role, TeamRole::kAdmin);
  EXPECT_EQ((*members)[1].role, TeamRole::kMember);
  auto teams = this->c().TeamsOfUser("ben");
  ASSERT_EQ(teams->size(), 1u);
  EXPECT_EQ((*teams)[0].team, "ml");
  ASSERT_TRUE(this->c().RemoveMember("ml", "ben").ok());
  EXPECT_TRUE(this->c().RemoveMember("ml", "ben").IsNotFound());
  EXPECT_EQ(this->c().TeamsOfUser("ben")->size(), 0u);
}

TYPED_TEST(CatalogConformance, TokensAreFoundByHashAndRevoked) {
  ASSERT_TRUE(this->c().CreateUser({"ann", false, 0}).ok());
  TokenRecord t{"tok1", "ann", "laptop", Sha256("secret"), 10, 1000, 0};
  ASSERT_TRUE(this->c().CreateToken(t).ok());
  EXPECT_TRUE(this->c().CreateToken(t).IsAlreadyExists());
  TokenRecord orphan{"tok2", "ghost", "", Sha256("other"), 0, 0, 0};
  EXPECT_TRUE(this->c().CreateToken(orphan).IsNotFound());
  auto found = this->c().FindToken(Sha256("secret"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, "tok1");
  EXPECT_EQ(found->user, "ann");
  EXPECT_EQ(found->description, "laptop");
  EXPECT_EQ(found->expires_unix_ns, 1000);
  EXPECT_EQ(found->revoked_unix_ns, 0);
  EXPECT_TRUE(this->c().FindToken(Sha256("wrong")).status().IsNotFound());
  ASSERT_TRUE(this->c().RevokeToken("tok1", 99).ok());
  EXPECT_TRUE(this->c().RevokeToken("tok1", 100).ok());  // idempotent, keeps the first time
  EXPECT_EQ(this->c().FindToken(Sha256("secret"))->revoked_unix_ns, 99);
  EXPECT_TRUE(this->c().RevokeToken("nope", 1).IsNotFound());
  EXPECT_EQ(this->c().ListTokens("ann")->size(), 1u);
}

TYPED_TEST(CatalogConformance, GrantsBelongToDatasetsAndSubjects) {
  ASSERT_TRUE(this->c().CreateDataset("xray", 0).ok());
  ASSERT_TRUE(this->c().CreateDataset("audio", 0).ok());
  ASSERT_TRUE(this->c().PutGrant({"xray", "team:ml", Access::kRead}).ok());
  ASSERT_TRUE(this->c().PutGrant({"xray", "team:ml", Access::kWrite}).ok());
  ASSERT_TRUE(this->c().PutGrant({"audio", "user:ann", Access::kAdmin}).ok());
  EXPECT_TRUE(this->c().PutGrant({"nope", "user:ann", Access::kRead}).IsNotFound());
  auto grants = this->c().ListGrants("xray");
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ((*grants)[0].access, Access::kWrite);
  auto of = this->c().GrantsOf({"user:ann", "team:ml"});
  ASSERT_TRUE(of.ok());
  EXPECT_EQ(of->size(), 2u);
  EXPECT_TRUE(this->c().RemoveGrant("xray", "user:ann").IsNotFound());
  ASSERT_TRUE(this->c().RemoveGrant("xray", "team:ml").ok());
  EXPECT_EQ(this->c().ListGrants("xray")->size(), 0u);
}

TYPED_TEST(CatalogConformance, DeletingCascadesToWhatDependsOnIt) {
  ASSERT_TRUE(this->c().CreateUser({"ann", false, 0}).ok());
  ASSERT_TRUE(this->c().CreateTeam({"ml", 0}).ok());
  ASSERT_TRUE(this->c().PutMember({"ml", "ann", TeamRole::kMember}).ok());
  ASSERT_TRUE(this->c().CreateToken({"t", "ann", "", Sha256("s"), 0, 0, 0}).ok());
  ASSERT_TRUE(this->c().CreateDataset("d", 0).ok());
  ASSERT_TRUE(this->c().PutGrant({"d", "user:ann", Access::kRead}).ok());
  ASSERT_TRUE(this->c().PutGrant({"d", "team:ml", Access::kRead}).ok());
  ASSERT_TRUE(this->c().CompareAndSwapRef("d", kHeadRef, std::nullopt, Sha256("c")).ok());

  ASSERT_TRUE(this->c().DeleteUser("ann").ok());
  EXPECT_TRUE(this->c().FindToken(Sha256("s")).status().IsNotFound());
  EXPECT_EQ(this->c().ListMembers("ml")->size(), 0u);
  EXPECT_EQ(this->c().ListGrants("d")->size(), 1u);
  ASSERT_TRUE(this->c().DeleteTeam("ml").ok());
  EXPECT_EQ(this->c().ListGrants("d")->size(), 0u);
  ASSERT_TRUE(this->c().DeleteDataset("d").ok());
  EXPECT_TRUE(this->c().GetRef("d", kHeadRef).status().IsNotFound());
  EXPECT_TRUE(this->c().DeleteDataset("d").IsNotFound());
  // The name is free again, with no stale ref.
  ASSERT_TRUE(this->c().CreateDataset("d", 0).ok());
  EXPECT_FALSE(this->c().GetRef("d", kHeadRef)->has_value());
}

TYPED_TEST(CatalogConformance, AuditLogIsNewestFirstByPage) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(this->c()
                    .AppendAudit({0, 100 + i, "ann", "dataset.create",
                                  "dataset:d" + std::to_string(i), "{}"})
                    .ok());
  }
  auto page = this->c().ListAudit(0, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].object, "dataset:d4");
  EXPECT_EQ((*page)[2].object, "dataset:d2");
  EXPECT_GT((*page)[0].id, (*page)[1].id);
  auto next = this->c().ListAudit((*page)[2].id, 3);
  ASSERT_EQ(next->size(), 2u);
  EXPECT_EQ((*next)[1].object, "dataset:d0");
  EXPECT_EQ((*next)[1].unix_ns, 100);
  auto counts = this->c().Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->audit, 5);
}

TYPED_TEST(CatalogConformance, UnverifiedUploadsAreKeptUntilRemoved) {
  Catalog& c = this->c();
  ASSERT_TRUE(c.AddUnverified({"incoming/p.1", "data/aa/p", "ann", "", 20}).ok());
  ASSERT_TRUE(c.AddUnverified({"incoming/p.2", "data/aa/p", "bob", "", 10}).ok());
  ASSERT_TRUE(c.AddUnverified({"index/i", "", "ann", "data/aa/p data/bb/q", 30}).ok());
  auto all = c.ListUnverified();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, "incoming/p.2");  // oldest first
  EXPECT_EQ((*all)[2].packs, "data/aa/p data/bb/q");
  auto copies = c.UnverifiedCopies("data/aa/p");
  ASSERT_TRUE(copies.ok());
  ASSERT_EQ(copies->size(), 2u);
  EXPECT_EQ((*copies)[1].uploader, "ann");
  EXPECT_TRUE(c.UnverifiedCopies("data/cc/r")->empty());
  // A key is recorded once: a second upload cannot take the row over.
  EXPECT_TRUE(c.AddUnverified({"index/i", "", "eve", "data/bb/q", 40}).IsAlreadyExists());
  ASSERT_TRUE(c.RemoveUnverified("incoming/p.2").ok());
  ASSERT_TRUE(c.RemoveUnverified("incoming/never").ok());
  all = c.ListUnverified();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].uploader, "ann");
  EXPECT_EQ((*all)[1].packs, "data/aa/p data/bb/q");
}

TYPED_TEST(CatalogConformance, ConcurrentWritersAllLand) {
  ASSERT_TRUE(this->c().CreateDataset("d", 0).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string tag = "tags/t" + std::to_string(t) + "-" + std::to_string(i);
        if (!this->c().CompareAndSwapRef("d", tag, std::nullopt, Sha256(tag)).ok()) ++failures;
        if (!this->c().AppendAudit({0, i, "u", "a", tag, ""}).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(this->c().ListRefs("d")->size(), 80u);
  EXPECT_EQ(this->c().Counts()->audit, 80);
}

VolumeRecord Vol(const std::string& name) {
  VolumeRecord v;
  v.name = name;
  v.path = "/" + name;
  return v;
}

TYPED_TEST(CatalogConformance, VolumesAreNamedOnceAndKeepTheirPolicy) {
  VolumeRecord v{"nfs1", "/mnt/nfs1", "onprem", 5'000'000'000, 3600'000'000'000, 0.85, 0.6, 7};
  ASSERT_TRUE(this->c().CreateVolume(v).ok());
  EXPECT_TRUE(this->c().CreateVolume(v).IsAlreadyExists());
  auto got = this->c().GetVolume("nfs1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, "/mnt/nfs1");
  EXPECT_EQ(got->resource, "onprem");
  EXPECT_EQ(got->capacity_bytes, 5'000'000'000u);
  EXPECT_EQ(got->ttl_ns, 3600'000'000'000);
  EXPECT_DOUBLE_EQ(got->high, 0.85);
  EXPECT_DOUBLE_EQ(got->low, 0.6);
  Status missing = this->c().GetVolume("nfs2").status();
  EXPECT_TRUE(missing.IsNotFound());
  EXPECT_NE(missing.message().find("nfs2"), std::string::npos);
  ASSERT_TRUE(this->c().CreateVolume(Vol("a0")).ok());
  auto all = this->c().ListVolumes();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "a0");
  EXPECT_EQ((*all)[0].ttl_ns, kDefaultCacheTtlNs);
}

TYPED_TEST(CatalogConformance, CacheRowsMoveOnlyByCompareAndSwap) {
  ASSERT_TRUE(this->c().CreateVolume(Vol("v")).ok());
  CacheRecord row;
  row.volume = "v";
  row.dataset = "xray";
  row.commit = Sha256("c1");
  row.created_unix_ns = 5;
  EXPECT_TRUE(this->c().GetCache("v", "xray", row.commit)->has_value() == false);
  auto v1 = this->c().PutCache(row);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(*v1, 1);
  // A second insert of the same cache loses.
  EXPECT_EQ(this->c().PutCache(row).status().code(), StatusCode::kFailedPrecondition);
  row.version = *v1;
  row.state = CacheState::kFilling;
  row.done_bytes = 10;
  auto v2 = this->c().PutCache(row);
  ASSERT_TRUE(v2.ok());
  // A writer holding the old version loses, and the row is as the winner left it.
  row.state = CacheState::kFailed;
  EXPECT_EQ(this->c().PutCache(row).status().code(), StatusCode::kFailedPrecondition);
  auto got = this->c().GetCache("v", "xray", row.commit);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->state, CacheState::kFilling);
  EXPECT_EQ((*got)->done_bytes, 10u);
  EXPECT_EQ((*got)->version, *v2);
  EXPECT_EQ((*got)->created_unix_ns, 5);
  // Deletion is conditional too; a volume with caches cannot go.
  EXPECT_EQ(this->c().DeleteCache("v", "xray", row.commit, *v1).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->c().DeleteVolume("v").code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(this->c().DeleteCache("v", "xray", row.commit, *v2).ok());
  EXPECT_TRUE(this->c().DeleteVolume("v").ok());
  EXPECT_TRUE(this->c().DeleteVolume("v").IsNotFound());
  // A cache on an unknown volume names it.
  row.version = 0;
  Status unknown = this->c().PutCache(row).status();
  EXPECT_TRUE(unknown.IsNotFound()) << unknown.ToString();
}

TYPED_TEST(CatalogConformance, OneOfManyRacingClaimsWins) {
  ASSERT_TRUE(this->c().CreateVolume(Vol("v")).ok());
  CacheRecord row;
  row.volume = "v";
  row.dataset = "d";
  row.commit = Sha256("c");
  ASSERT_TRUE(this->c().PutCache(row).ok());
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      CacheRecord mine = row;
      mine.version = 1;
      mine.state = CacheState::kFilling;
      if (this->c().PutCache(mine).ok()) ++wins;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
}

TYPED_TEST(CatalogConformance, QuotasAndTheTeamOfACache) {
  ASSERT_TRUE(this->c().CreateVolume(Vol("v")).ok());
  ASSERT_TRUE(this->c().PutQuota({"v", "ml", 5000}).ok());
  ASSERT_TRUE(this->c().PutQuota({"v", "cv", 7000}).ok());
  ASSERT_TRUE(this->c().PutQuota({"v", "ml", 6000}).ok());  // replaces
  auto quotas = this->c().ListQuotas("v");
  ASSERT_TRUE(quotas.ok());
  ASSERT_EQ(quotas->size(), 2u);
  EXPECT_EQ((*quotas)[0].team, "cv");
  EXPECT_EQ((*quotas)[1].bytes, 6000u);
  ASSERT_TRUE(this->c().PutQuota({"v", "cv", 0}).ok());  // removes
  EXPECT_EQ(this->c().ListQuotas("v")->size(), 1u);
  EXPECT_TRUE(this->c().PutQuota({"nope", "ml", 1}).IsNotFound());
  CacheRecord row;
  row.volume = "v";
  row.dataset = "d";
  row.commit = Sha256("c");
  row.team = "ml";
  ASSERT_TRUE(this->c().PutCache(row).ok());
  EXPECT_EQ((*this->c().GetCache("v", "d", row.commit))->team, "ml");
}

TYPED_TEST(CatalogConformance, LeasesRenewAndGo) {
  ASSERT_TRUE(this->c().CreateVolume(Vol("v")).ok());
  LeaseRecord lease{"l1", "v", "d", Sha256("c"), "job 7", 100};
  ASSERT_TRUE(this->c().PutLease(lease).ok());
  lease.expires_unix_ns = 200;
  ASSERT_TRUE(this->c().PutLease(lease).ok());
  auto leases = this->c().ListLeases("v");
  ASSERT_TRUE(leases.ok());
  ASSERT_EQ(leases->size(), 1u);
  EXPECT_EQ((*leases)[0].expires_unix_ns, 200);
  EXPECT_EQ((*leases)[0].holder, "job 7");
  EXPECT_EQ((*leases)[0].commit, Sha256("c"));
  EXPECT_TRUE(this->c().DeleteLease("l1").ok());
  EXPECT_TRUE(this->c().DeleteLease("l1").IsNotFound());
  EXPECT_TRUE(this->c().PutLease({"l2", "nope", "d", Sha256("c"), "x", 1}).IsNotFound());
}

TEST(SqliteCatalog, UpgradesTheCatalogOfEarlierReleases) {
  testing::TempDir dir;
  std::string path = dir.path() + "/catalog.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string id = Sha256("c").Hex();
    std::string sql =
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE datasets(name TEXT PRIMARY KEY, created_unix_ns INTEGER NOT NULL);"
        "CREATE TABLE refs(dataset TEXT NOT NULL REFERENCES datasets(name), name TEXT NOT NULL,"
        " commit_id TEXT NOT NULL, PRIMARY KEY(dataset, name));"
        "INSERT INTO meta VALUES('schema_version', '1');"
        "INSERT INTO datasets VALUES('old', 5);"
        "INSERT INTO refs VALUES('old', 'head', '" +
        id + "');";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto catalog = OpenSqliteCatalog(path, 0);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EXPECT_EQ(**(*catalog)->GetRef("old", kHeadRef), Sha256("c"));
  EXPECT_TRUE((*catalog)->CreateUser({"ann", false, 0}).ok());
}

TEST(SqliteCatalog, RefusesACatalogFromANewerRelease) {
  testing::TempDir dir;
  std::string path = dir.path() + "/catalog.db";
  ASSERT_TRUE(OpenSqliteCatalog(path, 0).ok());
  {
    auto db = OpenSqliteDatabase(path, 1);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Query("INSERT INTO schema_migrations VALUES(999, 'future', 0)", {}).ok());
  }
  auto catalog = OpenSqliteCatalog(path, 0);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(catalog.status().message().find("upgrade Proxima"), std::string::npos);
}

TEST(PostgresCatalog, ServersOpeningTogetherMigrateOnce) {
  auto url = testing::PgTestDatabaseUrl();
  if (!url) GTEST_SKIP() << "no PostgreSQL server (see scripts/services/pg-start)";
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto c = OpenPostgresCatalog(*url, 0, 1);
      if (!c.ok()) {
        ADD_FAILURE() << c.status().ToString();
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto db = OpenPostgresDatabase(*url, 1);
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Query(
      "SELECT COUNT(*), COUNT(DISTINCT version), MAX(version) FROM schema_migrations", {});
  ASSERT_TRUE(rows.ok());
  EXPECT_GE(rows->Int(0, 0), 4);
  EXPECT_EQ(rows->Int(0, 0), rows->Int(0, 1)) << "each migration applied once";
  EXPECT_EQ(rows->Int(0, 0), rows->Int(0, 2)) << "and none skipped";
}

TEST(PostgresCatalog, UnreachableServerIsUnavailableAndNamesTheUrl) {
  auto c = OpenPostgresCatalog("postgresql://proxima:hunter2@127.0.0.1:1/nope", 0, 1);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("127.0.0.1:1/nope"), std::string::npos);
  EXPECT_EQ(c.status().message().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace proxima
