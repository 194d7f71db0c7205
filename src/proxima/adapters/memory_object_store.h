#pragma once

#include <map>
#include <mutex>
#include <string>

#include "proxima/ports/object_store.h"

namespace proxima {

// An ObjectStore in memory, for fast unit tests of the core. Thread-safe.
class MemoryObjectStore : public ObjectStore {
 public:
  std::string Describe() const override { return "memory"; }
  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Delete(std::string_view key) override;
  Status Sync() override { return Status::Ok(); }

 private:
  Status Missing(std::string_view key) const;

  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> objects_;
};

}  // namespace proxima
