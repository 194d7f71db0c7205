// The ComputeCatalog contract (ports/compute_catalog.h), run against SQLite
// and a real PostgreSQL server.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "catalog_factories.h"
#include "proxima/ports/compute_codec.h"

namespace proxima {
namespace {

template <typename Factory>
class ComputeCatalogConformance : public CatalogConformance<Factory> {};
TYPED_TEST_SUITE(ComputeCatalogConformance, CatalogFactories, Names);

ObjectId Id(char c) { return *ObjectId::FromHex(std::string(64, c)); }

JobRecord NewJob(std::string owner, std::string queue) {
  JobRecord j;
  j.owner = std::move(owner);
  j.spec.command = {"python3", "train.py", "--epochs", "10"};
  j.spec.env = {{"SEED", "7"}};
  j.spec.datasets = {{"xray", Id('a'), true}, {"labels", Id('b'), false}};
  j.spec.queue = std::move(queue);
  j.spec.timeout_ns = 3600'000'000'000;
  j.spec.max_retries = 3;
  j.submitted_unix_ns = 1000;
  return j;
}

TYPED_TEST(ComputeCatalogConformance, ResourcesTemplatesAndQueuesReferToEachOther) {
  Catalog& c = this->c();
  ResourceRecord onprem{"onprem", ResourceKind::kSlurm, {8000, 32ull << 30, 2}, "{\"x\":1}", 5};
  ASSERT_TRUE(c.CreateResource(onprem).ok());
  EXPECT_TRUE(c.CreateResource(onprem).IsAlreadyExists());
  auto got = c.GetResource("onprem");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->kind, ResourceKind::kSlurm);
  EXPECT_EQ(got->capacity.millicpus, 8000);
  EXPECT_EQ(got->capacity.memory_bytes, 32ull << 30);
  EXPECT_EQ(got->capacity.gpus, 2);
  EXPECT_EQ(got->config, "{\"x\":1}");
  EXPECT_TRUE(c.GetResource("cloud").status().IsNotFound());

  // A template needs its resource; a queue needs its templates.
  TemplateRecord gpu{"gpu-real", "onprem", {8000, 32ull << 30, 1}, "gpu", "img:1", 6};
  ASSERT_TRUE(c.CreateTemplate(gpu).ok());
  Status orphan = c.CreateTemplate({"t2", "cloud", {1000, 0, 0}, "", "", 6});
  EXPECT_TRUE(orphan.IsNotFound()) << orphan.ToString();
  EXPECT_NE(orphan.message().find("cloud"), std::string::npos);
  Status bad_queue = c.CreateQueue({"train", {"gpu-real", "nope"}, 0, 7});
  EXPECT_TRUE(bad_queue.IsNotFound()) << bad_queue.ToString();
  EXPECT_NE(bad_queue.message().find("nope"), std::string::npos);
  EXPECT_TRUE(c.GetQueue("train").status().IsNotFound()) << "nothing half-written";
  ASSERT_TRUE(c.CreateResource({"cloud", ResourceKind::kAgent, {64000, 0, 8}, "{}", 5}).ok());
  ASSERT_TRUE(c.CreateTemplate({"cloud-gpu", "cloud", {8000, 0, 1}, "", "", 6}).ok());
  ASSERT_TRUE(c.CreateQueue({"train", {"gpu-real", "cloud-gpu"}, 600'000'000'000, 7}).ok());
  auto q = c.GetQueue("train");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->templates, (std::vector<std::string>{"gpu-real", "cloud-gpu"}));
  EXPECT_EQ(q->burst_after_ns, 600'000'000'000);

  // Removal goes in reverse order, and says what is in the way.
  Status used = c.DeleteResource("onprem");
  EXPECT_EQ(used.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(used.message().find("gpu-real"), std::string::npos);
  Status listed = c.DeleteTemplate("cloud-gpu");
  EXPECT_EQ(listed.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(listed.message().find("train"), std::string::npos);
  ASSERT_TRUE(c.DeleteQueue("train").ok());
  EXPECT_TRUE(c.DeleteQueue("train").IsNotFound());
  ASSERT_TRUE(c.DeleteTemplate("cloud-gpu").ok());
  ASSERT_TRUE(c.DeleteResource("cloud").ok());
  auto left = c.ListResources();
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].name, "onprem");

  onprem.capacity.gpus = 4;
  ASSERT_TRUE(c.UpdateResource(onprem).ok());
  EXPECT_EQ(c.GetResource("onprem")->capacity.gpus, 4);
  EXPECT_TRUE(c.UpdateResource({"ghost", ResourceKind::kLocal, {}, "{}", 0}).IsNotFound());
}

TYPED_TEST(ComputeCatalogConformance, JobsKeepTheirSpecAndMoveByCompareAndSwap) {
  Catalog& c = this->c();
  auto a = c.CreateJob(NewJob("alice", "train"));
  auto b = c.CreateJob(NewJob("bob", "train"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(b->id, a->id) << "ids increase";
  EXPECT_EQ(a->version, 1);
  auto got = c.GetJob(a->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(EncodeJobSpec(got->spec), EncodeJobSpec(NewJob("alice", "train").spec));
  EXPECT_EQ(got->state, JobState::kQueued);
  EXPECT_TRUE(c.GetJob(999999).status().IsNotFound());

  JobRecord placed = *got;
  placed.state = JobState::kRunning;
  placed.template_name = "gpu-real";
  placed.resource = "onprem";
  placed.handle = "1/1";
  placed.gpu_ids = {0, 3};
  placed.attempts = 1;
  placed.started_unix_ns = 2000;
  auto v2 = c.PutJob(placed);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  // The same old version again loses: someone else moved it.
  JobRecord stale = *got;
  stale.cancel_requested = true;
  auto lost = c.PutJob(stale);
  EXPECT_EQ(lost.status().code(), StatusCode::kFailedPrecondition);
  auto now = c.GetJob(a->id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->version, *v2);
  EXPECT_EQ(now->state, JobState::kRunning);
  EXPECT_FALSE(now->cancel_requested);
  EXPECT_EQ(now->gpu_ids, (std::vector<int>{0, 3}));
  EXPECT_EQ(now->handle, "1/1");
  EXPECT_EQ(now->started_unix_ns, 2000);

  // Active jobs, oldest first; finished ones drop out.
  JobRecord done = *now;
  done.state = JobState::kFailed;
  done.failure = JobFailure::kExit;
  done.exit_code = 2;
  ASSERT_TRUE(c.PutJob(done).ok());
  auto active = c.ListActiveJobs();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].id, b->id);
  auto failed = c.GetJob(a->id);
  EXPECT_EQ(failed->failure, JobFailure::kExit);
  EXPECT_EQ(failed->exit_code, 2);
}

TYPED_TEST(ComputeCatalogConformance, JobListsFilterByOwnerAndStateAndPage) {
  Catalog& c = this->c();
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    auto j = c.CreateJob(NewJob(i % 2 == 0 ? "alice" : "bob", "q"));
    ASSERT_TRUE(j.ok());
    ids.push_back(j->id);
    if (i >= 5) {
      JobRecord r = *j;
      r.state = JobState::kSucceeded;
      ASSERT_TRUE(c.PutJob(r).ok());
    }
  }
  JobFilter f;
  f.owner = "alice";
  auto alice = c.ListJobs(f);
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->size(), 4u);
  EXPECT_EQ((*alice)[0].id, ids[6]) << "newest first";
  f = JobFilter{};
  f.states = {JobState::kSucceeded};
  auto done = c.ListJobs(f);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->size(), 2u);
  f.states = {JobState::kSucceeded, JobState::kQueued};
  f.limit = 3;
  auto page1 = c.ListJobs(f);
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->size(), 3u);
  f.before = page1->back().id;
  auto page2 = c.ListJobs(f);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->size(), 3u);
  EXPECT_LT(page2->front().id, page1->back().id);
  f.before = page2->back().id;
  EXPECT_EQ(c.ListJobs(f)->size(), 1u);
}

TYPED_TEST(ComputeCatalogConformance, OneOfManyRacingSchedulersMovesAJob) {
  Catalog& c = this->c();
  auto job = c.CreateJob(NewJob("alice", "q"));
  ASSERT_TRUE(job.ok());
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      JobRecord mine = *job;
      mine.state = JobState::kStaging;
      mine.template_name = "t" + std::to_string(i);
      if (c.PutJob(mine).ok()) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
}

}  // namespace
}  // namespace proxima
