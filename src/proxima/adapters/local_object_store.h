#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "proxima/ports/object_store.h"

namespace proxima {

// An ObjectStore in a local (or NFS) folder: key "a/b/c" is file ROOT/a/b/c.
// Put writes a temporary file beside the target and renames it into place,
// so readers never see a partial object; Sync() flushes the whole file
// system (syncfs), which is far cheaper than an fsync per small object.
// Temporary files are named ".tmp-*" and are never listed. Thread-safe.
class LocalObjectStore : public ObjectStore {
 public:
  // Creates `root` if needed.
  static Result<std::unique_ptr<LocalObjectStore>> Open(const std::string& root);
  ~LocalObjectStore() override;

  std::string Describe() const override { return root_; }
  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  // O_DIRECT into the aligned buffer where the file system allows it.
  Result<std::string_view> GetRangeInto(std::string_view key, uint64_t offset, uint64_t length,
                                        AlignedBuffer* buffer) override;
  Result<uint64_t> Size(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Rename(std::string_view from, std::string_view to) override;
  Status Delete(std::string_view key) override;
  Status Sync() override;

 private:
  LocalObjectStore(std::string root, int root_fd) : root_(std::move(root)), root_fd_(root_fd) {}
  std::string PathOf(std::string_view key) const;
  Status CheckKey(std::string_view key) const;
  Status EnsureParent(const std::string& path);
  // Writes data to a new temporary file beside `path`; returns its name.
  Result<std::string> WriteTemp(const std::string& path, std::string_view data);

  const std::string root_;
  const int root_fd_;
  std::mutex mu_;
  std::unordered_set<std::string> made_dirs_;  // guarded by mu_
};

}  // namespace proxima
