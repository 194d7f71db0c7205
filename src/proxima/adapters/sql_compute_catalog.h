#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxima/adapters/sql_cache_catalog.h"

namespace proxima {

// The compute rows of the SQL catalog (tables of migration 5), as a base of
// the SQL catalog class, like SqlCacheCatalog: `db` outlives these calls.
class SqlComputeCatalog : public SqlCacheCatalog {
 public:
  explicit SqlComputeCatalog(SqlDatabase* db) : SqlCacheCatalog(db), compute_db_(db) {}

  Status CreateResource(const ResourceRecord& r) override;
  Result<ResourceRecord> GetResource(std::string_view name) override;
  Result<std::vector<ResourceRecord>> ListResources() override;
  Status UpdateResource(const ResourceRecord& r) override;
  Status DeleteResource(std::string_view name) override;

  Status CreateTemplate(const TemplateRecord& t) override;
  Result<TemplateRecord> GetTemplate(std::string_view name) override;
  Result<std::vector<TemplateRecord>> ListTemplates() override;
  Status DeleteTemplate(std::string_view name) override;

  Status CreateQueue(const QueueRecord& q) override;
  Result<QueueRecord> GetQueue(std::string_view name) override;
  Result<std::vector<QueueRecord>> ListQueues() override;
  Status DeleteQueue(std::string_view name) override;

  Result<JobRecord> CreateJob(const JobRecord& job) override;
  Result<JobRecord> GetJob(int64_t id) override;
  Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter) override;
  Result<std::vector<JobRecord>> ListActiveJobs() override;
  Result<int64_t> PutJob(const JobRecord& job) override;

 private:
  Result<std::vector<JobRecord>> Jobs(const SqlRows& rows, bool prune_specs = false);
  SqlDatabase* compute_db_;
  // Decoded specs of active jobs, by id: a spec never changes, and the
  // scheduler reads every active job on every pass. Pruned to the active
  // jobs by each ListActiveJobs.
  std::mutex specs_mu_;
  std::unordered_map<int64_t, JobSpec> specs_;
};

}  // namespace proxima
