// Micro-benchmarks of the hot paths. Run: build/bin/proxima_micro_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>

#include "proxima/adapters/memory_object_store.h"
#include "proxima/base/hash.h"
#include "proxima/core/chunker.h"
#include "proxima/core/diff.h"
#include "proxima/core/repository.h"
#include "proxima/model/pack.h"
#include "proxima/model/tree.h"

namespace proxima {
namespace {

std::string Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  return s;
}

void BM_Sha256(benchmark::State& state) {
  std::string data = Random(static_cast<size_t>(state.range(0)), 1);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(4 << 10)->Arg(1 << 20);

void BM_Chunking(benchmark::State& state) {
  std::string data = Random(32 << 20, 2);
  Chunker chunker(ChunkerParams{});
  for (auto _ : state) {
    std::string_view rest = data;
    size_t chunks = 0;
    while (!rest.empty()) {
      rest.remove_prefix(chunker.NextCut(rest, true));
      ++chunks;
    }
    benchmark::DoNotOptimize(chunks);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_Chunking);

void BM_PackWriting(benchmark::State& state) {
  // 4 KiB blobs, as for a tiny-files dataset: hashing plus packing.
  std::vector<std::string> blobs;
  for (int i = 0; i < 1024; ++i) blobs.push_back(Random(4096, 100 + i));
  for (auto _ : state) {
    PackBuilder builder;
    for (const std::string& b : blobs) builder.Add(Sha256(b), b, false);
    std::vector<PackedBlob> table;
    benchmark::DoNotOptimize(builder.Finish(&table).size());
  }
  state.SetBytesProcessed(state.iterations() * 1024 * 4096);
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_PackWriting);

Tree MakeTree(size_t n, uint64_t salt) {
  Tree t;
  for (size_t i = 0; i < n; ++i) {
    TreeEntry e;
    char name[32];
    std::snprintf(name, sizeof(name), "img_%07zu.png", i);
    e.name = name;
    e.mode = 0644;
    e.size = 4096;
    e.chunks = {Sha256(std::to_string(i * 7919 + salt * (i % 100 == 0 ? 1 : 0)))};
    t.entries.push_back(std::move(e));
  }
  return t;
}

void BM_TreeEncodeDecode(benchmark::State& state) {
  Tree t = MakeTree(static_cast<size_t>(state.range(0)), 0);
  for (auto _ : state) {
    std::string bytes = EncodeTree(t);
    benchmark::DoNotOptimize(DecodeTree(bytes, "t"));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TreeEncodeDecode)->Arg(1000);

void BM_DiffOnePercentChanged(benchmark::State& state) {
  // 100 folders of 1,000 files; 1% of files changed, spread over all folders.
  MemoryObjectStore store;
  auto repo = std::move(Repository::Open(&store, true)).value();
  auto build = [&](uint64_t salt) {
    Tree root;
    for (int d = 0; d < 100; ++d) {
      Tree sub = MakeTree(1000, salt * (d + 1));
      ObjectId id = *repo->PutObject(ObjectKind::kTree, EncodeTree(sub));
      TreeEntry e;
      char name[16];
      std::snprintf(name, sizeof(name), "d%03d", d);
      e.name = name;
      e.type = EntryType::kDirectory;
      e.mode = 0755;
      e.tree = id;
      root.entries.push_back(e);
    }
    return *repo->PutObject(ObjectKind::kTree, EncodeTree(root));
  };
  ObjectId a = build(0), b = build(1);
  for (auto _ : state) benchmark::DoNotOptimize(DiffTrees(*repo, a, b));
  state.SetItemsProcessed(state.iterations() * 100000);
}
BENCHMARK(BM_DiffOnePercentChanged)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace proxima

BENCHMARK_MAIN();
