#include "proxima/core/chunker.h"

#include <algorithm>

namespace proxima {

namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A mask with `bits` one bits spread over the high half of the word, as FastCDC
// recommends, so that the boundary test looks at well-mixed hash bits.
uint64_t SpreadMask(int bits) {
  uint64_t mask = 0;
  for (int i = 0; i < bits; ++i) mask |= uint64_t{1} << (63 - 2 * i);
  return mask;
}

}  // namespace

Chunker::Chunker(const ChunkerParams& params)
    : params_(params), mask_small_(SpreadMask(22)), mask_large_(SpreadMask(18)) {
  uint64_t state = 0x50524f58494d4131ULL;  // "PROXIMA1"
  for (uint64_t& g : gear_) g = SplitMix64(&state);
}

size_t Chunker::NextCut(std::string_view data, bool at_end) const {
  size_t n = data.size();
  if (n <= params_.min_size) return n;
  size_t limit = std::min<size_t>(n, params_.max_size);
  size_t normal = std::min<size_t>(limit, params_.avg_size);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  uint64_t hash = 0;
  size_t i = params_.min_size;
  for (; i < normal; ++i) {
    hash = (hash << 1) + gear_[p[i]];
    if ((hash & mask_small_) == 0) return i + 1;
  }
  for (; i < limit; ++i) {
    hash = (hash << 1) + gear_[p[i]];
    if ((hash & mask_large_) == 0) return i + 1;
  }
  (void)at_end;
  return limit;
}

}  // namespace proxima
