#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/hash.h"
#include "proxima/base/result.h"
#include "proxima/ports/cache_catalog.h"
#include "proxima/ports/compute_catalog.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

// What a user may do with a dataset. Ordered: each level includes the ones
// below it (admin may grant and delete, write may sync and tag).
enum class Access : uint8_t { kNone = 0, kRead = 1, kWrite = 2, kAdmin = 3 };

inline std::string_view AccessName(Access access) {
  constexpr std::string_view kNames[] = {"none", "read", "write", "admin"};
  return kNames[static_cast<int>(access)];
}
inline std::optional<Access> ParseAccess(std::string_view s) {
  if (s == "read") return Access::kRead;
  if (s == "write") return Access::kWrite;
  if (s == "admin") return Access::kAdmin;
  return std::nullopt;
}

// A member's role in a team: a viewer only reads what the team may read, a
// member uses the team's grants in full, a team admin also manages members.
enum class TeamRole : uint8_t { kViewer = 1, kMember = 2, kAdmin = 3 };

inline std::string_view TeamRoleName(TeamRole role) {
  constexpr std::string_view kNames[] = {"", "viewer", "member", "admin"};
  return kNames[static_cast<int>(role)];
}
inline std::optional<TeamRole> ParseTeamRole(std::string_view s) {
  if (s == "viewer") return TeamRole::kViewer;
  if (s == "member") return TeamRole::kMember;
  if (s == "admin") return TeamRole::kAdmin;
  return std::nullopt;
}

struct UserRecord {
  std::string name;
  bool admin = false;  // a hub administrator: every permission
  int64_t created_unix_ns = 0;
};

struct TeamRecord {
  std::string name;
  int64_t created_unix_ns = 0;
};

struct MemberRecord {
  std::string team;
  std::string user;
  TeamRole role = TeamRole::kMember;
};

// An API token. The secret itself is never stored, only its SHA-256.
struct TokenRecord {
  std::string id;  // public handle, for listing and revoking
  std::string user;
  std::string description;
  Hash256 secret_sha256;
  int64_t created_unix_ns = 0;
  int64_t expires_unix_ns = 0;  // 0: never
  int64_t revoked_unix_ns = 0;  // 0: not revoked
};

// A dataset permission for a user ("user:alice") or a team ("team:ml").
struct GrantRecord {
  std::string dataset;
  std::string subject;
  Access access = Access::kRead;
};

struct AuditRecord {
  int64_t id = 0;  // assigned by the catalog, increasing
  int64_t unix_ns = 0;
  std::string actor;   // user name
  std::string action;  // "dataset.create", "ref.update", "grant.set", ...
  std::string object;  // "dataset:xray", "user:bob", ...
  std::string detail;  // free text or JSON
};

// An upload the hub stored before checking its blobs (`verify_uploads:
// behind`, docs/api.md, "Objects"): a pack kept under an incoming key until
// the hub's verifier moves it into place, or an index that lists such packs.
struct UnverifiedRecord {
  std::string key;       // a pack's incoming key, or an index's key
  std::string object;    // a pack's own key, where it goes once verified; "" for an index
  std::string uploader;  // user name
  std::string packs;     // an index: the unverified packs it lists (keys, space-separated)
  int64_t unix_ns = 0;
};

struct CatalogCounts {
  int64_t datasets = 0, refs = 0, users = 0, teams = 0, tokens = 0, audit = 0;
};

// The hub's metadata: datasets and refs (the RefStore part), users, teams,
// tokens, grants and the audit log. Adapters: SQLite (embedded) and
// PostgreSQL (shared by several servers); tests/catalog_conformance checks
// both against one contract.
//
// Contract:
// - Thread-safe; safe across processes and servers sharing one database.
// - Lists are pages: names strictly after `after` (sorted by name, bytewise),
//   at most `limit` of them.
// - NotFound names the missing object; AlreadyExists the duplicate one.
// - Deleting a user removes its tokens, memberships and grants; deleting a
//   team its memberships and grants; deleting a dataset its refs and grants.
//   Each is one transaction.
class Catalog : public RefStore, public CacheCatalog, public ComputeCatalog {
 public:
  // Datasets, by page, and removal.
  virtual Result<std::vector<DatasetRecord>> ListDatasetsPage(std::string_view after,
                                                              size_t limit) = 0;
  virtual Status DeleteDataset(std::string_view name) = 0;
  // One dataset's record; NotFound naming it.
  virtual Result<DatasetRecord> GetDataset(std::string_view name) = 0;

  virtual Status CreateUser(const UserRecord& user) = 0;
  virtual Result<UserRecord> GetUser(std::string_view name) = 0;
  virtual Result<std::vector<UserRecord>> ListUsers(std::string_view after, size_t limit) = 0;
  virtual Status DeleteUser(std::string_view name) = 0;

  virtual Status CreateTeam(const TeamRecord& team) = 0;
  virtual Result<TeamRecord> GetTeam(std::string_view name) = 0;
  virtual Result<std::vector<TeamRecord>> ListTeams(std::string_view after, size_t limit) = 0;
  virtual Status DeleteTeam(std::string_view name) = 0;

  // Adds a member or changes its role. NotFound for an unknown team or user.
  virtual Status PutMember(const MemberRecord& member) = 0;
  virtual Status RemoveMember(std::string_view team, std::string_view user) = 0;
  virtual Result<std::vector<MemberRecord>> ListMembers(std::string_view team) = 0;
  virtual Result<std::vector<MemberRecord>> TeamsOfUser(std::string_view user) = 0;

  // NotFound for an unknown user; AlreadyExists for a reused id or secret.
  virtual Status CreateToken(const TokenRecord& token) = 0;
  // The token whose secret hashes to `secret_sha256`, revoked or expired
  // ones included (the caller decides); NotFound when there is none.
  virtual Result<TokenRecord> FindToken(const Hash256& secret_sha256) = 0;
  virtual Result<std::vector<TokenRecord>> ListTokens(std::string_view user) = 0;
  virtual Status RevokeToken(std::string_view id, int64_t unix_ns) = 0;

  // Sets a grant (replacing the subject's previous one on that dataset).
  virtual Status PutGrant(const GrantRecord& grant) = 0;
  virtual Status RemoveGrant(std::string_view dataset, std::string_view subject) = 0;
  virtual Result<std::vector<GrantRecord>> ListGrants(std::string_view dataset) = 0;
  // The grants of the given subjects, on every dataset.
  virtual Result<std::vector<GrantRecord>> GrantsOf(const std::vector<std::string>& subjects) = 0;

  // Appends to the audit log; the id is assigned.
  virtual Status AppendAudit(const AuditRecord& record) = 0;
  // Newest first, ids strictly below `before` (0: from the newest).
  virtual Result<std::vector<AuditRecord>> ListAudit(int64_t before, size_t limit) = 0;

  // Unverified uploads. Add refuses a second row with the same key
  // (AlreadyExists); the list is oldest first; Remove of a missing row is OK.
  virtual Status AddUnverified(const UnverifiedRecord& record) = 0;
  virtual Result<std::vector<UnverifiedRecord>> ListUnverified() = 0;
  // The rows whose `object` is the given pack key.
  virtual Result<std::vector<UnverifiedRecord>> UnverifiedCopies(std::string_view object) = 0;
  virtual Status RemoveUnverified(std::string_view key) = 0;

  virtual Result<CatalogCounts> Counts() = 0;
  virtual std::string Describe() const = 0;
};

}  // namespace proxima
