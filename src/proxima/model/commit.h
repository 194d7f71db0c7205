#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/model/keys.h"

namespace proxima {

struct CommitStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t dirs = 0;
  uint64_t symlinks = 0;
  bool operator==(const CommitStats&) const = default;
};

struct CommitChanges {
  uint64_t added = 0;
  uint64_t modified = 0;
  uint64_t deleted = 0;
  uint64_t bytes_added = 0;  // bytes of new content stored by this commit
  bool operator==(const CommitChanges&) const = default;
};

// A commit object (docs/format.md, "Commit objects").
struct Commit {
  std::string dataset;
  ObjectId tree;
  std::vector<ObjectId> parents;
  std::string author;
  std::string message;
  int64_t time_unix_ns = 0;
  CommitStats stats;
  CommitChanges changes;
  std::string metadata_json = "{}";  // a JSON object, free-form
  std::string lineage_json = R"({"inputs":[],"run":null})";

  bool operator==(const Commit&) const = default;
};

// Canonical JSON bytes; the commit id is their SHA-256. Fails if a string is
// not UTF-8 or metadata is not a JSON object.
Result<std::string> EncodeCommit(const Commit& commit);
Result<Commit> DecodeCommit(std::string_view bytes, std::string_view what);

// OK when `json` is a JSON object (commit metadata); InvalidArgument otherwise.
Status ValidateMetadataJson(std::string_view json);

// "2026-11-28T17:05:00Z"
std::string FormatUtc(int64_t unix_ns);

// The store's configuration object (docs/format.md, "config").
struct ChunkerParams {
  uint32_t min_size = 512 * 1024;
  uint32_t avg_size = 1024 * 1024;
  uint32_t max_size = 8 * 1024 * 1024;
  bool operator==(const ChunkerParams&) const = default;
};

struct StoreConfig {
  // 2: trees may be stored as deltas (docs/format.md, "Tree deltas").
  static constexpr int kCurrentVersion = 2;
  int version = kCurrentVersion;
  std::string store_id;
  ChunkerParams chunker;
};

std::string EncodeStoreConfig(const StoreConfig& config);
// Refuses foreign objects and versions newer than kCurrentVersion.
Result<StoreConfig> DecodeStoreConfig(std::string_view bytes, std::string_view where);

}  // namespace proxima
