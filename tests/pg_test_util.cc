#include "pg_test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <random>

#include "proxima/adapters/sql_database.h"

namespace proxima::testing {

std::optional<std::string> PgTestDatabaseUrl() {
  const char* url = std::getenv("PROXIMA_PG_URL");
  const char* require = std::getenv("PROXIMA_REQUIRE_PG");
  if (url == nullptr || *url == '\0') {
    if (require != nullptr && std::string(require) == "1") {
      ADD_FAILURE() << "PROXIMA_REQUIRE_PG=1 but PROXIMA_PG_URL is not set: start "
                       "scripts/services/pg-start and source its env file";
    }
    return std::nullopt;
  }
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::string name;
  {
    std::lock_guard lock(mu);
    char buf[32];
    snprintf(buf, sizeof(buf), "t_%016llx", static_cast<unsigned long long>(rng()));
    name = buf;
  }
  auto admin = OpenPostgresDatabase(url, 1);
  if (!admin.ok()) {
    ADD_FAILURE() << admin.status().ToString();
    return std::nullopt;
  }
  auto created = (*admin)->Query("CREATE DATABASE " + name, {});
  if (!created.ok()) {
    ADD_FAILURE() << created.status().ToString();
    return std::nullopt;
  }
  // Same server and credentials, the new database: replace the path.
  std::string base(url);
  size_t slash = base.find('/', base.find("://") + 3);
  size_t query = base.find('?', slash == std::string::npos ? 0 : slash);
  std::string suffix = query == std::string::npos ? "" : base.substr(query);
  return base.substr(0, slash) + "/" + name + suffix;
}

}  // namespace proxima::testing
