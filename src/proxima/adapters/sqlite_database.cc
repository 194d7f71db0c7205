#include <sqlite3.h>

#include <chrono>
#include <thread>
#include <unordered_map>

#include "proxima/adapters/sql_database.h"
#include "proxima/adapters/sql_pool.h"

namespace proxima {

namespace {

constexpr int kBusyTimeoutMs = 30'000;
constexpr int kTransactAttempts = 5;

Status SqliteStatus(sqlite3* db, int rc, const std::string& where) {
  std::string msg = where + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
    return Status::AlreadyExists(std::move(msg));
  }
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return Status::FailedPrecondition(std::move(msg));
  if (primary == SQLITE_FULL) return Status::ResourceExhausted(std::move(msg));
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return Status::Unavailable(std::move(msg));
  if (primary == SQLITE_READONLY || primary == SQLITE_PERM || primary == SQLITE_CANTOPEN) {
    return Status::PermissionDenied(std::move(msg));
  }
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return Status::Corruption(std::move(msg));
  }
  return Status::Internal(std::move(msg));
}

// One connection and its prepared statements.
class SqliteConnection : public SqlSession {
 public:
  SqliteConnection(sqlite3* db, const std::string& path) : db_(db), where_("catalog " + path) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  Result<SqlRows> Query(std::string_view sql, std::initializer_list<SqlParam> params) override {
    auto it = statements_.find(std::string(sql));
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
      if (rc != SQLITE_OK) return SqliteStatus(db_, rc, where_);
      it = statements_.emplace(std::string(sql), stmt).first;
    }
    sqlite3_stmt* stmt = it->second;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    int index = 0;
    for (const SqlParam& p : params) {
      ++index;
      std::string name = "$" + std::to_string(index);
      int slot = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (slot == 0) continue;  // a parameter the statement does not use
      if (const auto* s = std::get_if<std::string_view>(&p)) {
        sqlite3_bind_text(stmt, slot, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else if (const auto* i = std::get_if<int64_t>(&p)) {
        sqlite3_bind_int64(stmt, slot, *i);
      } else {
        sqlite3_bind_null(stmt, slot);
      }
    }
    SqlRows out;
    int rc;
    int columns = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      auto& row = out.rows.emplace_back();
      row.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        const unsigned char* t = sqlite3_column_text(stmt, c);
        if (t == nullptr) {
          row.emplace_back();
        } else {
          row.emplace_back(std::string(reinterpret_cast<const char*>(t),
                                       static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
    }
    if (rc != SQLITE_DONE) {
      Status s = SqliteStatus(db_, sqlite3_extended_errcode(db_), where_);
      sqlite3_reset(stmt);
      return s;
    }
    out.affected = sqlite3_changes(db_);
    sqlite3_reset(stmt);
    return out;
  }

  Status Script(std::string_view sql) override {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return SqliteStatus(nullptr, sqlite3_extended_errcode(db_), where_ + ": " + msg);
    }
    return Status::Ok();
  }

 private:
  sqlite3* db_;
  std::string where_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

class SqliteDatabase : public SqlDatabase {
 public:
  explicit SqliteDatabase(std::string path) : path_(std::move(path)) {}

  Status Init(int connections) {
    for (int i = 0; i < connections; ++i) {
      sqlite3* db = nullptr;
      int rc = sqlite3_open_v2(path_.c_str(), &db,
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                               nullptr);
      if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return Status::PermissionDenied("cannot open catalog " + path_ + ": " + msg);
      }
      sqlite3_busy_timeout(db, kBusyTimeoutMs);
      auto conn = std::make_unique<SqliteConnection>(db, path_);
      PROXIMA_RETURN_IF_ERROR(conn->Script(
          "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
      pool_.Add(std::move(conn));
    }
    return Status::Ok();
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  std::string Describe() const override { return path_; }

  Status Transact(const std::function<Status(SqlSession&)>& fn) override {
    Lease lease(&pool_);
    Status s;
    for (int attempt = 0; attempt < kTransactAttempts; ++attempt) {
      // IMMEDIATE takes the write lock up front, so that two writers never
      // both read and then fail to upgrade (SQLITE_BUSY without waiting).
      s = lease->Script("BEGIN IMMEDIATE");
      if (s.ok()) {
        s = fn(*lease);
        if (s.ok()) s = lease->Script("COMMIT");
        if (s.ok()) return s;
        IgnoreError(lease->Script("ROLLBACK"));
      }
      if (s.code() != StatusCode::kUnavailable && s.code() != StatusCode::kAborted) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(10 << attempt));
    }
    return s;
  }

  Result<SqlRows> Query(std::string_view sql, std::initializer_list<SqlParam> params) override {
    Lease lease(&pool_);
    return lease->Query(sql, params);
  }

 private:
  using Lease = FairPool<SqliteConnection>::Lease;

  std::string path_;
  FairPool<SqliteConnection> pool_;
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path, int connections) {
  auto db = std::make_unique<SqliteDatabase>(path);
  PROXIMA_RETURN_IF_ERROR(db->Init(connections < 1 ? 1 : connections));
  return std::unique_ptr<SqlDatabase>(std::move(db));
}

}  // namespace proxima
