#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/ports/catalog.h"
#include "proxima/ports/clock.h"

namespace proxima {

// Who is calling: a user, its hub role and its teams, resolved from a token.
struct Principal {
  std::string user;
  bool admin = false;
  std::string token_id;
  std::vector<MemberRecord> teams;
  // The highest access it has on any dataset, as of authentication (hub
  // admins: admin). Object requests check it without a catalog query.
  Access best_access = Access::kNone;

  // "user:alice", then "team:<t>" for each team.
  std::vector<std::string> Subjects() const;
  // May create datasets: a hub admin, or a member or admin of some team.
  bool MayCreateDatasets() const;
  TeamRole RoleIn(std::string_view team) const;  // kViewer-1 (0) when not a member
};

// A freshly issued API token: the record as stored (hashed) and the secret,
// which exists only here and is shown to the user once.
struct IssuedToken {
  TokenRecord record;
  std::string secret;  // "pxm_" + 64 hex digits
};

// Authentication and authorization over the catalog: the hub's policy.
//
// - A token is valid when it exists, is not revoked, has not expired, and
//   its user still exists; anything else is Unauthenticated with a reason
//   (never which of several secrets was close).
// - A hub admin has every access. Otherwise the access to a dataset is the
//   highest of the user's own grant and the grants of its teams, a team's
//   grant capped at read for the team's viewers.
//
// Authentication results are cached for `cache_ns` (default 1 s), with the
// best access the principal has on any dataset: a token revoked, a user
// deleted or moved between teams, or a grant changed, through another server
// sharing the catalog takes effect within that time; through this one, at
// once (Forget). Expiry is checked on every use.
//
// Thread-safe when the catalog is.
class AccessControl {
 public:
  AccessControl(Catalog* catalog, Clock* clock, int64_t cache_ns = 1'000'000'000)
      : catalog_(catalog), clock_(clock), cache_ns_(cache_ns) {}

  Result<Principal> Authenticate(std::string_view secret);
  // Drops every cached authentication (after a change to users, teams or
  // tokens made through this server).
  void Forget();
  Result<Access> DatasetAccess(const Principal& who, std::string_view dataset);
  // The datasets `who` may read, sorted, with the access to each; for
  // hub admins, every dataset.
  Result<std::vector<GrantRecord>> VisibleDatasets(const Principal& who);
  // Whether `who` has at least `level` on some dataset. A yes comes from
  // the access cached with its authentication; a no is checked against the
  // catalog, so that access granted through another server counts at once.
  Result<bool> HasAnyAccess(const Principal& who, Access level);

  // Issues a token for `user`, valid for `ttl_ns` (0: no expiry).
  Result<IssuedToken> IssueToken(std::string_view user, std::string_view description,
                                 int64_t ttl_ns);
  // Stores a token whose secret the operator chose (PROXIMA_ADMIN_TOKEN).
  Result<IssuedToken> AdoptToken(std::string_view user, std::string_view secret,
                                 std::string_view description);

 private:
  Result<Principal> Lookup(const Hash256& secret_sha256, int64_t* expires_unix_ns);

  Catalog* catalog_;
  Clock* clock_;
  int64_t cache_ns_;
  struct Cached {
    Principal who;
    int64_t expires_unix_ns;  // the token's own expiry, 0: never
    int64_t valid_until;      // when this entry must be looked up again
  };
  std::mutex mu_;
  std::unordered_map<Hash256, Cached, Hash256Hasher> cache_;
};

// Whether `secret` has the shape of a Proxima token (cheap, before any lookup).
bool LooksLikeToken(std::string_view secret);

}  // namespace proxima
