#include "proxima/adapters/memory_ref_store.h"

namespace proxima {

namespace {
Status UnknownDataset(std::string_view name) {
  return Status::NotFound("dataset '" + std::string(name) + "' does not exist");
}
}  // namespace

Status MemoryRefStore::CreateDataset(std::string_view name, int64_t created_unix_ns) {
  std::lock_guard lock(mu_);
  if (!datasets_.emplace(std::string(name), created_unix_ns).second) {
    return Status::AlreadyExists("dataset '" + std::string(name) + "' already exists");
  }
  return Status::Ok();
}

Result<std::vector<DatasetRecord>> MemoryRefStore::ListDatasets() {
  std::lock_guard lock(mu_);
  std::vector<DatasetRecord> out;
  for (const auto& [name, created] : datasets_) out.push_back({name, created});
  return out;
}

Result<bool> MemoryRefStore::DatasetExists(std::string_view name) {
  std::lock_guard lock(mu_);
  return datasets_.find(name) != datasets_.end();
}

Result<std::optional<ObjectId>> MemoryRefStore::GetRef(std::string_view dataset,
                                                       std::string_view ref) {
  std::lock_guard lock(mu_);
  if (datasets_.find(dataset) == datasets_.end()) return UnknownDataset(dataset);
  auto it = refs_.find({std::string(dataset), std::string(ref)});
  if (it == refs_.end()) return std::optional<ObjectId>();
  return std::optional<ObjectId>(it->second);
}

Status MemoryRefStore::CompareAndSwapRef(std::string_view dataset, std::string_view ref,
                                         const std::optional<ObjectId>& expected,
                                         const std::optional<ObjectId>& desired) {
  std::lock_guard lock(mu_);
  if (datasets_.find(dataset) == datasets_.end()) return UnknownDataset(dataset);
  auto key = std::make_pair(std::string(dataset), std::string(ref));
  auto it = refs_.find(key);
  std::optional<ObjectId> current;
  if (it != refs_.end()) current = it->second;
  if (current != expected) {
    return Status::Aborted("ref '" + std::string(ref) + "' of dataset '" + std::string(dataset) +
                           "' is " + (current ? current->ShortHex() : "absent") +
                           ", not the expected " + (expected ? expected->ShortHex() : "absent"));
  }
  if (desired) {
    refs_[key] = *desired;
  } else if (it != refs_.end()) {
    refs_.erase(it);
  }
  return Status::Ok();
}

Result<std::vector<RefRecord>> MemoryRefStore::ListRefs(std::string_view dataset) {
  std::lock_guard lock(mu_);
  std::vector<RefRecord> out;
  for (const auto& [key, id] : refs_) {
    if (dataset.empty() || key.first == dataset) out.push_back({key.first, key.second, id});
  }
  return out;
}

}  // namespace proxima
