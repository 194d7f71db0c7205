#pragma once

#include <optional>
#include <string>

namespace proxima::testing {

// The PostgreSQL server of the test run (scripts/services/pg-start writes
// PROXIMA_PG_URL, a URL of its maintenance database, into the environment of
// the pg.* tests). Each call creates a fresh database and returns its URL.
// Without a server it returns nothing, so the test skips; with
// PROXIMA_REQUIRE_PG=1 (ctest's pg.* tests) that is a failure instead.
std::optional<std::string> PgTestDatabaseUrl();

}  // namespace proxima::testing
