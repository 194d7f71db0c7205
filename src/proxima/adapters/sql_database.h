#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proxima/base/result.h"

namespace proxima {

// The seam between the catalog's SQL and the database engines (SQLite,
// PostgreSQL). The catalog writes one dialect-neutral SQL: `$1`, `$2`...
// parameters, ON CONFLICT, RETURNING, TEXT and BIGINT columns.

using SqlParam = std::variant<std::nullptr_t, int64_t, std::string_view>;

struct SqlRows {
  std::vector<std::vector<std::optional<std::string>>> rows;  // NULL is nullopt
  int64_t affected = 0;  // rows changed by INSERT, UPDATE or DELETE

  bool empty() const { return rows.empty(); }
  const std::string& Text(size_t row, size_t col) const;  // "" for NULL
  int64_t Int(size_t row, size_t col) const;              // 0 for NULL or junk
};

enum class SqlDialect { kSqlite, kPostgres };

// One connection inside a transaction. Not thread-safe; only valid inside
// SqlDatabase::Transact's callback.
//
// Errors: AlreadyExists for a unique or primary key violation,
// FailedPrecondition for a foreign key violation, Aborted (retryable) for a
// serialization failure or deadlock, Unavailable for a lost connection or a
// busy database, ResourceExhausted for a full disk.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  virtual Result<SqlRows> Query(std::string_view sql, std::initializer_list<SqlParam> params) = 0;
  // Runs several ';'-separated statements without parameters (migrations).
  virtual Status Script(std::string_view sql) = 0;
};

// A pool of connections to one database. Thread-safe.
class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  virtual SqlDialect dialect() const = 0;
  virtual std::string Describe() const = 0;  // for messages: path or URL without password

  // Runs `fn` in one transaction and commits when it returns OK (rolls back
  // otherwise). A transaction that loses a serialization race (Aborted) or
  // finds the database busy is run again, a few times, from the start: `fn`
  // must have no effects outside the session.
  virtual Status Transact(const std::function<Status(SqlSession&)>& fn) = 0;

  // One statement in its own (implicit) transaction.
  virtual Result<SqlRows> Query(std::string_view sql, std::initializer_list<SqlParam> params) = 0;
};

// A SQLite file in WAL mode (synchronous=FULL, foreign keys on), with a pool
// of `connections` connections.
Result<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path,
                                                        int connections = 4);

// A PostgreSQL database by libpq connection string or URL
// (postgresql://user:password@host:port/db), with a pool of `connections`.
Result<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& url,
                                                          int connections = 8);

// Applies the catalog's numbered migrations that the database lacks, in one
// transaction (under an advisory lock on PostgreSQL, so that servers starting
// together apply each once). FailedPrecondition when the database is newer
// than this program.
Status MigrateCatalogSchema(SqlDatabase& db, int64_t now_unix_ns);

}  // namespace proxima
