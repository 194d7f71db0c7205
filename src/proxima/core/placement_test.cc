#include "proxima/core/placement.h"

#include <gtest/gtest.h>

namespace proxima {
namespace {

constexpr int64_t kMinute = int64_t{60} * 1'000'000'000;

ObjectId Id(char c) { return *ObjectId::FromHex(std::string(64, c)); }

// Two sites, each with a volume: "onprem" (8 CPUs, 2 GPUs) and "cloud"
// (64 CPUs, 8 GPUs); queue "train" prefers onprem and bursts after 10m.
struct World {
  std::vector<ResourceRecord> resources = {
      {"onprem", ResourceKind::kSlurm, {8000, 0, 2}, "{}", 0},
      {"cloud", ResourceKind::kAgent, {64000, 0, 8}, "{}", 0},
  };
  std::vector<TemplateRecord> templates = {
      {"gpu-real", "onprem", {4000, 0, 1}, "", "", 0},
      {"cloud-gpu", "cloud", {4000, 0, 1}, "", "", 0},
  };
  std::vector<QueueRecord> queues = {{"train", {"gpu-real", "cloud-gpu"}, 10 * kMinute, 0},
                                     {"any", {"gpu-real", "cloud-gpu"}, 0, 0}};
  std::vector<VolumeRecord> volumes = {{"nfs", "/nfs", "onprem"}, {"ssd", "/ssd", "cloud"}};
  std::vector<CacheRecord> caches;
  std::unordered_map<std::string, Shape> used;

  void Cache(const std::string& volume, char commit, CacheState state, uint64_t bytes,
             uint64_t done = 0) {
    CacheRecord c;
    c.volume = volume;
    c.dataset = "xray";
    c.commit = Id(commit);
    c.state = state;
    c.bytes = bytes;
    c.done_bytes = done;
    caches.push_back(c);
  }
  PlacementView View() const {
    return PlacementView(resources, templates, queues, volumes, caches, used);
  }
};

JobRecord Job(const std::string& queue, int64_t submitted = 0, char commit = 'a') {
  JobRecord j;
  j.id = 1;
  j.spec.queue = queue;
  j.spec.command = {"train"};
  j.spec.datasets = {{"xray", Id(commit), true}};
  j.submitted_unix_ns = submitted;
  return j;
}

TEST(Placement, FirstTemplateWhenNoDataIsCachedAnywhere) {
  World w;
  auto view = w.View();
  auto d = view.Place(Job("any"), 0);
  ASSERT_TRUE(d.placed) << d.why;
  EXPECT_EQ(d.template_name, "gpu-real");
  EXPECT_NE(d.why.find("position 1 of 2"), std::string::npos) << d.why;
}

TEST(Placement, PrefersTheSiteThatHoldsTheDataOverQueueOrder) {
  World w;
  w.Cache("ssd", 'a', CacheState::kReady, 5'000'000);
  auto view = w.View();
  auto d = view.Place(Job("any"), 0);
  ASSERT_TRUE(d.placed);
  EXPECT_EQ(d.template_name, "cloud-gpu");
  EXPECT_EQ(d.resource, "cloud");
  EXPECT_NE(d.why.find("5.0 MB in ready caches"), std::string::npos) << d.why;
}

TEST(Placement, ReadyCachesCountBeforeFillsInProgress) {
  World w;
  w.Cache("nfs", 'a', CacheState::kFilling, 5'000'000, 4'000'000);
  w.Cache("ssd", 'a', CacheState::kReady, 5'000'000);
  auto d = w.View().Place(Job("any"), 0);
  ASSERT_TRUE(d.placed);
  EXPECT_EQ(d.template_name, "cloud-gpu");

  World fills;
  fills.Cache("ssd", 'a', CacheState::kFilling, 5'000'000, 1'000'000);
  auto f = fills.View().Place(Job("any"), 0);
  ASSERT_TRUE(f.placed);
  EXPECT_EQ(f.template_name, "cloud-gpu") << "a fill in progress beats nothing";
}

TEST(Placement, ACacheOfAnotherCommitDoesNotCount) {
  World w;
  w.Cache("ssd", 'b', CacheState::kReady, 5'000'000);
  auto d = w.View().Place(Job("any", 0, 'a'), 0);
  ASSERT_TRUE(d.placed);
  EXPECT_EQ(d.template_name, "gpu-real");
}

TEST(Placement, LaterTemplatesWaitForTheBurstDelay) {
  World w;
  w.used["onprem"] = {8000, 0, 2};  // full
  auto view = w.View();
  auto early = view.Place(Job("train", 0), 9 * kMinute);
  EXPECT_FALSE(early.placed);
  EXPECT_FALSE(early.impossible);
  EXPECT_NE(early.why.find("'gpu-real' on 'onprem' needs 4 CPUs, 1 GPU"), std::string::npos)
      << early.why;
  EXPECT_NE(early.why.find("'cloud-gpu' on 'cloud' bursts after 10m"), std::string::npos)
      << early.why;
  auto late = view.Place(Job("train", 0), 10 * kMinute);
  ASSERT_TRUE(late.placed) << late.why;
  EXPECT_EQ(late.template_name, "cloud-gpu");
  EXPECT_NE(late.why.find("burst after waiting 10m"), std::string::npos) << late.why;
}

TEST(Placement, BurstIsNotNeededWhileTheFirstTemplateHasRoom) {
  World w;
  auto d = w.View().Place(Job("train", 0), 60 * kMinute);
  ASSERT_TRUE(d.placed);
  EXPECT_EQ(d.template_name, "gpu-real");
}

TEST(Placement, APassReservesWhatItPlaces) {
  World w;
  auto view = w.View();
  auto a = view.Place(Job("any"), 0);
  auto b = view.Place(Job("any"), 0);
  auto c = view.Place(Job("any"), 0);
  ASSERT_TRUE(a.placed && b.placed && c.placed);
  EXPECT_EQ(a.template_name, "gpu-real");
  EXPECT_EQ(b.template_name, "gpu-real");
  EXPECT_EQ(c.template_name, "cloud-gpu") << "onprem's 8 CPUs are taken";
  EXPECT_EQ(view.Free("onprem").millicpus, 0);
  EXPECT_EQ(view.Free("cloud").gpus, 7);
  EXPECT_FALSE(view.Exhausted());
}

TEST(Placement, ExhaustedWhenNoTemplateFitsAnywhere) {
  World w;
  w.used["onprem"] = {8000, 0, 2};
  w.used["cloud"] = {62000, 0, 8};
  EXPECT_TRUE(w.View().Exhausted());
  w.used["cloud"] = {60000, 0, 7};
  EXPECT_FALSE(w.View().Exhausted());
}

TEST(Placement, UnknownQueueOrImpossibleShapeFailsInsteadOfWaiting) {
  World w;
  auto d = w.View().Place(Job("nope"), 0);
  EXPECT_TRUE(d.impossible);
  EXPECT_NE(d.why.find("'nope'"), std::string::npos);
  w.templates.push_back({"huge", "onprem", {1000, 0, 16}, "", "", 0});
  JobRecord j = Job("");
  j.spec.template_name = "huge";
  auto h = w.View().Place(j, 0);
  EXPECT_TRUE(h.impossible) << "16 GPUs fit on no resource";
}

TEST(Placement, ATemplateOnItsOwnNeverBursts) {
  World w;
  w.used["onprem"] = {8000, 0, 2};
  JobRecord j = Job("");
  j.spec.template_name = "gpu-real";
  auto d = w.View().Place(j, 100 * kMinute);
  EXPECT_FALSE(d.placed);
  EXPECT_FALSE(d.impossible);
}

TEST(Placement, DescribeShape) {
  EXPECT_EQ(DescribeShape({8000, 0, 1}), "8 CPUs, 1 GPU");
  EXPECT_EQ(DescribeShape({1000, 32'000'000'000, 0}), "1 CPU, 32.0 GB");
  EXPECT_EQ(DescribeShape({500, 0, 2}), "0.5 CPUs, 2 GPUs");
}

}  // namespace
}  // namespace proxima
