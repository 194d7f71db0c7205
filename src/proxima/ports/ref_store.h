#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/model/keys.h"

namespace proxima {

struct DatasetRecord {
  std::string name;
  int64_t created_unix_ns = 0;
};

struct RefRecord {
  std::string dataset;
  std::string name;  // "head" or "tags/<tag>"
  ObjectId commit;
};

inline constexpr std::string_view kHeadRef = "head";
inline std::string TagRef(std::string_view tag) { return "tags/" + std::string(tag); }

// The catalog of datasets and their refs: the only mutable state of a
// dataset. The embedded adapter is SQLite next to the local store; a server
// catalog (PostgreSQL) comes later behind this same port.
//
// Contract, checked by tests/ref_store_conformance:
// - Thread-safe, and safe across processes sharing the same catalog.
// - CompareAndSwapRef is atomic: of racing writers with the same expected
//   value exactly one succeeds; the others get Aborted.
// - Unknown datasets give NotFound naming the dataset.
class RefStore {
 public:
  virtual ~RefStore() = default;

  // AlreadyExists if a dataset of that name exists.
  virtual Status CreateDataset(std::string_view name, int64_t created_unix_ns) = 0;
  virtual Result<std::vector<DatasetRecord>> ListDatasets() = 0;
  virtual Result<bool> DatasetExists(std::string_view name) = 0;

  // The commit a ref points at, nullopt if the ref does not exist.
  virtual Result<std::optional<ObjectId>> GetRef(std::string_view dataset,
                                                 std::string_view ref) = 0;

  // Sets `ref` to `desired` if it currently is `expected` (nullopt: absent).
  // A nullopt `desired` deletes the ref. Aborted when the current value
  // differs, naming the ref and its current value.
  virtual Status CompareAndSwapRef(std::string_view dataset, std::string_view ref,
                                   const std::optional<ObjectId>& expected,
                                   const std::optional<ObjectId>& desired) = 0;

  // Every ref of `dataset`, or of all datasets when `dataset` is empty.
  virtual Result<std::vector<RefRecord>> ListRefs(std::string_view dataset) = 0;
};

}  // namespace proxima
