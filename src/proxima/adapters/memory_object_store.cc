#include "proxima/adapters/memory_object_store.h"

#include <vector>

namespace proxima {

Status MemoryObjectStore::Missing(std::string_view key) const {
  return Status::NotFound("object '" + std::string(key) + "' not found in memory store");
}

Status MemoryObjectStore::Put(std::string_view key, std::string_view data) {
  std::lock_guard lock(mu_);
  objects_.insert_or_assign(std::string(key), std::string(data));
  return Status::Ok();
}

Status MemoryObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  std::lock_guard lock(mu_);
  if (!objects_.emplace(std::string(key), std::string(data)).second) {
    return Status::AlreadyExists("object '" + std::string(key) + "' already exists");
  }
  return Status::Ok();
}

Result<std::string> MemoryObjectStore::Get(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Missing(key);
  return it->second;
}

Result<std::string> MemoryObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                uint64_t length) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Missing(key);
  if (offset >= it->second.size()) return std::string();
  return it->second.substr(offset, length);
}

Result<uint64_t> MemoryObjectStore::Size(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Missing(key);
  return uint64_t{it->second.size()};
}

Status MemoryObjectStore::List(std::string_view prefix,
                               const std::function<Status(const ObjectInfo&)>& fn) {
  std::vector<ObjectInfo> found;
  {
    std::lock_guard lock(mu_);
    for (auto it = objects_.lower_bound(prefix);
         it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      found.push_back({it->first, it->second.size()});
    }
  }
  for (const ObjectInfo& info : found) PROXIMA_RETURN_IF_ERROR(fn(info));
  return Status::Ok();
}

Status MemoryObjectStore::Delete(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it != objects_.end()) objects_.erase(it);
  return Status::Ok();
}

}  // namespace proxima
