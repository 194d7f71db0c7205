#include <libpq-fe.h>

#include <chrono>
#include <thread>

#include "proxima/adapters/sql_database.h"
#include "proxima/adapters/sql_pool.h"

namespace proxima {

namespace {

constexpr int kTransactAttempts = 8;

// The URL without its password, for messages.
std::string Redact(const std::string& url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

Status PgStatus(PGconn* conn, const PGresult* res, const std::string& where) {
  std::string msg = where + ": ";
  const char* detail = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  msg += detail && *detail ? detail : "unknown error";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (PQstatus(conn) != CONNECTION_OK) return Status::Unavailable(std::move(msg));
  std::string state;
  if (res) {
    if (const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) state = s;
  }
  if (state == "23505") return Status::AlreadyExists(std::move(msg));
  if (state == "23503") return Status::FailedPrecondition(std::move(msg));
  if (state == "40001" || state == "40P01") return {StatusCode::kAborted, std::move(msg), true};
  if (state == "53100") return Status::ResourceExhausted(std::move(msg));
  if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state == "53300") {
    return Status::Unavailable(std::move(msg));
  }
  if (state == "42501" || state.rfind("28", 0) == 0)
    return Status::PermissionDenied(std::move(msg));
  return Status::Internal(std::move(msg));
}

class PgConnection : public SqlSession {
 public:
  PgConnection(PGconn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}
  ~PgConnection() override { PQfinish(conn_); }

  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  void Reset() { PQreset(conn_); }

  Result<SqlRows> Query(std::string_view sql, std::initializer_list<SqlParam> params) override {
    std::vector<std::string> storage;
    storage.reserve(params.size());
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const SqlParam& p : params) {
      if (const auto* s = std::get_if<std::string_view>(&p)) {
        storage.emplace_back(*s);
        values.push_back(storage.back().c_str());
      } else if (const auto* i = std::get_if<int64_t>(&p)) {
        storage.push_back(std::to_string(*i));
        values.push_back(storage.back().c_str());
      } else {
        storage.emplace_back();
        values.push_back(nullptr);
      }
    }
    PGresult* res = PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(values.size()),
                                 nullptr, values.data(), nullptr, nullptr, 0);
    Result<SqlRows> out = Collect(res);
    PQclear(res);
    return out;
  }

  Status Script(std::string_view sql) override {
    PGresult* res = PQexec(conn_, std::string(sql).c_str());
    Result<SqlRows> out = Collect(res);
    PQclear(res);
    return out.status();
  }

 private:
  Result<SqlRows> Collect(PGresult* res) {
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return PgStatus(conn_, res, where_);
    SqlRows out;
    int rows = PQntuples(res), cols = PQnfields(res);
    out.rows.resize(rows);
    for (int r = 0; r < rows; ++r) {
      out.rows[r].reserve(cols);
      for (int c = 0; c < cols; ++c) {
        if (PQgetisnull(res, r, c)) {
          out.rows[r].emplace_back();
        } else {
          out.rows[r].emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
        }
      }
    }
    const char* affected = PQcmdTuples(res);
    out.affected = affected && *affected ? std::atoll(affected) : 0;
    return out;
  }

  PGconn* conn_;
  std::string where_;
};

class PostgresDatabase : public SqlDatabase {
 public:
  explicit PostgresDatabase(std::string url) : url_(std::move(url)), where_(Redact(url_)) {}

  Status Init(int connections) {
    for (int i = 0; i < connections; ++i) {
      PGconn* conn = PQconnectdb(url_.c_str());
      if (PQstatus(conn) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(conn);
        PQfinish(conn);
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        return Status::Unavailable("cannot connect to catalog " + where_ + ": " + msg +
                                   " (is PostgreSQL running, and the URL right?)");
      }
      auto session = std::make_unique<PgConnection>(conn, "catalog " + where_);
      PROXIMA_RETURN_IF_ERROR(session->Script("SET client_min_messages = warning"));
      pool_.Add(std::move(session));
    }
    return Status::Ok();
  }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  std::string Describe() const override { return where_; }

  Status Transact(const std::function<Status(SqlSession&)>& fn) override {
    Lease lease(&pool_);
    Status s;
    for (int attempt = 0; attempt < kTransactAttempts; ++attempt) {
      // Serializable, so that a transaction that reads and then writes
      // (delete a user with its grants) behaves as if alone; PostgreSQL
      // reports a lost race as 40001 and the loop runs it again.
      s = lease->Script("BEGIN ISOLATION LEVEL SERIALIZABLE");
      if (s.ok()) {
        s = fn(*lease);
        if (s.ok()) s = lease->Script("COMMIT");
        if (s.ok()) return s;
        IgnoreError(lease->Script("ROLLBACK"));
      }
      if (s.code() == StatusCode::kUnavailable) {
        lease->Reset();
      } else if (s.code() != StatusCode::kAborted) {
        return s;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5 << attempt));
    }
    return s;
  }

  Result<SqlRows> Query(std::string_view sql, std::initializer_list<SqlParam> params) override {
    Lease lease(&pool_);
    Result<SqlRows> out = lease->Query(sql, params);
    if (!out.ok() && out.status().code() == StatusCode::kUnavailable) {
      lease->Reset();  // a restarted server: reconnect once and run it again
      if (lease->healthy()) out = lease->Query(sql, params);
    }
    return out;
  }

 private:
  using Lease = FairPool<PgConnection>::Lease;

  std::string url_;
  std::string where_;
  FairPool<PgConnection> pool_;
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& url, int connections) {
  auto db = std::make_unique<PostgresDatabase>(url);
  PROXIMA_RETURN_IF_ERROR(db->Init(connections < 1 ? 1 : connections));
  return std::unique_ptr<SqlDatabase>(std::move(db));
}

}  // namespace proxima
