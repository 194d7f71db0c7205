#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxima/model/commit.h"

namespace proxima {

// Content-defined chunking, FastCDC with a gear hash (docs/format.md, "Blobs
// and content-defined chunking"). Stateless after construction; thread-safe.
class Chunker {
 public:
  explicit Chunker(const ChunkerParams& params);

  // The length of the chunk that starts at data[0]. `at_end` says that `data`
  // holds the rest of the file; otherwise it must hold at least max_size
  // bytes (or all that remains).
  size_t NextCut(std::string_view data, bool at_end) const;

  const ChunkerParams& params() const { return params_; }

 private:
  ChunkerParams params_;
  uint64_t mask_small_;
  uint64_t mask_large_;
  std::array<uint64_t, 256> gear_;
};

}  // namespace proxima
