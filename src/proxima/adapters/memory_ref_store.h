#pragma once

#include <map>
#include <mutex>
#include <string>

#include "proxima/ports/ref_store.h"

namespace proxima {

// A RefStore in memory, for unit tests of the core. Thread-safe.
class MemoryRefStore : public RefStore {
 public:
  Status CreateDataset(std::string_view name, int64_t created_unix_ns) override;
  Result<std::vector<DatasetRecord>> ListDatasets() override;
  Result<bool> DatasetExists(std::string_view name) override;
  Result<std::optional<ObjectId>> GetRef(std::string_view dataset, std::string_view ref) override;
  Status CompareAndSwapRef(std::string_view dataset, std::string_view ref,
                           const std::optional<ObjectId>& expected,
                           const std::optional<ObjectId>& desired) override;
  Result<std::vector<RefRecord>> ListRefs(std::string_view dataset) override;

 private:
  std::mutex mu_;
  std::map<std::string, int64_t, std::less<>> datasets_;
  std::map<std::pair<std::string, std::string>, ObjectId> refs_;
};

}  // namespace proxima
