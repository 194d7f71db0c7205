// The RefStore contract (ports/ref_store.h), run against every adapter.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "pg_test_util.h"
#include "proxima/adapters/memory_ref_store.h"
#include "proxima/adapters/sql_catalog.h"
#include "test_util.h"

namespace proxima {
namespace {

class MemoryRefs {
 public:
  std::unique_ptr<RefStore> Make() { return std::make_unique<MemoryRefStore>(); }
};

class SqliteRefs {
 public:
  std::unique_ptr<RefStore> Make() {
    auto refs = OpenSqliteCatalog(dir_.path() + "/catalog.db", 0);
    EXPECT_TRUE(refs.ok()) << refs.status().ToString();
    return std::move(refs).value();
  }

 private:
  testing::TempDir dir_;
};

// A fresh database on the real PostgreSQL of the test run; skipped without one.
class PostgresRefs {
 public:
  std::unique_ptr<RefStore> Make() {
    auto url = testing::PgTestDatabaseUrl();
    if (!url) return nullptr;
    auto refs = OpenPostgresCatalog(*url, 0);
    EXPECT_TRUE(refs.ok()) << refs.status().ToString();
    return refs.ok() ? std::move(refs).value() : nullptr;
  }
};

template <typename Factory>
class RefStoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    refs_ = factory_.Make();
    if (refs_ == nullptr) GTEST_SKIP() << "no PostgreSQL server (see scripts/services/pg-start)";
  }
  Factory factory_;
  std::unique_ptr<RefStore> refs_;
};

struct FactoryNames {
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryRefs>) return "Memory";
    if (std::is_same_v<T, SqliteRefs>) return "Sqlite";
    return "Postgres";
  }
};

using Factories = ::testing::Types<MemoryRefs, SqliteRefs, PostgresRefs>;
TYPED_TEST_SUITE(RefStoreConformance, Factories, FactoryNames);

ObjectId Id(char c) { return Sha256(std::string(1, c)); }

TYPED_TEST(RefStoreConformance, CreatesAndListsDatasets) {
  ASSERT_TRUE(this->refs_->CreateDataset("xray", 5).ok());
  ASSERT_TRUE(this->refs_->CreateDataset("audio", 6).ok());
  EXPECT_TRUE(this->refs_->CreateDataset("xray", 7).IsAlreadyExists());
  auto list = this->refs_->ListDatasets();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "audio");
  EXPECT_EQ((*list)[1].name, "xray");
  EXPECT_EQ((*list)[1].created_unix_ns, 5);
  EXPECT_TRUE(*this->refs_->DatasetExists("xray"));
  EXPECT_FALSE(*this->refs_->DatasetExists("nope"));
}

TYPED_TEST(RefStoreConformance, UnknownDatasetIsNotFound) {
  EXPECT_TRUE(this->refs_->GetRef("nope", kHeadRef).status().IsNotFound());
  Status s = this->refs_->CompareAndSwapRef("nope", kHeadRef, std::nullopt, Id('a'));
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("nope"), std::string::npos);
}

TYPED_TEST(RefStoreConformance, CompareAndSwapMovesARef) {
  ASSERT_TRUE(this->refs_->CreateDataset("d", 0).ok());
  EXPECT_FALSE(this->refs_->GetRef("d", kHeadRef)->has_value());
  ASSERT_TRUE(this->refs_->CompareAndSwapRef("d", kHeadRef, std::nullopt, Id('a')).ok());
  EXPECT_EQ(**this->refs_->GetRef("d", kHeadRef), Id('a'));
  ASSERT_TRUE(this->refs_->CompareAndSwapRef("d", kHeadRef, Id('a'), Id('b')).ok());
  EXPECT_EQ(**this->refs_->GetRef("d", kHeadRef), Id('b'));
}

TYPED_TEST(RefStoreConformance, CompareAndSwapWithAStaleValueIsAborted) {
  ASSERT_TRUE(this->refs_->CreateDataset("d", 0).ok());
  ASSERT_TRUE(this->refs_->CompareAndSwapRef("d", kHeadRef, std::nullopt, Id('a')).ok());
  Status s = this->refs_->CompareAndSwapRef("d", kHeadRef, std::nullopt, Id('b'));
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  s = this->refs_->CompareAndSwapRef("d", kHeadRef, Id('c'), Id('b'));
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(**this->refs_->GetRef("d", kHeadRef), Id('a'));
}

TYPED_TEST(RefStoreConformance, CompareAndSwapToNothingDeletes) {
  ASSERT_TRUE(this->refs_->CreateDataset("d", 0).ok());
  ASSERT_TRUE(this->refs_->CompareAndSwapRef("d", TagRef("v1"), std::nullopt, Id('a')).ok());
  ASSERT_TRUE(this->refs_->CompareAndSwapRef("d", TagRef("v1"), Id('a'), std::nullopt).ok());
  EXPECT_FALSE(this->refs_->GetRef("d", TagRef("v1"))->has_value());
}

TYPED_TEST(RefStoreConformance, ListsRefsOfOneOrAllDatasets) {
  ASSERT_TRUE(this->refs_->CreateDataset("a", 0).ok());
  ASSERT_TRUE(this->refs_->CreateDataset("b", 0).ok());
  ASSERT_TRUE(this->refs_->CompareAndSwapRef("a", kHeadRef, std::nullopt, Id('1')).ok());
  ASSERT_TRUE(this->refs_->CompareAndSwapRef("a", TagRef("t"), std::nullopt, Id('2')).ok());
  ASSERT_TRUE(this->refs_->CompareAndSwapRef("b", kHeadRef, std::nullopt, Id('3')).ok());
  EXPECT_EQ(this->refs_->ListRefs("a")->size(), 2u);
  EXPECT_EQ(this->refs_->ListRefs("b")->size(), 1u);
  EXPECT_EQ(this->refs_->ListRefs("")->size(), 3u);
}

TYPED_TEST(RefStoreConformance, RacingSwapsHaveExactlyOneWinner) {
  ASSERT_TRUE(this->refs_->CreateDataset("d", 0).ok());
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (char c = 'a'; c < 'a' + 8; ++c) {
    threads.emplace_back([&, c] {
      Status s = this->refs_->CompareAndSwapRef("d", kHeadRef, std::nullopt, Id(c));
      if (s.ok()) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST(SqliteCatalog, RacingProcessesHaveExactlyOneWinner) {
  testing::TempDir dir;
  std::string path = dir.path() + "/catalog.db";
  {
    auto refs = OpenSqliteCatalog(path, 0);
    ASSERT_TRUE(refs.ok());
    ASSERT_TRUE((*refs)->CreateDataset("d", 0).ok());
  }
  std::vector<pid_t> children;
  for (char c = 'a'; c < 'a' + 6; ++c) {
    pid_t pid = fork();
    if (pid == 0) {
      auto refs = OpenSqliteCatalog(path, 0);
      if (!refs.ok()) _exit(2);
      Status s = (*refs)->CompareAndSwapRef("d", kHeadRef, std::nullopt, Id(c));
      _exit(s.ok() ? 0 : 1);
    }
    children.push_back(pid);
  }
  int winners = 0;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 2);
    if (WEXITSTATUS(status) == 0) ++winners;
  }
  EXPECT_EQ(winners, 1);
}

TEST(SqliteCatalog, SurvivesReopening) {
  testing::TempDir dir;
  std::string path = dir.path() + "/catalog.db";
  {
    auto refs = OpenSqliteCatalog(path, 0);
    ASSERT_TRUE((*refs)->CreateDataset("d", 0).ok());
    ASSERT_TRUE((*refs)->CompareAndSwapRef("d", kHeadRef, std::nullopt, Id('z')).ok());
  }
  auto refs = OpenSqliteCatalog(path, 0);
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(**(*refs)->GetRef("d", kHeadRef), Id('z'));
}

}  // namespace
}  // namespace proxima
