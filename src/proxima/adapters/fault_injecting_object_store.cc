#include "proxima/adapters/fault_injecting_object_store.h"

namespace proxima {

Status FaultInjectingObjectStore::Enter() {
  int call = calls_++;
  if (faults_.delay_ns > 0 && faults_.clock != nullptr) faults_.clock->SleepFor(faults_.delay_ns);
  if (call < faults_.transient_failures) {
    ++failures_;
    return faults_.transient;
  }
  return Status::Ok();
}

void FaultInjectingObjectStore::Damage(std::string& body) {
  if (body.empty()) return;
  int n = gets_++ - faults_.intact_gets;
  if (n < 0) return;
  if (n < faults_.truncated_gets) {
    ++failures_;
    body.resize(body.size() / 2);
  } else if (n < faults_.truncated_gets + faults_.corrupted_gets) {
    ++failures_;
    body[body.size() / 2] ^= 0x5a;
  }
}

Status FaultInjectingObjectStore::Put(std::string_view key, std::string_view data) {
  PROXIMA_RETURN_IF_ERROR(Enter());
  const std::string& prefix = faults_.fail_put_prefix;
  if (!prefix.empty() && key.substr(0, prefix.size()) == prefix &&
      matching_puts_.fetch_add(1) >= faults_.puts_before_failure) {
    ++failures_;
    return faults_.error.WithContext("cannot store '" + std::string(key) + "'");
  }
  return inner_->Put(key, data);
}

Status FaultInjectingObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  PROXIMA_RETURN_IF_ERROR(Enter());
  return inner_->PutIfAbsent(key, data);
}

Result<std::string> FaultInjectingObjectStore::Get(std::string_view key) {
  PROXIMA_RETURN_IF_ERROR(Enter());
  auto r = inner_->Get(key);
  if (r.ok()) Damage(*r);
  return r;
}

Result<std::string> FaultInjectingObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                        uint64_t length) {
  PROXIMA_RETURN_IF_ERROR(Enter());
  auto r = inner_->GetRange(key, offset, length);
  if (r.ok()) Damage(*r);
  return r;
}

Result<uint64_t> FaultInjectingObjectStore::Size(std::string_view key) {
  PROXIMA_RETURN_IF_ERROR(Enter());
  return inner_->Size(key);
}

Status FaultInjectingObjectStore::List(std::string_view prefix,
                                       const std::function<Status(const ObjectInfo&)>& fn) {
  PROXIMA_RETURN_IF_ERROR(Enter());
  return inner_->List(prefix, fn);
}

Status FaultInjectingObjectStore::Delete(std::string_view key) {
  PROXIMA_RETURN_IF_ERROR(Enter());
  return inner_->Delete(key);
}

Status FaultInjectingObjectStore::Sync() {
  PROXIMA_RETURN_IF_ERROR(Enter());
  return inner_->Sync();
}

}  // namespace proxima
