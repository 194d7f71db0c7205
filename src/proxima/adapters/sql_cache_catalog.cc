#include "proxima/adapters/sql_cache_catalog.h"

#include <cmath>

namespace proxima {

namespace {

constexpr const char* kVolumeColumns =
    "name, path, resource, capacity_bytes, ttl_ns, high_ppm, low_ppm, created_unix_ns";
constexpr const char* kCacheColumns =
    "volume, dataset, commit_id, state, files, bytes, done_bytes, fetched_bytes, reason, "
    "created_unix_ns, last_used_unix_ns, pinned, version, team";

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

int64_t Ppm(double fraction) { return std::llround(fraction * 1e6); }

Status UnknownVolume(std::string_view name) {
  return Status::NotFound("volume " + Quote(name) + " does not exist (see 'proxima volume ls')");
}

std::string CacheName(std::string_view dataset, const ObjectId& commit) {
  return Quote(std::string(dataset) + "@" + commit.ShortHex());
}

}  // namespace

Status SqlCacheCatalog::Corrupt(std::string_view what) {
  return Status::Corruption("catalog " + cache_db_->Describe() + ": " + std::string(what));
}

Status SqlCacheCatalog::CreateVolume(const VolumeRecord& v) {
  auto r = cache_db_->Query(
      "INSERT INTO volumes(name, path, resource, capacity_bytes, ttl_ns, high_ppm, low_ppm, "
      "created_unix_ns) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
      {std::string_view(v.name), std::string_view(v.path), std::string_view(v.resource),
       static_cast<int64_t>(v.capacity_bytes), v.ttl_ns, Ppm(v.high), Ppm(v.low),
       v.created_unix_ns});
  if (r.status().IsAlreadyExists()) {
    return Status::AlreadyExists("volume " + Quote(v.name) + " already exists");
  }
  return r.status();
}

Result<std::vector<VolumeRecord>> SqlCacheCatalog::Volumes(const SqlRows& rows) {
  std::vector<VolumeRecord> out;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    VolumeRecord v;
    v.name = rows.Text(i, 0);
    v.path = rows.Text(i, 1);
    v.resource = rows.Text(i, 2);
    v.capacity_bytes = static_cast<uint64_t>(rows.Int(i, 3));
    v.ttl_ns = rows.Int(i, 4);
    v.high = static_cast<double>(rows.Int(i, 5)) / 1e6;
    v.low = static_cast<double>(rows.Int(i, 6)) / 1e6;
    v.created_unix_ns = rows.Int(i, 7);
    out.push_back(std::move(v));
  }
  return out;
}

Result<VolumeRecord> SqlCacheCatalog::GetVolume(std::string_view name) {
  PROXIMA_ASSIGN_OR_RETURN(SqlRows rows, cache_db_->Query(std::string("SELECT ") + kVolumeColumns +
                                                              " FROM volumes WHERE name = $1",
                                                          {name}));
  if (rows.empty()) return UnknownVolume(name);
  PROXIMA_ASSIGN_OR_RETURN(auto volumes, Volumes(rows));
  return volumes[0];
}

Result<std::vector<VolumeRecord>> SqlCacheCatalog::ListVolumes() {
  PROXIMA_ASSIGN_OR_RETURN(SqlRows rows, cache_db_->Query(std::string("SELECT ") + kVolumeColumns +
                                                              " FROM volumes ORDER BY name",
                                                          {}));
  return Volumes(rows);
}

Status SqlCacheCatalog::DeleteVolume(std::string_view name) {
  return cache_db_->Transact([&](SqlSession& s) -> Status {
    PROXIMA_ASSIGN_OR_RETURN(SqlRows n,
                             s.Query("SELECT COUNT(*) FROM caches WHERE volume = $1", {name}));
    if (n.Int(0, 0) > 0) {
      return Status::FailedPrecondition("volume " + Quote(name) + " still has " +
                                        std::to_string(n.Int(0, 0)) +
                                        " caches: remove them first ('proxima cache rm')");
    }
    PROXIMA_RETURN_IF_ERROR(s.Query("DELETE FROM leases WHERE volume = $1", {name}).status());
    PROXIMA_RETURN_IF_ERROR(
        s.Query("DELETE FROM volume_quotas WHERE volume = $1", {name}).status());
    PROXIMA_ASSIGN_OR_RETURN(SqlRows r, s.Query("DELETE FROM volumes WHERE name = $1", {name}));
    return r.affected == 1 ? Status::Ok() : UnknownVolume(name);
  });
}

Result<std::vector<CacheRecord>> SqlCacheCatalog::Caches(const SqlRows& rows) {
  std::vector<CacheRecord> out;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    CacheRecord c;
    c.volume = rows.Text(i, 0);
    c.dataset = rows.Text(i, 1);
    auto id = ObjectId::FromHex(rows.Text(i, 2));
    auto state = ParseCacheState(rows.Text(i, 3));
    if (!id || !state) return Corrupt("a cache row of volume " + Quote(c.volume) + " is damaged");
    c.commit = *id;
    c.state = *state;
    c.files = static_cast<uint64_t>(rows.Int(i, 4));
    c.bytes = static_cast<uint64_t>(rows.Int(i, 5));
    c.done_bytes = static_cast<uint64_t>(rows.Int(i, 6));
    c.fetched_bytes = static_cast<uint64_t>(rows.Int(i, 7));
    c.reason = rows.Text(i, 8);
    c.created_unix_ns = rows.Int(i, 9);
    c.last_used_unix_ns = rows.Int(i, 10);
    c.pinned = rows.Int(i, 11) != 0;
    c.version = rows.Int(i, 12);
    c.team = rows.Text(i, 13);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::optional<CacheRecord>> SqlCacheCatalog::GetCache(std::string_view volume,
                                                             std::string_view dataset,
                                                             const ObjectId& commit) {
  std::string hex = commit.Hex();
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      cache_db_->Query(std::string("SELECT ") + kCacheColumns +
                           " FROM caches WHERE volume = $1 AND dataset = $2 AND commit_id = $3",
                       {volume, dataset, std::string_view(hex)}));
  if (rows.empty()) return std::optional<CacheRecord>();
  PROXIMA_ASSIGN_OR_RETURN(auto caches, Caches(rows));
  return std::optional<CacheRecord>(std::move(caches[0]));
}

Result<std::vector<CacheRecord>> SqlCacheCatalog::ListCaches(std::string_view volume) {
  std::string order = " ORDER BY volume, dataset, commit_id";
  Result<SqlRows> rows =
      volume.empty()
          ? cache_db_->Query(std::string("SELECT ") + kCacheColumns + " FROM caches" + order, {})
          : cache_db_->Query(
                std::string("SELECT ") + kCacheColumns + " FROM caches WHERE volume = $1" + order,
                {volume});
  PROXIMA_RETURN_IF_ERROR(rows.status());
  return Caches(*rows);
}

Result<int64_t> SqlCacheCatalog::PutCache(const CacheRecord& c) {
  std::string hex = c.commit.Hex();
  std::string_view state = CacheStateName(c.state);
  int64_t next = c.version + 1;
  Result<SqlRows> r = SqlRows{};
  if (c.version == 0) {
    r = cache_db_->Query(
        "INSERT INTO caches(volume, dataset, commit_id, state, files, bytes, done_bytes, "
        "fetched_bytes, reason, created_unix_ns, last_used_unix_ns, pinned, version, team) "
        "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13)",
        {std::string_view(c.volume), std::string_view(c.dataset), std::string_view(hex), state,
         static_cast<int64_t>(c.files), static_cast<int64_t>(c.bytes),
         static_cast<int64_t>(c.done_bytes), static_cast<int64_t>(c.fetched_bytes),
         std::string_view(c.reason), c.created_unix_ns, c.last_used_unix_ns,
         int64_t{c.pinned ? 1 : 0}, std::string_view(c.team)});
    if (r.status().IsAlreadyExists()) {
      return Status::FailedPrecondition("cache " + CacheName(c.dataset, c.commit) + " on volume " +
                                        Quote(c.volume) +
                                        " was recorded meanwhile by another writer");
    }
    if (r.status().code() == StatusCode::kFailedPrecondition) return UnknownVolume(c.volume);
  } else {
    r = cache_db_->Query(
        "UPDATE caches SET state = $4, files = $5, bytes = $6, done_bytes = $7, "
        "fetched_bytes = $8, reason = $9, last_used_unix_ns = $10, pinned = $11, version = $12 "
        "WHERE volume = $1 AND dataset = $2 AND commit_id = $3 AND version = $13",
        {std::string_view(c.volume), std::string_view(c.dataset), std::string_view(hex), state,
         static_cast<int64_t>(c.files), static_cast<int64_t>(c.bytes),
         static_cast<int64_t>(c.done_bytes), static_cast<int64_t>(c.fetched_bytes),
         std::string_view(c.reason), c.last_used_unix_ns, int64_t{c.pinned ? 1 : 0}, next,
         c.version});
    if (r.ok() && r->affected != 1) {
      return Status::FailedPrecondition("cache " + CacheName(c.dataset, c.commit) + " on volume " +
                                        Quote(c.volume) +
                                        " was changed or removed meanwhile by another writer");
    }
  }
  PROXIMA_RETURN_IF_ERROR(r.status());
  return next;
}

Status SqlCacheCatalog::DeleteCache(std::string_view volume, std::string_view dataset,
                                    const ObjectId& commit, int64_t version) {
  std::string hex = commit.Hex();
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows r, cache_db_->Query("DELETE FROM caches WHERE volume = $1 AND dataset = $2 AND "
                                  "commit_id = $3 AND version = $4",
                                  {volume, dataset, std::string_view(hex), version}));
  if (r.affected == 1) return Status::Ok();
  return Status::FailedPrecondition("cache " + CacheName(dataset, commit) + " on volume " +
                                    Quote(volume) + " was changed or removed meanwhile");
}

Status SqlCacheCatalog::PutQuota(const QuotaRecord& q) {
  if (q.bytes == 0) {
    return cache_db_
        ->Query("DELETE FROM volume_quotas WHERE volume = $1 AND team = $2",
                {std::string_view(q.volume), std::string_view(q.team)})
        .status();
  }
  auto r = cache_db_->Query(
      "INSERT INTO volume_quotas(volume, team, bytes) VALUES($1, $2, $3) "
      "ON CONFLICT(volume, team) DO UPDATE SET bytes = $3",
      {std::string_view(q.volume), std::string_view(q.team), static_cast<int64_t>(q.bytes)});
  if (r.status().code() == StatusCode::kFailedPrecondition) return UnknownVolume(q.volume);
  return r.status();
}

Result<std::vector<QuotaRecord>> SqlCacheCatalog::ListQuotas(std::string_view volume) {
  PROXIMA_ASSIGN_OR_RETURN(SqlRows rows,
                           cache_db_->Query("SELECT volume, team, bytes FROM volume_quotas WHERE "
                                            "volume = $1 ORDER BY team",
                                            {volume}));
  std::vector<QuotaRecord> out;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    out.push_back({rows.Text(i, 0), rows.Text(i, 1), static_cast<uint64_t>(rows.Int(i, 2))});
  }
  return out;
}

Status SqlCacheCatalog::PutLease(const LeaseRecord& l) {
  std::string hex = l.commit.Hex();
  auto r = cache_db_->Query(
      "INSERT INTO leases(id, volume, dataset, commit_id, holder, expires_unix_ns, owner) "
      "VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(id) DO UPDATE SET expires_unix_ns = $6 "
      "WHERE leases.volume = $2 AND leases.dataset = $3 AND leases.commit_id = $4",
      {std::string_view(l.id), std::string_view(l.volume), std::string_view(l.dataset),
       std::string_view(hex), std::string_view(l.holder), l.expires_unix_ns,
       std::string_view(l.owner)});
  if (r.status().code() == StatusCode::kFailedPrecondition) return UnknownVolume(l.volume);
  PROXIMA_RETURN_IF_ERROR(r.status());
  if (r->affected != 1) {
    return Status::AlreadyExists("lease '" + l.id + "' is a lease of another cache");
  }
  return Status::Ok();
}

Status SqlCacheCatalog::DeleteLease(std::string_view id) {
  PROXIMA_ASSIGN_OR_RETURN(SqlRows r, cache_db_->Query("DELETE FROM leases WHERE id = $1", {id}));
  if (r.affected == 1) return Status::Ok();
  return Status::NotFound("lease " + Quote(id) + " does not exist (it expired and was collected)");
}

Result<std::vector<LeaseRecord>> SqlCacheCatalog::ListLeases(std::string_view volume) {
  PROXIMA_ASSIGN_OR_RETURN(
      SqlRows rows,
      cache_db_->Query("SELECT id, volume, dataset, commit_id, holder, expires_unix_ns, owner "
                       "FROM leases WHERE volume = $1 ORDER BY id",
                       {volume}));
  std::vector<LeaseRecord> out;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    auto id = ObjectId::FromHex(rows.Text(i, 3));
    if (!id) return Corrupt("lease " + Quote(rows.Text(i, 0)) + " is damaged");
    out.push_back({rows.Text(i, 0), rows.Text(i, 1), rows.Text(i, 2), *id, rows.Text(i, 4),
                   rows.Int(i, 5), rows.Text(i, 6)});
  }
  return out;
}

}  // namespace proxima
