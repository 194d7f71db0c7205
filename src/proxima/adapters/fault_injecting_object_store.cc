#include "proxima/adapters/fault_injecting_object_store.h"

namespace proxima {

Status FaultInjectingObjectStore::Put(std::string_view key, std::string_view data) {
  const std::string& prefix = faults_.fail_put_prefix;
  if (!prefix.empty() && key.substr(0, prefix.size()) == prefix &&
      matching_puts_.fetch_add(1) >= faults_.puts_before_failure) {
    ++failures_;
    return faults_.error.WithContext("cannot store '" + std::string(key) + "'");
  }
  return inner_->Put(key, data);
}

Result<std::string> FaultInjectingObjectStore::Get(std::string_view key) {
  auto r = inner_->Get(key);
  if (r.ok() && faults_.truncate_gets && !r->empty()) r->resize(r->size() / 2);
  return r;
}

Result<std::string> FaultInjectingObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                        uint64_t length) {
  auto r = inner_->GetRange(key, offset, length);
  if (r.ok() && faults_.truncate_gets && !r->empty()) r->resize(r->size() / 2);
  return r;
}

}  // namespace proxima
