// Micro-benchmarks of the hot paths. Run: build/bin/proxima_micro_bench
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "proxima/adapters/memory_object_store.h"
#include "proxima/adapters/sql_catalog.h"
#include "proxima/base/hash.h"
#include "proxima/core/chunker.h"
#include "proxima/core/diff.h"
#include "proxima/core/placement.h"
#include "proxima/core/repository.h"
#include "proxima/core/scheduler.h"
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

// A folder of 100 files with one changed: what a sync stores and a diff or
// clone reads for each changed folder.
void BM_TreeDeltaEncode(benchmark::State& state) {
  std::string base = EncodeTree(MakeTree(static_cast<size_t>(state.range(0)), 0));
  std::string next = EncodeTree(MakeTree(static_cast<size_t>(state.range(0)), 1));
  ObjectId base_id = Sha256(base);
  for (auto _ : state) benchmark::DoNotOptimize(EncodeTreeDelta(base_id, base, next));
}
BENCHMARK(BM_TreeDeltaEncode)->Arg(100)->Arg(10000);

void BM_TreeDeltaApply(benchmark::State& state) {
  std::string base = EncodeTree(MakeTree(static_cast<size_t>(state.range(0)), 0));
  std::string next = EncodeTree(MakeTree(static_cast<size_t>(state.range(0)), 1));
  std::string stored = EncodeTreeDelta(Sha256(base), base, next);
  TreeDelta delta = *ParseTreeDelta(stored, "t");
  for (auto _ : state) benchmark::DoNotOptimize(ApplyTreeDelta(delta, base, "t"));
}
BENCHMARK(BM_TreeDeltaApply)->Arg(100)->Arg(10000);

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

// The scheduler's placement at scale (issue 6: "a placement decision with
// 10,000 queued jobs and 100 templates takes under 10 ms"): 20 resources
// of 5 templates each, 10 queues of 10 templates, 10,000 queued jobs each
// reading one of 100 commits, 1,000 cache rows on the resources' volumes.
struct PlacementWorld {
  std::vector<ResourceRecord> resources;
  std::vector<TemplateRecord> templates;
  std::vector<QueueRecord> queues;
  std::vector<VolumeRecord> volumes;
  std::vector<CacheRecord> caches;
  std::vector<JobRecord> jobs;
  std::unordered_map<std::string, Shape> used;

  PlacementWorld() {
    std::mt19937_64 rng(7);
    for (int r = 0; r < 20; ++r) {
      std::string name = "site" + std::to_string(r);
      resources.push_back({name, ResourceKind::kSlurm, {64000, 512ull << 30, 8}, "{}", 0});
      volumes.push_back({"vol" + std::to_string(r), "/v", name});
      for (int t = 0; t < 5; ++t) {
        templates.push_back({name + "-t" + std::to_string(t),
                             name,
                             {1000 * (t + 1), uint64_t(4 << 30) * (t + 1), t % 2},
                             "",
                             "",
                             0});
      }
    }
    for (int q = 0; q < 10; ++q) {
      QueueRecord queue{"q" + std::to_string(q), {}, 600'000'000'000, 0};
      for (int t = 0; t < 10; ++t) queue.templates.push_back(templates[(q * 10 + t) % 100].name);
      queues.push_back(queue);
    }
    std::vector<ObjectId> commits;
    for (int c = 0; c < 100; ++c) commits.push_back(Sha256("commit" + std::to_string(c)));
    for (int i = 0; i < 1000; ++i) {
      CacheRecord c;
      c.volume = "vol" + std::to_string(rng() % 20);
      c.dataset = "ds";
      c.commit = commits[rng() % 100];
      c.state = rng() % 4 == 0 ? CacheState::kFilling : CacheState::kReady;
      c.bytes = 1ull << 30;
      c.done_bytes = c.bytes / 2;
      caches.push_back(c);
    }
    for (int j = 0; j < 10000; ++j) {
      JobRecord job;
      job.id = j + 1;
      job.spec.command = {"train"};
      job.spec.queue = "q" + std::to_string(rng() % 10);
      job.spec.datasets = {{"ds", commits[rng() % 100], true}};
      job.submitted_unix_ns = static_cast<int64_t>(rng() % 1'000'000'000'000);
      jobs.push_back(std::move(job));
    }
  }
};

// One pass: build the view, decide for all 10,000 jobs (most wait: the
// sites fill up after a few hundred placements).
void BM_PlacementPass10kJobs100Templates(benchmark::State& state) {
  PlacementWorld w;
  for (auto _ : state) {
    PlacementView view(w.resources, w.templates, w.queues, w.volumes, w.caches, w.used);
    int placed = 0;
    for (const JobRecord& j : w.jobs) placed += view.Place(j, 1'000'000'000'000).placed ? 1 : 0;
    benchmark::DoNotOptimize(placed);
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_PlacementPass10kJobs100Templates)->Unit(benchmark::kMillisecond);

// One decision for a job that finds room, in a view of the world above.
void BM_PlacementDecision(benchmark::State& state) {
  PlacementWorld w;
  PlacementView view(w.resources, w.templates, w.queues, w.volumes, w.caches, w.used);
  size_t i = 0;
  for (auto _ : state) {
    JobRecord j = w.jobs[i++ % w.jobs.size()];
    auto d = view.Place(j, 1'000'000'000'000);
    if (view.Exhausted()) {  // refill, outside the timing
      state.PauseTiming();
      view = PlacementView(w.resources, w.templates, w.queues, w.volumes, w.caches, w.used);
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_PlacementDecision)->Unit(benchmark::kMicrosecond);

// An executor whose attempts run forever.
class BusyExecutor : public Executor {
 public:
  Result<std::string> Launch(const LaunchSpec& spec) override {
    return std::to_string(spec.job_id);
  }
  Result<Execution> Poll(const std::string&) override {
    return Execution{Execution::Phase::kRunning, -1, ""};
  }
  Status Cancel(const std::string&) override { return Status::Ok(); }
  Result<std::string> ReadLog(const std::string&, uint64_t, size_t) override {
    return std::string();
  }
  Status Forget(const std::string&) override { return Status::Ok(); }
  std::string Describe() const override { return "busy"; }
};

// A whole scheduler pass in a SQLite catalog over 10,000 queued jobs and
// the 1,280 running ones that fill the 20 sites: read the active jobs and
// the compute rows, poll the running ones, place the rest (all wait). The
// first pass, untimed, launches the running ones and writes why each
// waiting job waits; the timed passes find nothing new to write.
void BM_SchedulerPass10kQueuedJobs(benchmark::State& state) {
  PlacementWorld w;
  char dir[] = "/tmp/proxima-bench-sched-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return;
  auto catalog = std::move(OpenSqliteCatalog(std::string(dir) + "/c.db", 1)).value();
  for (const auto& r : w.resources) IgnoreError(catalog->CreateResource(r));
  for (const auto& t : w.templates) IgnoreError(catalog->CreateTemplate(t));
  for (const auto& q : w.queues) IgnoreError(catalog->CreateQueue(q));
  for (const auto& r : w.resources) {  // 64 one-CPU jobs fill each site
    for (int i = 0; i < 64; ++i) {
      JobRecord filler;
      filler.spec.command = {"sleep"};
      filler.spec.template_name = r.name + "-t0";
      IgnoreError(catalog->CreateJob(filler).status());
    }
  }
  for (auto& j : w.jobs) {
    j.spec.datasets.clear();  // no volumes to stage on here
    IgnoreError(catalog->CreateJob(j).status());
  }
  MemoryObjectStore store;
  auto repo = std::move(Repository::Open(&store, true)).value();
  ManualClock clock;
  BusyExecutor busy;
  SchedulerServices s{*catalog,
                      *catalog,
                      *repo,
                      clock,
                      [&busy](const ResourceRecord&) -> Executor* { return &busy; },
                      {}};
  Scheduler scheduler(s, {});
  IgnoreError(scheduler.RunOnce().status());
  for (auto _ : state) IgnoreError(scheduler.RunOnce().status());
  state.SetItemsProcessed(state.iterations() * 11280);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SchedulerPass10kQueuedJobs)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace proxima

BENCHMARK_MAIN();
