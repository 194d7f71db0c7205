// The catalog's schema, as numbered migrations. A migration is never edited
// once released: a change is a new migration. {{SERIAL}} becomes the
// dialect's auto-increment key.
#include <charconv>

#include "proxima/adapters/sql_database.h"

namespace proxima {

namespace {

struct Migration {
  int64_t version;
  const char* description;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, "datasets and refs",
     // The embedded catalog of the first releases had exactly these tables
     // (and a 'meta' table, now unused), hence IF NOT EXISTS.
     "CREATE TABLE IF NOT EXISTS datasets(name TEXT PRIMARY KEY,"
     "  created_unix_ns BIGINT NOT NULL);"
     "CREATE TABLE IF NOT EXISTS refs(dataset TEXT NOT NULL REFERENCES datasets(name),"
     "  name TEXT NOT NULL, commit_id TEXT NOT NULL, PRIMARY KEY(dataset, name));"},
    {2, "users, teams, tokens, grants, audit",
     "CREATE TABLE users(name TEXT PRIMARY KEY, is_admin INTEGER NOT NULL,"
     "  created_unix_ns BIGINT NOT NULL);"
     "CREATE TABLE teams(name TEXT PRIMARY KEY, created_unix_ns BIGINT NOT NULL);"
     "CREATE TABLE members(team TEXT NOT NULL REFERENCES teams(name),"
     "  user_name TEXT NOT NULL REFERENCES users(name), role TEXT NOT NULL,"
     "  PRIMARY KEY(team, user_name));"
     "CREATE INDEX members_by_user ON members(user_name);"
     "CREATE TABLE tokens(id TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users(name),"
     "  secret_sha256 TEXT NOT NULL UNIQUE, description TEXT NOT NULL,"
     "  created_unix_ns BIGINT NOT NULL, expires_unix_ns BIGINT NOT NULL,"
     "  revoked_unix_ns BIGINT NOT NULL);"
     "CREATE INDEX tokens_by_user ON tokens(user_name);"
     "CREATE TABLE grants(dataset TEXT NOT NULL REFERENCES datasets(name),"
     "  subject TEXT NOT NULL, access TEXT NOT NULL, PRIMARY KEY(dataset, subject));"
     "CREATE INDEX grants_by_subject ON grants(subject);"
     "CREATE TABLE audit(id {{SERIAL}}, unix_ns BIGINT NOT NULL, actor TEXT NOT NULL,"
     "  action TEXT NOT NULL, object TEXT NOT NULL, detail TEXT NOT NULL);"},
    {3, "cache volumes, caches, leases",
     "CREATE TABLE volumes(name TEXT PRIMARY KEY, path TEXT NOT NULL, resource TEXT NOT NULL,"
     "  capacity_bytes BIGINT NOT NULL, ttl_ns BIGINT NOT NULL, high_ppm BIGINT NOT NULL,"
     "  low_ppm BIGINT NOT NULL, created_unix_ns BIGINT NOT NULL);"
     "CREATE TABLE caches(volume TEXT NOT NULL REFERENCES volumes(name),"
     "  dataset TEXT NOT NULL, commit_id TEXT NOT NULL, state TEXT NOT NULL,"
     "  files BIGINT NOT NULL, bytes BIGINT NOT NULL, done_bytes BIGINT NOT NULL,"
     "  fetched_bytes BIGINT NOT NULL, reason TEXT NOT NULL, created_unix_ns BIGINT NOT NULL,"
     "  last_used_unix_ns BIGINT NOT NULL, pinned INTEGER NOT NULL, version BIGINT NOT NULL,"
     "  PRIMARY KEY(volume, dataset, commit_id));"
     "CREATE TABLE leases(id TEXT PRIMARY KEY, volume TEXT NOT NULL REFERENCES volumes(name),"
     "  dataset TEXT NOT NULL, commit_id TEXT NOT NULL, holder TEXT NOT NULL,"
     "  expires_unix_ns BIGINT NOT NULL);"
     "CREATE INDEX leases_by_volume ON leases(volume);"},
    {4, "per-team quotas on volumes, owners of leases",
     "ALTER TABLE caches ADD COLUMN team TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE leases ADD COLUMN owner TEXT NOT NULL DEFAULT '';"
     "CREATE TABLE volume_quotas(volume TEXT NOT NULL REFERENCES volumes(name),"
     "  team TEXT NOT NULL, bytes BIGINT NOT NULL, PRIMARY KEY(volume, team));"},
    {5, "compute resources, templates, queues, jobs",
     "CREATE TABLE resources(name TEXT PRIMARY KEY, kind TEXT NOT NULL,"
     "  millicpus BIGINT NOT NULL, memory_bytes BIGINT NOT NULL, gpus BIGINT NOT NULL,"
     "  config TEXT NOT NULL, created_unix_ns BIGINT NOT NULL);"
     "CREATE TABLE templates(name TEXT PRIMARY KEY,"
     "  resource TEXT NOT NULL REFERENCES resources(name), millicpus BIGINT NOT NULL,"
     "  memory_bytes BIGINT NOT NULL, gpus BIGINT NOT NULL, partition_name TEXT NOT NULL,"
     "  image TEXT NOT NULL, created_unix_ns BIGINT NOT NULL);"
     "CREATE TABLE queues(name TEXT PRIMARY KEY, templates TEXT NOT NULL,"
     "  burst_after_ns BIGINT NOT NULL, created_unix_ns BIGINT NOT NULL);"
     "CREATE TABLE jobs(id {{SERIAL}}, owner TEXT NOT NULL, spec TEXT NOT NULL,"
     "  state TEXT NOT NULL, failure TEXT NOT NULL, reason TEXT NOT NULL,"
     "  placement TEXT NOT NULL, template TEXT NOT NULL, resource TEXT NOT NULL,"
     "  handle TEXT NOT NULL, gpu_ids TEXT NOT NULL, attempts BIGINT NOT NULL,"
     "  exit_code BIGINT NOT NULL, cancel_requested INTEGER NOT NULL,"
     "  submitted_unix_ns BIGINT NOT NULL, started_unix_ns BIGINT NOT NULL,"
     "  finished_unix_ns BIGINT NOT NULL, version BIGINT NOT NULL);"
     "CREATE INDEX jobs_by_state ON jobs(state, id);"
     "CREATE INDEX jobs_by_owner ON jobs(owner, id);"},
    {6, "uploads stored before their verification",
     "CREATE TABLE unverified(key TEXT PRIMARY KEY, object TEXT NOT NULL,"
     "  uploader TEXT NOT NULL, packs TEXT NOT NULL, unix_ns BIGINT NOT NULL);"
     "CREATE INDEX unverified_by_object ON unverified(object);"},
};

std::string ForDialect(std::string sql, SqlDialect dialect) {
  const std::string serial = "{{SERIAL}}";
  const char* replacement =
      dialect == SqlDialect::kSqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY";
  for (size_t at; (at = sql.find(serial)) != std::string::npos;) {
    sql.replace(at, serial.size(), replacement);
  }
  return sql;
}

}  // namespace

const std::string& SqlRows::Text(size_t row, size_t col) const {
  static const std::string kEmpty;
  const auto& cell = rows[row][col];
  return cell ? *cell : kEmpty;
}

int64_t SqlRows::Int(size_t row, size_t col) const {
  const std::string& s = Text(row, col);
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

Status MigrateCatalogSchema(SqlDatabase& db, int64_t now_unix_ns) {
  constexpr int64_t kKnown = std::size(kMigrations);
  return db.Transact([&](SqlSession& s) -> Status {
    if (db.dialect() == SqlDialect::kPostgres) {
      // Servers starting together queue here instead of racing to migrate.
      PROXIMA_RETURN_IF_ERROR(s.Query("SELECT pg_advisory_xact_lock(7411)", {}).status());
    }
    PROXIMA_RETURN_IF_ERROR(
        s.Script("CREATE TABLE IF NOT EXISTS schema_migrations(version BIGINT PRIMARY KEY,"
                 " description TEXT NOT NULL, applied_unix_ns BIGINT NOT NULL)"));
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows, s.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {}));
    int64_t current = rows.Int(0, 0);
    if (current > kKnown) {
      return Status::FailedPrecondition(
          "catalog " + db.Describe() + " has schema version " + std::to_string(current) +
          ", newer than this Proxima knows (" + std::to_string(kKnown) + "); upgrade Proxima");
    }
    for (const Migration& m : kMigrations) {
      if (m.version <= current) continue;
      PROXIMA_RETURN_IF_ERROR(s.Script(ForDialect(m.sql, db.dialect())));
      PROXIMA_RETURN_IF_ERROR(s.Query("INSERT INTO schema_migrations VALUES($1, $2, $3)",
                                      {m.version, std::string_view(m.description), now_unix_ns})
                                  .status());
    }
    return Status::Ok();
  });
}

}  // namespace proxima
