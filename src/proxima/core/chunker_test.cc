#include "proxima/core/chunker.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "proxima/base/hash.h"
#include "proxima/core/file_state.h"

namespace proxima {
namespace {

std::string Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<std::string> Cut(const Chunker& chunker, std::string_view data) {
  std::vector<std::string> out;
  while (!data.empty()) {
    size_t n = chunker.NextCut(data, true);
    out.emplace_back(data.substr(0, n));
    data.remove_prefix(n);
  }
  return out;
}

TEST(Chunker, CutsWithinBoundsAndCoversTheInput) {
  ChunkerParams p;
  Chunker chunker(p);
  std::string data = Random(20 << 20, 7);
  auto chunks = Cut(chunker, data);
  std::string joined;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i + 1 < chunks.size()) EXPECT_GE(chunks[i].size(), p.min_size);
    EXPECT_LE(chunks[i].size(), p.max_size);
    joined += chunks[i];
  }
  EXPECT_EQ(joined, data);
  // Average near the target for random data (loose bounds, deterministic seed).
  double avg = static_cast<double>(data.size()) / static_cast<double>(chunks.size());
  EXPECT_GT(avg, p.avg_size / 2.0);
  EXPECT_LT(avg, p.avg_size * 2.0);
}

TEST(Chunker, SmallInputIsOneChunk) {
  Chunker chunker(ChunkerParams{});
  EXPECT_EQ(chunker.NextCut("tiny", true), 4u);
}

TEST(Chunker, AnInsertedByteLeavesMostChunksUnchanged) {
  Chunker chunker(ChunkerParams{});
  std::string a = Random(16 << 20, 3);
  std::string b = a;
  b.insert(b.begin() + (8 << 20), 'X');
  auto ca = Cut(chunker, a), cb = Cut(chunker, b);
  std::set<Hash256> ha;
  for (auto& c : ca) ha.insert(Sha256(c));
  size_t shared = 0;
  for (auto& c : cb) shared += ha.count(Sha256(c));
  EXPECT_GE(shared + 2, cb.size());  // only the chunk(s) around the edit differ
  EXPECT_GT(shared, 0u);
}

TEST(WalkOrder, RanksSlashBelowEveryOtherByte) {
  EXPECT_LT(ComparePaths("a", "a/b"), 0);
  EXPECT_LT(ComparePaths("a/b", "a.txt"), 0);  // a's contents before "a.txt"
  EXPECT_LT(ComparePaths("a/z", "a0"), 0);
  EXPECT_EQ(ComparePaths("x/y", "x/y"), 0);
  EXPECT_GT(ComparePaths("b", "a/zzz"), 0);
}

}  // namespace
}  // namespace proxima
