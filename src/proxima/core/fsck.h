#pragma once

#include <string>
#include <vector>

#include "proxima/core/progress.h"
#include "proxima/core/repository.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

struct FsckReport {
  uint64_t refs = 0;
  uint64_t commits = 0;
  uint64_t trees = 0;
  uint64_t blobs = 0;
  uint64_t packs = 0;
  uint64_t bytes_verified = 0;
  std::vector<std::string> problems;  // empty when the store is healthy
  // Harmless findings: damaged index objects of syncs that never published.
  std::vector<std::string> notes;
};

// `proxima data fsck`: verifies everything reachable from every ref of every
// dataset: each commit and tree is read and hashed, each blob is found in the
// index, and (with `read_data`) every pack holding a reachable blob is read
// whole, hashed, and each reachable blob decoded and hashed. Problems are
// collected, not returned as errors; the Status is for failures to run.
Result<FsckReport> CheckStore(Repository& repo, RefStore& refs, bool read_data, int threads,
                              Progress* progress);

}  // namespace proxima
