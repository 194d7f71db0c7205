#pragma once

// The hub's request bodies and query parameters, parsed and validated
// without the HTTP library, so that a fuzz target (tests/fuzz) can drive
// them directly. Every error is InvalidArgument and names the field.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/model/keys.h"
#include "proxima/ports/catalog.h"
#include "proxima/ports/compute_catalog.h"

namespace proxima::api {

struct CreateDatasetRequest {
  std::string name;
};
struct RefUpdateRequest {
  std::optional<ObjectId> expected;  // absent or null: the ref must not exist
  std::optional<ObjectId> desired;   // null: delete the ref
};
struct GrantRequest {
  std::string subject;  // "user:NAME" or "team:NAME"
  Access access = Access::kRead;
};
struct CreateUserRequest {
  std::string name;
  bool admin = false;
};
struct CreateTeamRequest {
  std::string name;
};
struct MemberRequest {
  TeamRole role = TeamRole::kMember;
};
struct CreateTokenRequest {
  std::string description;
  int64_t expires_in_seconds = 0;  // 0: never
};
struct ObjectUrlsRequest {
  std::string method;  // "GET" or "PUT"
  std::vector<std::string> keys;
};
struct PageRequest {
  std::string after;
  size_t limit = 100;
};

// POST /api/v1/objects/batch: small objects (not packs, not the config) in
// one body, each a length-prefixed key then its length-prefixed bytes
// (varint lengths, base/coding.h). Views into `body`; 1 to `max_items`.
struct ObjectBatchItem {
  std::string_view key;
  std::string_view bytes;
};
Result<std::vector<ObjectBatchItem>> ParseObjectBatch(std::string_view body, size_t max_items);

Result<CreateDatasetRequest> ParseCreateDataset(std::string_view body);
Result<RefUpdateRequest> ParseRefUpdate(std::string_view body);
Result<GrantRequest> ParseGrant(std::string_view body);
Result<CreateUserRequest> ParseCreateUser(std::string_view body);
Result<CreateTeamRequest> ParseCreateTeam(std::string_view body);
Result<MemberRequest> ParseMember(std::string_view body);
Result<CreateTokenRequest> ParseCreateToken(std::string_view body);
// {"method": "GET"|"PUT", "keys": [...]}: 1 to 1,000 valid object keys.
Result<ObjectUrlsRequest> ParseObjectUrls(std::string_view body);

// ?after=&limit= : limit 1..max_limit, default min(100, max_limit).
// POST /api/v1/volumes: name, path (absolute), and optional resource,
// capacity_bytes, ttl_seconds, high, low.
Result<VolumeRecord> ParseVolume(std::string_view body);
// PUT /api/v1/volumes/V/caches/D/C: the row's fields and the version it
// replaces (0: a new row).
Result<CacheRecord> ParseCacheRow(std::string_view body);
// PUT /api/v1/volumes/V/quotas/TEAM: {"bytes": N} (0 removes the quota).
Result<uint64_t> ParseQuota(std::string_view body);
// PUT /api/v1/volumes/V/leases/ID: dataset, commit, holder, expires_unix_ns.
Result<LeaseRecord> ParseLease(std::string_view body);

// POST /api/v1/compute, /templates, /queues: the codec's JSON
// (ports/compute_codec.h), with every name and number checked.
Result<ResourceRecord> ParseResource(std::string_view body);
Result<TemplateRecord> ParseTemplate(std::string_view body);
Result<QueueRecord> ParseQueue(std::string_view body);
// POST /api/v1/jobs: a JobSpec. A command of 1 to 1,000 arguments without
// NUL bytes, environment names of [A-Za-z_][A-Za-z0-9_]*, datasets named
// once each, at most one of queue and template.
Result<JobSpec> ParseJobSpec(std::string_view body);

Result<PageRequest> ParsePage(const std::multimap<std::string, std::string>& params,
                              size_t max_limit);

// User and team names follow the dataset name rules (1 to 100 characters of
// [A-Za-z0-9._-], not starting with '.' or '-').
Status ValidatePrincipalName(std::string_view name, std::string_view what);
// "user:NAME" or "team:NAME".
Status ValidateSubject(std::string_view subject);
// A ref name as the API takes it: "head" or "tags/TAG".
Status ValidateRefName(std::string_view ref);
// A store key the hub serves: "config" or a key ObjectKey produces.
Status ValidateObjectKey(std::string_view key);

}  // namespace proxima::api
