#pragma once

// The catalogs the conformance suites run against: SQLite in a temporary
// folder, and a real PostgreSQL server (skipped when none runs; the pg.*
// ctest entries start one).

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>

#include "pg_test_util.h"
#include "proxima/adapters/sql_catalog.h"
#include "test_util.h"

namespace proxima {

class SqliteCatalogs {
 public:
  std::unique_ptr<Catalog> Make() {
    auto c = OpenSqliteCatalog(dir_.path() + "/catalog.db", 1);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

 private:
  testing::TempDir dir_;
};

class PostgresCatalogs {
 public:
  std::unique_ptr<Catalog> Make() {
    auto url = testing::PgTestDatabaseUrl();
    if (!url) return nullptr;
    auto c = OpenPostgresCatalog(*url, 1);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
};

template <typename Factory>
class CatalogConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = factory_.Make();
    if (catalog_ == nullptr) GTEST_SKIP() << "no PostgreSQL server (see scripts/services/pg-start)";
  }
  Catalog& c() { return *catalog_; }
  Factory factory_;
  std::unique_ptr<Catalog> catalog_;
};

struct Names {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteCatalogs> ? "Sqlite" : "Postgres";
  }
};
using CatalogFactories = ::testing::Types<SqliteCatalogs, PostgresCatalogs>;

}  // namespace proxima
