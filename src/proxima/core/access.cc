#include "proxima/core/access.h"

#include <algorithm>
#include <map>

namespace proxima {

namespace {

constexpr std::string_view kTokenPrefix = "pxm_";

// What one grant gives `who`: a user grant in full when it is theirs, a team
// grant when they are a member, capped at read for the team's viewers.
Access GrantedTo(const Principal& who, const GrantRecord& g) {
  if (g.subject == "user:" + who.user) return g.access;
  if (g.subject.rfind("team:", 0) != 0) return Access::kNone;
  TeamRole role = who.RoleIn(std::string_view(g.subject).substr(5));
  if (static_cast<int>(role) == 0) return Access::kNone;
  return role == TeamRole::kViewer ? std::min(g.access, Access::kRead) : g.access;
}

}  // namespace

std::vector<std::string> Principal::Subjects() const {
  std::vector<std::string> out{"user:" + user};
  for (const MemberRecord& m : teams) out.push_back("team:" + m.team);
  return out;
}

bool Principal::MayCreateDatasets() const {
  if (admin) return true;
  return std::any_of(teams.begin(), teams.end(),
                     [](const MemberRecord& m) { return m.role != TeamRole::kViewer; });
}

TeamRole Principal::RoleIn(std::string_view team) const {
  for (const MemberRecord& m : teams) {
    if (m.team == team) return m.role;
  }
  return static_cast<TeamRole>(0);
}

bool LooksLikeToken(std::string_view secret) {
  if (secret.size() != kTokenPrefix.size() + 64 || secret.substr(0, 4) != kTokenPrefix) {
    return false;
  }
  return std::all_of(secret.begin() + 4, secret.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<Principal> AccessControl::Authenticate(std::string_view secret) {
  if (!LooksLikeToken(secret)) {
    return Status::Unauthenticated("malformed token: expected 'pxm_' and 64 hex digits");
  }
  Hash256 key = Sha256(secret);
  int64_t now = clock_->NowUnixNanos();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now < it->second.valid_until &&
        (it->second.expires_unix_ns == 0 || now < it->second.expires_unix_ns)) {
      return it->second.who;
    }
  }
  int64_t expires = 0;
  PROXIMA_ASSIGN_OR_RETURN(Principal who, Lookup(key, &expires));
  std::lock_guard lock(mu_);
  if (cache_.size() > 10'000) cache_.clear();
  cache_[key] = {who, expires, now + cache_ns_};
  return who;
}

void AccessControl::Forget() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

Result<Principal> AccessControl::Lookup(const Hash256& secret_sha256, int64_t* expires_unix_ns) {
  Result<TokenRecord> token = catalog_->FindToken(secret_sha256);
  if (token.status().IsNotFound()) return Status::Unauthenticated("unknown token");
  PROXIMA_RETURN_IF_ERROR(token.status());
  if (token->revoked_unix_ns != 0) {
    return Status::Unauthenticated("token " + token->id + " was revoked");
  }
  if (token->expires_unix_ns != 0 && clock_->NowUnixNanos() >= token->expires_unix_ns) {
    return Status::Unauthenticated("token " + token->id + " has expired; create a new one");
  }
  Result<UserRecord> user = catalog_->GetUser(token->user);
  if (user.status().IsNotFound()) {
    return Status::Unauthenticated("the user of token " + token->id + " no longer exists");
  }
  PROXIMA_RETURN_IF_ERROR(user.status());
  *expires_unix_ns = token->expires_unix_ns;
  Principal who{user->name, user->admin, token->id, {}};
  PROXIMA_ASSIGN_OR_RETURN(who.teams, catalog_->TeamsOfUser(user->name));
  if (who.admin) {
    who.best_access = Access::kAdmin;
  } else {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<GrantRecord> visible, VisibleDatasets(who));
    for (const GrantRecord& g : visible) who.best_access = std::max(who.best_access, g.access);
  }
  return who;
}

Result<Access> AccessControl::DatasetAccess(const Principal& who, std::string_view dataset) {
  if (who.admin) return Access::kAdmin;
  PROXIMA_ASSIGN_OR_RETURN(std::vector<GrantRecord> grants, catalog_->ListGrants(dataset));
  Access best = Access::kNone;
  for (const GrantRecord& g : grants) best = std::max(best, GrantedTo(who, g));
  return best;
}

Result<std::vector<GrantRecord>> AccessControl::VisibleDatasets(const Principal& who) {
  std::vector<GrantRecord> out;
  if (who.admin) {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<DatasetRecord> all, catalog_->ListDatasets());
    for (const DatasetRecord& d : all) out.push_back({d.name, "user:" + who.user, Access::kAdmin});
    return out;
  }
  PROXIMA_ASSIGN_OR_RETURN(std::vector<GrantRecord> grants, catalog_->GrantsOf(who.Subjects()));
  std::map<std::string, Access> best;
  for (const GrantRecord& g : grants) {
    Access& slot = best[g.dataset];
    slot = std::max(slot, GrantedTo(who, g));
  }
  for (const auto& [name, access] : best) out.push_back({name, "user:" + who.user, access});
  return out;
}

Result<bool> AccessControl::HasAnyAccess(const Principal& who, Access level) {
  if (who.admin || who.best_access >= level) return true;
  PROXIMA_ASSIGN_OR_RETURN(std::vector<GrantRecord> visible, VisibleDatasets(who));
  return std::any_of(visible.begin(), visible.end(),
                     [&](const GrantRecord& g) { return g.access >= level; });
}

Result<IssuedToken> AccessControl::IssueToken(std::string_view user, std::string_view description,
                                              int64_t ttl_ns) {
  IssuedToken issued;
  issued.secret = std::string(kTokenPrefix) + RandomHex(32);
  int64_t now = clock_->NowUnixNanos();
  issued.record = {RandomHex(6),
                   std::string(user),
                   std::string(description),
                   Sha256(issued.secret),
                   now,
                   ttl_ns > 0 ? now + ttl_ns : 0,
                   0};
  PROXIMA_RETURN_IF_ERROR(catalog_->CreateToken(issued.record));
  return issued;
}

Result<IssuedToken> AccessControl::AdoptToken(std::string_view user, std::string_view secret,
                                              std::string_view description) {
  if (!LooksLikeToken(secret)) {
    return Status::InvalidArgument("PROXIMA_ADMIN_TOKEN: expected 'pxm_' and 64 hex digits");
  }
  IssuedToken issued{{RandomHex(6), std::string(user), std::string(description), Sha256(secret),
                      clock_->NowUnixNanos(), 0, 0},
                     std::string(secret)};
  PROXIMA_RETURN_IF_ERROR(catalog_->CreateToken(issued.record));
  return issued;
}

}  // namespace proxima
