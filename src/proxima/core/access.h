#pragma once

#include <string>
#include <string_view>
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
// Thread-safe when the catalog is.
class AccessControl {
 public:
  AccessControl(Catalog* catalog, Clock* clock) : catalog_(catalog), clock_(clock) {}

  Result<Principal> Authenticate(std::string_view secret);
  Result<Access> DatasetAccess(const Principal& who, std::string_view dataset);
  // The datasets `who` may read, sorted, with the access to each; for
  // hub admins, every dataset.
  Result<std::vector<GrantRecord>> VisibleDatasets(const Principal& who);
  // Whether `who` has at least `level` on some dataset.
  Result<bool> HasAnyAccess(const Principal& who, Access level);

  // Issues a token for `user`, valid for `ttl_ns` (0: no expiry).
  Result<IssuedToken> IssueToken(std::string_view user, std::string_view description,
                                 int64_t ttl_ns);
  // Stores a token whose secret the operator chose (PROXIMA_ADMIN_TOKEN).
  Result<IssuedToken> AdoptToken(std::string_view user, std::string_view secret,
                                 std::string_view description);

 private:
  Catalog* catalog_;
  Clock* clock_;
};

// Whether `secret` has the shape of a Proxima token (cheap, before any lookup).
bool LooksLikeToken(std::string_view secret);

}  // namespace proxima
