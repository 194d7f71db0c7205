#include "proxima/adapters/sql_catalog.h"

#include "proxima/adapters/sql_compute_catalog.h"
#include "proxima/adapters/sql_database.h"

namespace proxima {

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

Status UnknownDataset(std::string_view name) {
  return Status::NotFound("dataset " + Quote(name) + " does not exist (see 'proxima data list')");
}

class SqlCatalog : public SqlComputeCatalog {
 public:
  explicit SqlCatalog(std::unique_ptr<SqlDatabase> db)
      : SqlComputeCatalog(db.get()), db_(std::move(db)) {}

  std::string Describe() const override { return db_->Describe(); }

  // --- datasets and refs ---

  Status CreateDataset(std::string_view name, int64_t created_unix_ns) override {
    auto r = db_->Query("INSERT INTO datasets(name, created_unix_ns) VALUES($1, $2)",
                        {name, created_unix_ns});
    if (r.status().IsAlreadyExists()) {
      return Status::AlreadyExists("dataset " + Quote(name) + " already exists");
    }
    return r.status();
  }

  Result<std::vector<DatasetRecord>> ListDatasets() override {
    return ListDatasetsPage("", static_cast<size_t>(INT64_MAX));
  }

  Result<std::vector<DatasetRecord>> ListDatasetsPage(std::string_view after,
                                                      size_t limit) override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows, db_->Query("SELECT name, created_unix_ns FROM datasets WHERE name > $1 "
                                 "ORDER BY name LIMIT $2",
                                 {after, Limit(limit)}));
    std::vector<DatasetRecord> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back({rows.Text(i, 0), rows.Int(i, 1)});
    return out;
  }

  Result<DatasetRecord> GetDataset(std::string_view name) override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows,
        db_->Query("SELECT name, created_unix_ns FROM datasets WHERE name = $1", {name}));
    if (rows.empty()) return UnknownDataset(name);
    return DatasetRecord{rows.Text(0, 0), rows.Int(0, 1)};
  }

  Result<bool> DatasetExists(std::string_view name) override {
    PROXIMA_ASSIGN_OR_RETURN(SqlRows rows,
                             db_->Query("SELECT 1 FROM datasets WHERE name = $1", {name}));
    return !rows.empty();
  }

  Status DeleteDataset(std::string_view name) override {
    return db_->Transact([&](SqlSession& s) -> Status {
      PROXIMA_RETURN_IF_ERROR(s.Query("DELETE FROM refs WHERE dataset = $1", {name}).status());
      PROXIMA_RETURN_IF_ERROR(s.Query("DELETE FROM grants WHERE dataset = $1", {name}).status());
      PROXIMA_ASSIGN_OR_RETURN(SqlRows r, s.Query("DELETE FROM datasets WHERE name = $1", {name}));
      return r.affected == 1 ? Status::Ok() : UnknownDataset(name);
    });
  }

  Result<std::optional<ObjectId>> GetRef(std::string_view dataset, std::string_view ref) override {
    // One round trip: the dataset row, joined with its ref if there is one.
    PROXIMA_ASSIGN_OR_RETURN(SqlRows rows,
                             db_->Query("SELECT r.commit_id FROM datasets d LEFT JOIN refs r ON "
                                        "r.dataset = d.name AND r.name = $2 WHERE d.name = $1",
                                        {dataset, ref}));
    if (rows.empty()) return UnknownDataset(dataset);
    if (!rows.rows[0][0]) return std::optional<ObjectId>();
    PROXIMA_ASSIGN_OR_RETURN(ObjectId id, ParseId(rows.Text(0, 0)));
    return std::optional<ObjectId>(id);
  }

  Status CompareAndSwapRef(std::string_view dataset, std::string_view ref,
                           const std::optional<ObjectId>& expected,
                           const std::optional<ObjectId>& desired) override {
    // Each case is one conditional statement, atomic on its own in both
    // engines; a miss is then explained by reading the current value.
    std::string want = desired ? desired->Hex() : "";
    std::string have = expected ? expected->Hex() : "";
    Result<SqlRows> r = SqlRows{};
    if (!expected && desired) {
      r = db_->Query(
          "INSERT INTO refs(dataset, name, commit_id) VALUES($1, $2, $3) "
          "ON CONFLICT(dataset, name) DO NOTHING",
          {dataset, ref, std::string_view(want)});
      if (!r.ok() && r.status().code() == StatusCode::kFailedPrecondition) {
        return UnknownDataset(dataset);
      }
    } else if (expected && desired) {
      r = db_->Query(
          "UPDATE refs SET commit_id = $3 WHERE dataset = $1 AND name = $2 AND commit_id = $4",
          {dataset, ref, std::string_view(want), std::string_view(have)});
    } else if (expected) {
      r = db_->Query("DELETE FROM refs WHERE dataset = $1 AND name = $2 AND commit_id = $3",
                     {dataset, ref, std::string_view(have)});
    } else {
      PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> current, GetRef(dataset, ref));
      return current ? Mismatch(dataset, ref, current, expected) : Status::Ok();
    }
    PROXIMA_RETURN_IF_ERROR(r.status());
    if (r->affected == 1) return Status::Ok();
    PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> current, GetRef(dataset, ref));
    return Mismatch(dataset, ref, current, expected);
  }

  Result<std::vector<RefRecord>> ListRefs(std::string_view dataset) override {
    Result<SqlRows> rows =
        dataset.empty()
            ? db_->Query("SELECT dataset, name, commit_id FROM refs ORDER BY dataset, name", {})
            : db_->Query(
                  "SELECT dataset, name, commit_id FROM refs WHERE dataset = $1 "
                  "ORDER BY name",
                  {dataset});
    PROXIMA_RETURN_IF_ERROR(rows.status());
    std::vector<RefRecord> out;
    for (size_t i = 0; i < rows->rows.size(); ++i) {
      PROXIMA_ASSIGN_OR_RETURN(ObjectId id, ParseId(rows->Text(i, 2)));
      out.push_back({rows->Text(i, 0), rows->Text(i, 1), id});
    }
    return out;
  }

  // --- users ---

  Status CreateUser(const UserRecord& user) override {
    auto r = db_->Query(
        "INSERT INTO users(name, is_admin, created_unix_ns) VALUES($1, $2, $3)",
        {std::string_view(user.name), int64_t{user.admin ? 1 : 0}, user.created_unix_ns});
    if (r.status().IsAlreadyExists()) {
      return Status::AlreadyExists("user " + Quote(user.name) + " already exists");
    }
    return r.status();
  }

  Result<UserRecord> GetUser(std::string_view name) override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows,
        db_->Query("SELECT name, is_admin, created_unix_ns FROM users WHERE name = $1", {name}));
    if (rows.empty()) return Status::NotFound("user " + Quote(name) + " does not exist");
    return UserRecord{rows.Text(0, 0), rows.Int(0, 1) != 0, rows.Int(0, 2)};
  }

  Result<std::vector<UserRecord>> ListUsers(std::string_view after, size_t limit) override {
    PROXIMA_ASSIGN_OR_RETURN(SqlRows rows,
                             db_->Query("SELECT name, is_admin, created_unix_ns FROM users "
                                        "WHERE name > $1 ORDER BY name LIMIT $2",
                                        {after, Limit(limit)}));
    std::vector<UserRecord> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) {
      out.push_back({rows.Text(i, 0), rows.Int(i, 1) != 0, rows.Int(i, 2)});
    }
    return out;
  }

  Status DeleteUser(std::string_view name) override {
    std::string subject = "user:" + std::string(name);
    return db_->Transact([&](SqlSession& s) -> Status {
      PROXIMA_RETURN_IF_ERROR(s.Query("DELETE FROM tokens WHERE user_name = $1", {name}).status());
      PROXIMA_RETURN_IF_ERROR(s.Query("DELETE FROM members WHERE user_name = $1", {name}).status());
      PROXIMA_RETURN_IF_ERROR(
          s.Query("DELETE FROM grants WHERE subject = $1", {std::string_view(subject)}).status());
      PROXIMA_ASSIGN_OR_RETURN(SqlRows r, s.Query("DELETE FROM users WHERE name = $1", {name}));
      return r.affected == 1 ? Status::Ok()
                             : Status::NotFound("user " + Quote(name) + " does not exist");
    });
  }

  // --- teams ---

  Status CreateTeam(const TeamRecord& team) override {
    auto r = db_->Query("INSERT INTO teams(name, created_unix_ns) VALUES($1, $2)",
                        {std::string_view(team.name), team.created_unix_ns});
    if (r.status().IsAlreadyExists()) {
      return Status::AlreadyExists("team " + Quote(team.name) + " already exists");
    }
    return r.status();
  }

  Result<TeamRecord> GetTeam(std::string_view name) override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows,
        db_->Query("SELECT name, created_unix_ns FROM teams WHERE name = $1", {name}));
    if (rows.empty()) return Status::NotFound("team " + Quote(name) + " does not exist");
    return TeamRecord{rows.Text(0, 0), rows.Int(0, 1)};
  }

  Result<std::vector<TeamRecord>> ListTeams(std::string_view after, size_t limit) override {
    PROXIMA_ASSIGN_OR_RETURN(SqlRows rows,
                             db_->Query("SELECT name, created_unix_ns FROM teams WHERE name > $1 "
                                        "ORDER BY name LIMIT $2",
                                        {after, Limit(limit)}));
    std::vector<TeamRecord> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back({rows.Text(i, 0), rows.Int(i, 1)});
    return out;
  }

  Status DeleteTeam(std::string_view name) override {
    std::string subject = "team:" + std::string(name);
    return db_->Transact([&](SqlSession& s) -> Status {
      PROXIMA_RETURN_IF_ERROR(s.Query("DELETE FROM members WHERE team = $1", {name}).status());
      PROXIMA_RETURN_IF_ERROR(
          s.Query("DELETE FROM grants WHERE subject = $1", {std::string_view(subject)}).status());
      PROXIMA_ASSIGN_OR_RETURN(SqlRows r, s.Query("DELETE FROM teams WHERE name = $1", {name}));
      return r.affected == 1 ? Status::Ok()
                             : Status::NotFound("team " + Quote(name) + " does not exist");
    });
  }

  Status PutMember(const MemberRecord& m) override {
    auto r = db_->Query(
        "INSERT INTO members(team, user_name, role) VALUES($1, $2, $3) "
        "ON CONFLICT(team, user_name) DO UPDATE SET role = excluded.role",
        {std::string_view(m.team), std::string_view(m.user), TeamRoleName(m.role)});
    if (r.ok()) return Status::Ok();
    if (r.status().code() != StatusCode::kFailedPrecondition) return r.status();
    PROXIMA_RETURN_IF_ERROR(GetTeam(m.team).status());
    PROXIMA_RETURN_IF_ERROR(GetUser(m.user).status());
    return r.status();
  }

  Status RemoveMember(std::string_view team, std::string_view user) override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows r,
        db_->Query("DELETE FROM members WHERE team = $1 AND user_name = $2", {team, user}));
    if (r.affected == 1) return Status::Ok();
    return Status::NotFound("user " + Quote(user) + " is not a member of team " + Quote(team));
  }

  Result<std::vector<MemberRecord>> ListMembers(std::string_view team) override {
    return Members("SELECT team, user_name, role FROM members WHERE team = $1 ORDER BY user_name",
                   team);
  }

  Result<std::vector<MemberRecord>> TeamsOfUser(std::string_view user) override {
    return Members("SELECT team, user_name, role FROM members WHERE user_name = $1 ORDER BY team",
                   user);
  }

  // --- tokens ---

  Status CreateToken(const TokenRecord& t) override {
    std::string hash = t.secret_sha256.Hex();
    auto r = db_->Query(
        "INSERT INTO tokens(id, user_name, secret_sha256, description, created_unix_ns,"
        " expires_unix_ns, revoked_unix_ns) VALUES($1, $2, $3, $4, $5, $6, $7)",
        {std::string_view(t.id), std::string_view(t.user), std::string_view(hash),
         std::string_view(t.description), t.created_unix_ns, t.expires_unix_ns, t.revoked_unix_ns});
    if (r.ok()) return Status::Ok();
    if (r.status().code() == StatusCode::kFailedPrecondition) {
      return Status::NotFound("user " + Quote(t.user) + " does not exist");
    }
    if (r.status().IsAlreadyExists()) {
      return Status::AlreadyExists("token " + Quote(t.id) + " already exists");
    }
    return r.status();
  }

  Result<TokenRecord> FindToken(const Hash256& secret_sha256) override {
    std::string hash = secret_sha256.Hex();
    PROXIMA_ASSIGN_OR_RETURN(SqlRows rows,
                             db_->Query(std::string(kTokenColumns) + " WHERE secret_sha256 = $1",
                                        {std::string_view(hash)}));
    if (rows.empty()) return Status::NotFound("no such token");
    return TokenAt(rows, 0);
  }

  Result<std::vector<TokenRecord>> ListTokens(std::string_view user) override {
    PROXIMA_ASSIGN_OR_RETURN(SqlRows rows,
                             db_->Query(std::string(kTokenColumns) +
                                            " WHERE user_name = $1 ORDER BY created_unix_ns, id",
                                        {user}));
    std::vector<TokenRecord> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) {
      PROXIMA_ASSIGN_OR_RETURN(TokenRecord t, TokenAt(rows, i));
      out.push_back(std::move(t));
    }
    return out;
  }

  Status RevokeToken(std::string_view id, int64_t unix_ns) override {
    PROXIMA_ASSIGN_OR_RETURN(SqlRows r,
                             db_->Query("UPDATE tokens SET revoked_unix_ns = $2 WHERE id = $1 AND "
                                        "revoked_unix_ns = 0",
                                        {id, unix_ns}));
    if (r.affected == 1) return Status::Ok();
    PROXIMA_ASSIGN_OR_RETURN(SqlRows rows, db_->Query("SELECT 1 FROM tokens WHERE id = $1", {id}));
    return rows.empty() ? Status::NotFound("token " + Quote(id) + " does not exist")
                        : Status::Ok();  // already revoked: revoking is idempotent
  }

  // --- grants ---

  Status PutGrant(const GrantRecord& g) override {
    auto r = db_->Query(
        "INSERT INTO grants(dataset, subject, access) VALUES($1, $2, $3) "
        "ON CONFLICT(dataset, subject) DO UPDATE SET access = excluded.access",
        {std::string_view(g.dataset), std::string_view(g.subject), AccessName(g.access)});
    if (!r.ok() && r.status().code() == StatusCode::kFailedPrecondition) {
      return UnknownDataset(g.dataset);
    }
    return r.status();
  }

  Status RemoveGrant(std::string_view dataset, std::string_view subject) override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows r,
        db_->Query("DELETE FROM grants WHERE dataset = $1 AND subject = $2", {dataset, subject}));
    if (r.affected == 1) return Status::Ok();
    return Status::NotFound(std::string(subject) + " has no grant on dataset " + Quote(dataset));
  }

  Result<std::vector<GrantRecord>> ListGrants(std::string_view dataset) override {
    PROXIMA_ASSIGN_OR_RETURN(SqlRows rows, db_->Query("SELECT dataset, subject, access FROM grants "
                                                      "WHERE dataset = $1 ORDER BY subject",
                                                      {dataset}));
    return Grants(rows);
  }

  Result<std::vector<GrantRecord>> GrantsOf(const std::vector<std::string>& subjects) override {
    std::vector<GrantRecord> out;
    for (const std::string& subject : subjects) {
      PROXIMA_ASSIGN_OR_RETURN(SqlRows rows,
                               db_->Query("SELECT dataset, subject, access FROM grants "
                                          "WHERE subject = $1 ORDER BY dataset",
                                          {std::string_view(subject)}));
      PROXIMA_ASSIGN_OR_RETURN(std::vector<GrantRecord> some, Grants(rows));
      out.insert(out.end(), some.begin(), some.end());
    }
    return out;
  }

  // --- audit ---

  Status AppendAudit(const AuditRecord& a) override {
    return db_
        ->Query(
            "INSERT INTO audit(unix_ns, actor, action, object, detail) "
            "VALUES($1, $2, $3, $4, $5)",
            {a.unix_ns, std::string_view(a.actor), std::string_view(a.action),
             std::string_view(a.object), std::string_view(a.detail)})
        .status();
  }

  Result<std::vector<AuditRecord>> ListAudit(int64_t before, size_t limit) override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows, db_->Query("SELECT id, unix_ns, actor, action, object, detail FROM audit "
                                 "WHERE id < $1 ORDER BY id DESC LIMIT $2",
                                 {before > 0 ? before : INT64_MAX, Limit(limit)}));
    std::vector<AuditRecord> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) {
      out.push_back({rows.Int(i, 0), rows.Int(i, 1), rows.Text(i, 2), rows.Text(i, 3),
                     rows.Text(i, 4), rows.Text(i, 5)});
    }
    return out;
  }

  Status AddUnverified(const UnverifiedRecord& u) override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows,
        db_->Query("INSERT INTO unverified(key, object, uploader, packs, unix_ns) "
                   "VALUES($1, $2, $3, $4, $5) ON CONFLICT(key) DO NOTHING RETURNING key",
                   {std::string_view(u.key), std::string_view(u.object),
                    std::string_view(u.uploader), std::string_view(u.packs), u.unix_ns}));
    if (rows.rows.empty()) {
      return Status::AlreadyExists("an unverified upload '" + u.key + "' is recorded already");
    }
    return Status::Ok();
  }

  Result<std::vector<UnverifiedRecord>> ListUnverified() override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows, db_->Query("SELECT key, object, uploader, packs, unix_ns FROM unverified "
                                 "ORDER BY unix_ns, key",
                                 {}));
    return Unverified(rows);
  }

  Result<std::vector<UnverifiedRecord>> UnverifiedCopies(std::string_view object) override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows, db_->Query("SELECT key, object, uploader, packs, unix_ns FROM unverified "
                                 "WHERE object = $1 ORDER BY unix_ns, key",
                                 {object}));
    return Unverified(rows);
  }

  Status RemoveUnverified(std::string_view key) override {
    return db_->Query("DELETE FROM unverified WHERE key = $1", {key}).status();
  }

  Result<CatalogCounts> Counts() override {
    PROXIMA_ASSIGN_OR_RETURN(
        SqlRows rows,
        db_->Query("SELECT (SELECT COUNT(*) FROM datasets), (SELECT COUNT(*) FROM refs),"
                   " (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM teams),"
                   " (SELECT COUNT(*) FROM tokens), (SELECT COUNT(*) FROM audit)",
                   {}));
    return CatalogCounts{rows.Int(0, 0), rows.Int(0, 1), rows.Int(0, 2),
                         rows.Int(0, 3), rows.Int(0, 4), rows.Int(0, 5)};
  }

 private:
  static constexpr std::string_view kTokenColumns =
      "SELECT id, user_name, description, secret_sha256, created_unix_ns, expires_unix_ns,"
      " revoked_unix_ns FROM tokens";

  static int64_t Limit(size_t limit) {
    return limit > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(limit);
  }

  Result<ObjectId> ParseId(const std::string& hex) {
    auto id = Hash256::FromHex(hex);
    if (!id) return Status::Corruption("catalog " + db_->Describe() + ": bad commit id " + hex);
    return *id;
  }

  static std::vector<UnverifiedRecord> Unverified(const SqlRows& rows) {
    std::vector<UnverifiedRecord> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) {
      out.push_back(
          {rows.Text(i, 0), rows.Text(i, 1), rows.Text(i, 2), rows.Text(i, 3), rows.Int(i, 4)});
    }
    return out;
  }

  Result<TokenRecord> TokenAt(const SqlRows& rows, size_t i) {
    auto hash = Hash256::FromHex(rows.Text(i, 3));
    if (!hash) return Status::Corruption("catalog " + db_->Describe() + ": bad token hash");
    return TokenRecord{rows.Text(i, 0), rows.Text(i, 1), rows.Text(i, 2), *hash,
                       rows.Int(i, 4),  rows.Int(i, 5),  rows.Int(i, 6)};
  }

  Result<std::vector<MemberRecord>> Members(const char* sql, std::string_view key) {
    PROXIMA_ASSIGN_OR_RETURN(SqlRows rows, db_->Query(sql, {key}));
    std::vector<MemberRecord> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) {
      auto role = ParseTeamRole(rows.Text(i, 2));
      if (!role) return Status::Corruption("catalog " + db_->Describe() + ": bad role");
      out.push_back({rows.Text(i, 0), rows.Text(i, 1), *role});
    }
    return out;
  }

  Result<std::vector<GrantRecord>> Grants(const SqlRows& rows) {
    std::vector<GrantRecord> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) {
      auto access = ParseAccess(rows.Text(i, 2));
      if (!access) return Status::Corruption("catalog " + db_->Describe() + ": bad access");
      out.push_back({rows.Text(i, 0), rows.Text(i, 1), *access});
    }
    return out;
  }

  Status Mismatch(std::string_view dataset, std::string_view ref,
                  const std::optional<ObjectId>& current, const std::optional<ObjectId>& expected) {
    return Status::Aborted("ref " + Quote(ref) + " of dataset " + Quote(dataset) + " is " +
                           (current ? current->ShortHex() : "absent") + ", not the expected " +
                           (expected ? expected->ShortHex() : "absent"));
  }

  std::unique_ptr<SqlDatabase> db_;
};

Result<std::unique_ptr<Catalog>> Finish(Result<std::unique_ptr<SqlDatabase>> db,
                                        int64_t now_unix_ns) {
  PROXIMA_RETURN_IF_ERROR(db.status());
  PROXIMA_RETURN_IF_ERROR(MigrateCatalogSchema(**db, now_unix_ns));
  return std::unique_ptr<Catalog>(std::make_unique<SqlCatalog>(std::move(db).value()));
}

}  // namespace

Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path, int64_t now_unix_ns,
                                                   int connections) {
  return Finish(OpenSqliteDatabase(path, connections), now_unix_ns);
}

Result<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& url, int64_t now_unix_ns,
                                                     int connections) {
  return Finish(OpenPostgresDatabase(url, connections), now_unix_ns);
}

Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& spec, int64_t now_unix_ns,
                                             int connections) {
  if (spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0) {
    return OpenPostgresCatalog(spec, now_unix_ns, connections);
  }
  return OpenSqliteCatalog(spec, now_unix_ns, connections);
}

}  // namespace proxima
