#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/model/keys.h"

namespace proxima {

// The catalog's rows for dataset caches (docs/caches.md): volumes, the
// caches on them and the leases of their readers. The volume holds the
// bytes; these rows hold the state, shared by every node and hub that uses
// one catalog.

inline constexpr int64_t kDefaultCacheTtlNs = int64_t{24} * 3600 * 1'000'000'000;

struct VolumeRecord {
  std::string name;
  std::string path;                     // absolute path of the volume's directory
  std::string resource;                 // the compute resource it sits next to
  uint64_t capacity_bytes = 0;          // 0: the size of the file system holding `path`
  int64_t ttl_ns = kDefaultCacheTtlNs;  // idle caches older than this are evicted
  double high = 0.9;                    // above this fraction of the capacity, evict...
  double low = 0.7;                     // ...least recently used caches until below this one
  int64_t created_unix_ns = 0;
};

enum class CacheState : uint8_t { kQueued, kFilling, kReady, kEvicting, kFailed };

inline std::string_view CacheStateName(CacheState state) {
  constexpr std::string_view kNames[] = {"queued", "filling", "ready", "evicting", "failed"};
  return kNames[static_cast<int>(state)];
}
inline std::optional<CacheState> ParseCacheState(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(CacheState::kFailed); ++i) {
    if (CacheStateName(static_cast<CacheState>(i)) == s) return static_cast<CacheState>(i);
  }
  return std::nullopt;
}

// One commit of one dataset on one volume.
struct CacheRecord {
  std::string volume;
  std::string dataset;
  ObjectId commit;
  CacheState state = CacheState::kQueued;
  uint64_t files = 0;          // files in the commit
  uint64_t bytes = 0;          // their total size
  uint64_t done_bytes = 0;     // filling: bytes in place so far
  uint64_t fetched_bytes = 0;  // bytes the fill downloaded (what the pool lacked)
  std::string reason;          // failed: why; ready: notes (files copied, not linked)
  std::string team;            // the team it counts against ("" : none)
  int64_t created_unix_ns = 0;
  int64_t last_used_unix_ns = 0;
  bool pinned = false;
  // The compare-and-swap token: 0 for a row not stored yet; every write
  // stores the next value.
  int64_t version = 0;
};

// A team's share of a volume: the bytes its caches may commit.
struct QuotaRecord {
  std::string volume;
  std::string team;
  uint64_t bytes = 0;
};

// A reader's claim on a cache: while it is not expired, the cache is not
// evicted. Holders renew it; one that stops lets it lapse.
struct LeaseRecord {
  std::string id;
  std::string volume;
  std::string dataset;
  ObjectId commit;
  std::string holder;  // who: "cache use (pid 123 on node7)", a job id...
  int64_t expires_unix_ns = 0;
  std::string owner;  // the hub user who took it ("" in the embedded mode)
};

// Thread-safe; every method is one atomic step in the catalog.
class CacheCatalog {
 public:
  virtual ~CacheCatalog() = default;

  // AlreadyExists for a name in use; NotFound (from GetVolume) names it.
  virtual Status CreateVolume(const VolumeRecord& volume) = 0;
  virtual Result<VolumeRecord> GetVolume(std::string_view name) = 0;
  virtual Result<std::vector<VolumeRecord>> ListVolumes() = 0;
  // FailedPrecondition while caches are recorded on the volume.
  virtual Status DeleteVolume(std::string_view name) = 0;

  // Sets a team's quota on a volume; 0 bytes removes it. NotFound for an
  // unknown volume.
  virtual Status PutQuota(const QuotaRecord& quota) = 0;
  virtual Result<std::vector<QuotaRecord>> ListQuotas(std::string_view volume) = 0;

  virtual Result<std::optional<CacheRecord>> GetCache(std::string_view volume,
                                                      std::string_view dataset,
                                                      const ObjectId& commit) = 0;
  // Every cache of `volume` (of every volume when empty), by volume, dataset
  // and commit.
  virtual Result<std::vector<CacheRecord>> ListCaches(std::string_view volume) = 0;
  // Stores `cache` if the stored row's version is `cache.version` (0: no row
  // yet) and returns the new version. FailedPrecondition when another writer
  // got there first (read again and decide again); NotFound for an unknown
  // volume.
  virtual Result<int64_t> PutCache(const CacheRecord& cache) = 0;
  // Removes the row if its version is `version`; FailedPrecondition if not.
  virtual Status DeleteCache(std::string_view volume, std::string_view dataset,
                             const ObjectId& commit, int64_t version) = 0;

  // Inserts a lease, or renews the one with the same id (its expiry only).
  // AlreadyExists when that id is a lease of another cache.
  virtual Status PutLease(const LeaseRecord& lease) = 0;
  // NotFound when there is no such lease (expired and collected, say).
  virtual Status DeleteLease(std::string_view id) = 0;
  // The leases of `volume`, expired ones included.
  virtual Result<std::vector<LeaseRecord>> ListLeases(std::string_view volume) = 0;
};

}  // namespace proxima
