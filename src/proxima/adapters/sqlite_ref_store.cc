#include "proxima/adapters/sqlite_ref_store.h"

#include <sqlite3.h>

#include <mutex>

namespace proxima {

namespace {

constexpr int kSchemaVersion = 1;

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool prepared() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

class SqliteRefStoreImpl : public RefStore {
 public:
  SqliteRefStoreImpl(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteRefStoreImpl() override { sqlite3_close(db_); }

  Status Init() {
    PROXIMA_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    PROXIMA_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
    PROXIMA_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
    PROXIMA_RETURN_IF_ERROR(
        Exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
             "CREATE TABLE IF NOT EXISTS datasets(name TEXT PRIMARY KEY,"
             "  created_unix_ns INTEGER NOT NULL);"
             "CREATE TABLE IF NOT EXISTS refs(dataset TEXT NOT NULL REFERENCES datasets(name),"
             "  name TEXT NOT NULL, commit_id TEXT NOT NULL, PRIMARY KEY(dataset, name));"
             "INSERT OR IGNORE INTO meta VALUES('schema_version', '1');"));
    Stmt st(db_, "SELECT value FROM meta WHERE key='schema_version'");
    if (!st.prepared() || st.Step() != SQLITE_ROW) return Error("read schema version");
    int version = std::stoi(st.Text(0));
    if (version > kSchemaVersion) {
      return Status::FailedPrecondition("catalog " + path_ + " has schema version " +
                                        std::to_string(version) +
                                        ", newer than this Proxima knows; upgrade Proxima");
    }
    return Status::Ok();
  }

  Status CreateDataset(std::string_view name, int64_t created_unix_ns) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "INSERT INTO datasets(name, created_unix_ns) VALUES(?, ?)");
    st.Bind(1, name).Bind(2, created_unix_ns);
    int rc = st.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return Status::AlreadyExists("dataset '" + std::string(name) + "' already exists");
    }
    if (rc != SQLITE_DONE) return Error("create dataset '" + std::string(name) + "'");
    return Status::Ok();
  }

  Result<std::vector<DatasetRecord>> ListDatasets() override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "SELECT name, created_unix_ns FROM datasets ORDER BY name");
    std::vector<DatasetRecord> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) out.push_back({st.Text(0), st.Int(1)});
    if (rc != SQLITE_DONE) return Error("list datasets");
    return out;
  }

  Result<bool> DatasetExists(std::string_view name) override {
    std::lock_guard lock(mu_);
    return Exists(name);
  }

  Result<std::optional<ObjectId>> GetRef(std::string_view dataset, std::string_view ref) override {
    std::lock_guard lock(mu_);
    PROXIMA_ASSIGN_OR_RETURN(bool exists, Exists(dataset));
    if (!exists) return UnknownDataset(dataset);
    return Read(dataset, ref);
  }

  Status CompareAndSwapRef(std::string_view dataset, std::string_view ref,
                           const std::optional<ObjectId>& expected,
                           const std::optional<ObjectId>& desired) override {
    std::lock_guard lock(mu_);
    PROXIMA_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = CasLocked(dataset, ref, expected, desired);
    if (s.ok()) {
      s = Exec("COMMIT");
      if (s.ok()) return s;
    }
    IgnoreError(Exec("ROLLBACK"));
    return s;
  }

  Result<std::vector<RefRecord>> ListRefs(std::string_view dataset) override {
    std::lock_guard lock(mu_);
    Stmt st(db_,
            "SELECT dataset, name, commit_id FROM refs WHERE ?1 = '' OR dataset = ?1 "
            "ORDER BY dataset, name");
    st.Bind(1, dataset);
    std::vector<RefRecord> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      auto id = Hash256::FromHex(st.Text(2));
      if (!id) return Status::Corruption("catalog " + path_ + ": bad commit id in refs");
      out.push_back({st.Text(0), st.Text(1), *id});
    }
    if (rc != SQLITE_DONE) return Error("list refs");
    return out;
  }

 private:
  Status CasLocked(std::string_view dataset, std::string_view ref,
                   const std::optional<ObjectId>& expected,
                   const std::optional<ObjectId>& desired) {
    PROXIMA_ASSIGN_OR_RETURN(bool exists, Exists(dataset));
    if (!exists) return UnknownDataset(dataset);
    PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> current, Read(dataset, ref));
    if (current != expected) {
      return Status::Aborted("ref '" + std::string(ref) + "' of dataset '" + std::string(dataset) +
                             "' is " + (current ? current->ShortHex() : "absent") +
                             ", not the expected " + (expected ? expected->ShortHex() : "absent"));
    }
    if (desired) {
      Stmt st(db_,
              "INSERT INTO refs(dataset, name, commit_id) VALUES(?, ?, ?) "
              "ON CONFLICT(dataset, name) DO UPDATE SET commit_id = excluded.commit_id");
      st.Bind(1, dataset).Bind(2, ref).Bind(3, desired->Hex());
      if (st.Step() != SQLITE_DONE) return Error("update ref '" + std::string(ref) + "'");
    } else {
      Stmt st(db_, "DELETE FROM refs WHERE dataset = ? AND name = ?");
      st.Bind(1, dataset).Bind(2, ref);
      if (st.Step() != SQLITE_DONE) return Error("delete ref '" + std::string(ref) + "'");
    }
    return Status::Ok();
  }

  Result<bool> Exists(std::string_view name) {
    Stmt st(db_, "SELECT 1 FROM datasets WHERE name = ?");
    st.Bind(1, name);
    int rc = st.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("look up dataset");
    return rc == SQLITE_ROW;
  }

  Result<std::optional<ObjectId>> Read(std::string_view dataset, std::string_view ref) {
    Stmt st(db_, "SELECT commit_id FROM refs WHERE dataset = ? AND name = ?");
    st.Bind(1, dataset).Bind(2, ref);
    int rc = st.Step();
    if (rc == SQLITE_DONE) return std::optional<ObjectId>();
    if (rc != SQLITE_ROW) return Error("read ref '" + std::string(ref) + "'");
    auto id = Hash256::FromHex(st.Text(0));
    if (!id) return Status::Corruption("catalog " + path_ + ": bad commit id for ref");
    return std::optional<ObjectId>(*id);
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return Classify("catalog " + path_ + ": " + msg);
    }
    return Status::Ok();
  }

  Status Error(const std::string& what) {
    return Classify("catalog " + path_ + ": cannot " + what + ": " + sqlite3_errmsg(db_));
  }

  Status Classify(std::string msg) {
    int code = sqlite3_errcode(db_) & 0xff;
    if (code == SQLITE_FULL) return Status::ResourceExhausted(std::move(msg));
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Status::Unavailable(std::move(msg));
    if (code == SQLITE_READONLY || code == SQLITE_PERM || code == SQLITE_CANTOPEN) {
      return Status::PermissionDenied(std::move(msg));
    }
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Status::Corruption(std::move(msg));
    return Status::Internal(std::move(msg));
  }

  static Status UnknownDataset(std::string_view name) {
    return Status::NotFound("dataset '" + std::string(name) +
                            "' does not exist (see 'proxima data list')");
  }

  std::mutex mu_;
  sqlite3* db_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<RefStore>> OpenSqliteRefStore(const std::string& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::PermissionDenied("cannot open catalog " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 30000);
  auto store = std::make_unique<SqliteRefStoreImpl>(db, path);
  PROXIMA_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<RefStore>(std::move(store));
}

}  // namespace proxima
