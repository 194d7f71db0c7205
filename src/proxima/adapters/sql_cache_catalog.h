#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxima/adapters/sql_database.h"
#include "proxima/ports/catalog.h"

namespace proxima {

// The cache rows of the SQL catalog (tables of migration 3), as a base of
// the SQL catalog class: it implements CacheCatalog on `db`, which the
// derived class owns and which outlives these calls.
class SqlCacheCatalog : public Catalog {
 public:
  explicit SqlCacheCatalog(SqlDatabase* db) : cache_db_(db) {}

  Status CreateVolume(const VolumeRecord& volume) override;
  Result<VolumeRecord> GetVolume(std::string_view name) override;
  Result<std::vector<VolumeRecord>> ListVolumes() override;
  Status DeleteVolume(std::string_view name) override;
  Status PutQuota(const QuotaRecord& quota) override;
  Result<std::vector<QuotaRecord>> ListQuotas(std::string_view volume) override;

  Result<std::optional<CacheRecord>> GetCache(std::string_view volume, std::string_view dataset,
                                              const ObjectId& commit) override;
  Result<std::vector<CacheRecord>> ListCaches(std::string_view volume) override;
  Result<int64_t> PutCache(const CacheRecord& cache) override;
  Status DeleteCache(std::string_view volume, std::string_view dataset, const ObjectId& commit,
                     int64_t version) override;

  Status PutLease(const LeaseRecord& lease) override;
  Status DeleteLease(std::string_view id) override;
  Result<std::vector<LeaseRecord>> ListLeases(std::string_view volume) override;

 private:
  Result<std::vector<VolumeRecord>> Volumes(const SqlRows& rows);
  Result<std::vector<CacheRecord>> Caches(const SqlRows& rows);
  Status Corrupt(std::string_view what);

  SqlDatabase* cache_db_;
};

}  // namespace proxima
