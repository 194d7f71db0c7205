// The scheduler (core/scheduler.h) on a SQLite catalog, an in-memory store,
// a manual clock and a scripted executor; staging fills real cache folders.
#include "proxima/core/scheduler.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <set>

#include "proxima/adapters/memory_object_store.h"
#include "proxima/adapters/sql_catalog.h"
#include "proxima/base/file_util.h"
#include "proxima/core/cache_fill.h"
#include "proxima/core/cache_volume.h"
#include "proxima/core/sync.h"
#include "test_util.h"

namespace proxima {
namespace {

using testing::RandomBytes;
using testing::WriteTestFile;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMinute = 60 * kSecond;

std::string Slurp(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : "(unreadable: " + r.status().message() + ")";
}

// An executor whose attempts do what the test says.
class ScriptedExecutor : public Executor {
 public:
  Result<std::string> Launch(const LaunchSpec& spec) override {
    std::lock_guard lock(mu_);
    if (!fail_launch_.ok()) return fail_launch_;
    std::string handle = std::to_string(spec.job_id) + "/" + std::to_string(spec.attempt);
    launched_.push_back(spec);
    running_[handle] = Execution{Execution::Phase::kRunning, -1, ""};
    return handle;
  }
  Result<Execution> Poll(const std::string& handle) override {
    std::lock_guard lock(mu_);
    auto it = running_.find(handle);
    if (it == running_.end()) return Execution{Execution::Phase::kLost, -1, "unknown handle"};
    return it->second;
  }
  Status Cancel(const std::string& handle) override {
    std::lock_guard lock(mu_);
    cancelled_.insert(handle);
    running_[handle] = Execution{Execution::Phase::kExited, 143, "cancelled"};
    return Status::Ok();
  }
  Result<std::string> ReadLog(const std::string&, uint64_t, size_t) override {
    return std::string();
  }
  Status Forget(const std::string&) override { return Status::Ok(); }
  std::string Describe() const override { return "scripted"; }

  void Exit(const std::string& handle, int code) {
    std::lock_guard lock(mu_);
    running_[handle] = Execution{Execution::Phase::kExited, code, ""};
  }
  void Lose(const std::string& handle) {
    std::lock_guard lock(mu_);
    running_[handle] = Execution{Execution::Phase::kLost, -1, "agent a1 stopped answering"};
  }
  void FailLaunches(Status s) {
    std::lock_guard lock(mu_);
    fail_launch_ = std::move(s);
  }
  std::vector<LaunchSpec> launched() {
    std::lock_guard lock(mu_);
    return launched_;
  }
  bool WasCancelled(const std::string& handle) {
    std::lock_guard lock(mu_);
    return cancelled_.count(handle) != 0;
  }

 private:
  std::mutex mu_;
  Status fail_launch_;
  std::vector<LaunchSpec> launched_;
  std::map<std::string, Execution> running_;
  std::set<std::string> cancelled_;
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = std::move(Repository::Open(&store_, true)).value();
    catalog_ = std::move(OpenSqliteCatalog(tmp_.path() + "/catalog.db", 1)).value();
    ASSERT_TRUE(
        catalog_->CreateResource({"site-a", ResourceKind::kLocal, {2000, 0, 2}, "{}", 0}).ok());
    ASSERT_TRUE(
        catalog_->CreateResource({"site-b", ResourceKind::kAgent, {2000, 0, 0}, "{}", 0}).ok());
    ASSERT_TRUE(catalog_->CreateTemplate({"a1", "site-a", {1000, 0, 0}, "", "", 0}).ok());
    ASSERT_TRUE(catalog_->CreateTemplate({"a-gpu", "site-a", {1000, 0, 1}, "", "", 0}).ok());
    ASSERT_TRUE(catalog_->CreateTemplate({"b1", "site-b", {1000, 0, 0}, "", "", 0}).ok());
    ASSERT_TRUE(catalog_->CreateQueue({"a", {"a1"}, 0, 0}).ok());
    ASSERT_TRUE(catalog_->CreateQueue({"burst", {"a1", "b1"}, 10 * kMinute, 0}).ok());
    ASSERT_TRUE(catalog_->CreateQueue({"both", {"a1", "b1"}, 0, 0}).ok());
    scheduler_ = MakeScheduler();
  }

  std::unique_ptr<Scheduler> MakeScheduler() {
    SchedulerServices s{*catalog_,
                        *catalog_,
                        *repo_,
                        clock_,
                        [this](const ResourceRecord& r) -> Executor* {
                          return r.name == "site-a" ? &exec_a_ : &exec_b_;
                        },
                        {}};
    SchedulerOptions o;
    o.jobs_dir = tmp_.path() + "/jobs";
    o.lease_ns = 10 * kMinute;
    return std::make_unique<Scheduler>(s, o);
  }

  int64_t Submit(const std::string& queue, std::vector<JobDataset> datasets = {},
                 int max_retries = 2) {
    JobRecord j;
    j.owner = "alice";
    j.spec.command = {"train", "--fast"};
    j.spec.queue = queue;
    j.spec.datasets = std::move(datasets);
    j.spec.max_retries = max_retries;
    j.submitted_unix_ns = clock_.NowUnixNanos();
    auto r = catalog_->CreateJob(j);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->id : 0;
  }

  PassReport Pass() {
    auto r = scheduler_->RunOnce();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : PassReport{};
  }

  JobRecord Job(int64_t id) {
    auto r = catalog_->GetJob(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : JobRecord{};
  }

  // A dataset "ds" with one commit, and a volume on `resource`.
  ObjectId MakeDataset() {
    EXPECT_TRUE(catalog_->CreateDataset("ds", 0).ok());
    std::string src = tmp_.path() + "/src";
    WriteTestFile(src + "/x/one.bin", RandomBytes(5000, 1));
    WriteTestFile(src + "/two.txt", "two\n");
    EXPECT_TRUE(WorkDir::Bind(src, "ds", ObjectId()).ok());
    SyncOptions o;
    o.message = "one";
    o.author = "test";
    Syncer syncer(repo_.get(), catalog_.get(), &clock_, nullptr);
    auto r = syncer.Run(std::move(WorkDir::Find(src)).value(), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->commit : ObjectId();
  }
  VolumeRecord AddVolume(const std::string& name, const std::string& resource) {
    VolumeRecord v;
    v.name = name;
    v.path = tmp_.path() + "/" + name;
    v.resource = resource;
    EXPECT_TRUE(MakeDirs(v.path).ok());
    EXPECT_TRUE(CacheVolume::Create(v).ok());
    EXPECT_TRUE(catalog_->CreateVolume(v).ok());
    return v;
  }
  // Passes until the job leaves staging (fills run on threads).
  JobRecord PassUntilNotStaging(int64_t id) {
    for (int i = 0; i < 500; ++i) {
      Pass();
      JobRecord j = Job(id);
      if (j.state != JobState::kStaging && j.state != JobState::kQueued) return j;
      ::usleep(10'000);
    }
    return Job(id);
  }

  testing::TempDir tmp_;
  ManualClock clock_;
  MemoryObjectStore store_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<Catalog> catalog_;
  ScriptedExecutor exec_a_, exec_b_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, RunsAJobAndRecordsItsSuccess) {
  int64_t id = Submit("a");
  PassReport r = Pass();
  EXPECT_EQ(r.placed, 1);
  EXPECT_EQ(r.launched, 1);
  JobRecord j = Job(id);
  EXPECT_EQ(j.state, JobState::kRunning);
  EXPECT_EQ(j.template_name, "a1");
  EXPECT_EQ(j.resource, "site-a");
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.started_unix_ns, clock_.NowUnixNanos());
  ASSERT_EQ(exec_a_.launched().size(), 1u);
  LaunchSpec spec = exec_a_.launched()[0];
  EXPECT_EQ(spec.command, (std::vector<std::string>{"train", "--fast"}));
  bool has_id = false;
  for (const auto& [k, v] : spec.env) has_id |= k == "PROXIMA_JOB_ID" && v == std::to_string(id);
  EXPECT_TRUE(has_id);

  clock_.Advance(5 * kSecond);
  exec_a_.Exit(j.handle, 0);
  Pass();
  j = Job(id);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.exit_code, 0);
  EXPECT_EQ(j.finished_unix_ns, clock_.NowUnixNanos());
}

TEST_F(SchedulerTest, ANonZeroExitFailsAndIsNotRetried) {
  int64_t id = Submit("a");
  Pass();
  exec_a_.Exit(Job(id).handle, 3);
  Pass();
  JobRecord j = Job(id);
  EXPECT_EQ(j.state, JobState::kFailed);
  EXPECT_EQ(j.failure, JobFailure::kExit);
  EXPECT_EQ(j.exit_code, 3);
  EXPECT_NE(j.reason.find("exited with code 3"), std::string::npos);
  EXPECT_EQ(exec_a_.launched().size(), 1u);
}

TEST_F(SchedulerTest, RetryOnExitRunsItAgain) {
  JobRecord j;
  j.owner = "alice";
  j.spec.command = {"flaky"};
  j.spec.queue = "a";
  j.spec.retry_on_exit = true;
  j.spec.max_retries = 1;
  int64_t id = catalog_->CreateJob(j)->id;
  Pass();
  exec_a_.Exit(Job(id).handle, 1);
  Pass();  // back to the queue, and placed again in the same pass
  JobRecord again = Job(id);
  EXPECT_EQ(again.state, JobState::kRunning);
  EXPECT_EQ(again.attempts, 2);
  EXPECT_EQ(again.handle, std::to_string(id) + "/2");
  exec_a_.Exit(again.handle, 1);
  Pass();
  EXPECT_EQ(Job(id).state, JobState::kFailed);
  EXPECT_EQ(exec_a_.launched().size(), 2u);
}

TEST_F(SchedulerTest, ALostAttemptIsRetriedThenFailsAsInfrastructure) {
  int64_t id = Submit("a", {}, /*max_retries=*/1);
  Pass();
  exec_a_.Lose(Job(id).handle);
  Pass();
  JobRecord j = Job(id);
  EXPECT_EQ(j.state, JobState::kRunning) << j.reason;
  EXPECT_EQ(j.attempts, 2);
  exec_a_.Lose(j.handle);
  Pass();
  j = Job(id);
  EXPECT_EQ(j.state, JobState::kFailed);
  EXPECT_EQ(j.failure, JobFailure::kInfrastructure);
  EXPECT_NE(j.reason.find("agent a1 stopped answering"), std::string::npos) << j.reason;
  EXPECT_NE(j.reason.find("no retries left"), std::string::npos) << j.reason;
}

TEST_F(SchedulerTest, CapacityBoundsWhatRunsAndTheRestWaitsSayingWhy) {
  int64_t a = Submit("a"), b = Submit("a"), c = Submit("a");
  Pass();
  EXPECT_EQ(Job(a).state, JobState::kRunning);
  EXPECT_EQ(Job(b).state, JobState::kRunning);
  JobRecord waiting = Job(c);
  EXPECT_EQ(waiting.state, JobState::kQueued);
  EXPECT_NE(waiting.placement.find("waiting for room: 'a1' on 'site-a' needs 1 CPU"),
            std::string::npos)
      << waiting.placement;
  exec_a_.Exit(Job(a).handle, 0);
  Pass();  // a's CPU is free in the same pass
  EXPECT_EQ(Job(c).state, JobState::kRunning);
}

TEST_F(SchedulerTest, CancellationStopsQueuedAndRunningJobs) {
  int64_t a = Submit("a"), b = Submit("a"), c = Submit("a");
  Pass();
  for (int64_t id : {a, c}) {
    JobRecord j = Job(id);
    j.cancel_requested = true;
    ASSERT_TRUE(catalog_->PutJob(j).ok());
  }
  Pass();
  JobRecord ra = Job(a), rc = Job(c);
  EXPECT_EQ(ra.state, JobState::kCancelled);
  EXPECT_TRUE(exec_a_.WasCancelled(ra.handle));
  EXPECT_EQ(rc.state, JobState::kCancelled);
  EXPECT_NE(rc.reason.find("while queued"), std::string::npos);
  EXPECT_EQ(Job(b).state, JobState::kRunning);
}

TEST_F(SchedulerTest, ATimeoutStopsTheJob) {
  JobRecord j;
  j.owner = "alice";
  j.spec.command = {"sleep", "1000"};
  j.spec.queue = "a";
  j.spec.timeout_ns = 30 * kSecond;
  int64_t id = catalog_->CreateJob(j)->id;
  Pass();
  clock_.Advance(29 * kSecond);
  Pass();
  EXPECT_EQ(Job(id).state, JobState::kRunning);
  clock_.Advance(2 * kSecond);
  Pass();
  JobRecord done = Job(id);
  EXPECT_EQ(done.state, JobState::kTimedOut);
  EXPECT_TRUE(exec_a_.WasCancelled(done.handle));
}

TEST_F(SchedulerTest, BurstsToTheNextTemplateOnlyAfterTheDelay) {
  int64_t a = Submit("a"), b = Submit("a");  // site-a is full
  Pass();
  int64_t j = Submit("burst");
  Pass();
  EXPECT_EQ(Job(j).state, JobState::kQueued);
  clock_.Advance(9 * kMinute);
  Pass();
  EXPECT_EQ(Job(j).state, JobState::kQueued);
  clock_.Advance(2 * kMinute);
  Pass();
  JobRecord burst = Job(j);
  EXPECT_EQ(burst.state, JobState::kRunning);
  EXPECT_EQ(burst.resource, "site-b");
  EXPECT_NE(burst.placement.find("burst after waiting 11m"), std::string::npos) << burst.placement;
  EXPECT_EQ(Job(a).resource, "site-a");
  EXPECT_EQ(Job(b).resource, "site-a");
}

TEST_F(SchedulerTest, GpusOfALocalResourceAreGivenOutOnce) {
  JobRecord j;
  j.owner = "alice";
  j.spec.command = {"train"};
  j.spec.template_name = "a-gpu";
  int64_t x = catalog_->CreateJob(j)->id;
  int64_t y = catalog_->CreateJob(j)->id;
  Pass();
  JobRecord rx = Job(x), ry = Job(y);
  ASSERT_EQ(rx.gpu_ids.size(), 1u);
  ASSERT_EQ(ry.gpu_ids.size(), 1u);
  EXPECT_NE(rx.gpu_ids[0], ry.gpu_ids[0]);
  exec_a_.Exit(rx.handle, 0);
  int64_t z = catalog_->CreateJob(j)->id;
  Pass();
  EXPECT_EQ(Job(z).gpu_ids, rx.gpu_ids) << "the freed GPU goes to the next job";
}

TEST_F(SchedulerTest, StagesTheCacheLeasesItWhileRunningAndLetsGoAfter) {
  ObjectId commit = MakeDataset();
  VolumeRecord vol = AddVolume("vol-a", "site-a");
  int64_t id = Submit("a", {{"ds", commit, true}});
  JobRecord running = PassUntilNotStaging(id);
  ASSERT_EQ(running.state, JobState::kRunning) << running.reason;
  auto row = catalog_->GetCache("vol-a", "ds", commit);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->state, CacheState::kReady);
  std::string tree = vol.path + "/ds/" + commit.Hex();
  ASSERT_EQ(exec_a_.launched().size(), 1u);
  LaunchSpec spec = exec_a_.launched()[0];
  ASSERT_EQ(spec.datasets.size(), 1u);
  EXPECT_EQ(spec.datasets[0].second, tree);
  EXPECT_EQ(Slurp(tree + "/two.txt"), "two\n");
  auto leases = catalog_->ListLeases("vol-a");
  ASSERT_TRUE(leases.ok());
  ASSERT_EQ(leases->size(), 1u);
  EXPECT_EQ((*leases)[0].id, "job-" + std::to_string(id) + "-0");
  EXPECT_EQ((*leases)[0].owner, "alice");

  // Renewed while it runs...
  int64_t first_expiry = (*leases)[0].expires_unix_ns;
  clock_.Advance(6 * kMinute);
  Pass();
  EXPECT_GT((*catalog_->ListLeases("vol-a"))[0].expires_unix_ns, first_expiry);
  // ...released when it ends.
  exec_a_.Exit(running.handle, 0);
  Pass();
  EXPECT_TRUE(catalog_->ListLeases("vol-a")->empty());
}

TEST_F(SchedulerTest, GoesWhereTheDataIsCached) {
  ObjectId commit = MakeDataset();
  AddVolume("vol-a", "site-a");
  VolumeRecord b = AddVolume("vol-b", "site-b");
  CacheServices cs{*repo_, *catalog_, clock_, 2, nullptr, {}};
  ASSERT_TRUE(FillCache(cs, b, "ds", commit).ok());
  int64_t id = Submit("both", {{"ds", commit, true}});
  JobRecord j = PassUntilNotStaging(id);
  EXPECT_EQ(j.state, JobState::kRunning) << j.reason;
  EXPECT_EQ(j.resource, "site-b") << j.placement;
  EXPECT_NE(j.placement.find("in ready caches"), std::string::npos);
  EXPECT_TRUE(catalog_->GetCache("vol-a", "ds", commit)->value_or(CacheRecord{}).bytes == 0)
      << "nothing staged on the other site";
}

TEST_F(SchedulerTest, ACachedDatasetOnAResourceWithoutVolumeFailsStaging) {
  ObjectId commit = MakeDataset();
  int64_t id = Submit("a", {{"ds", commit, true}});
  Pass();
  JobRecord j = Job(id);
  EXPECT_EQ(j.state, JobState::kFailed);
  EXPECT_EQ(j.failure, JobFailure::kStaging);
  EXPECT_NE(j.reason.find("no cache volume"), std::string::npos) << j.reason;
}

TEST_F(SchedulerTest, AnUncachedDatasetWithoutVolumeGetsAPrivateClone) {
  ObjectId commit = MakeDataset();
  int64_t id = Submit("a", {{"ds", commit, false}});
  JobRecord j = PassUntilNotStaging(id);
  ASSERT_EQ(j.state, JobState::kRunning) << j.reason;
  std::string dir = exec_a_.launched()[0].datasets[0].second;
  EXPECT_EQ(dir, tmp_.path() + "/jobs/" + std::to_string(id) + "/data/ds");
  EXPECT_EQ(Slurp(dir + "/two.txt"), "two\n");
}

TEST_F(SchedulerTest, ANewSchedulerPicksUpWhereTheLastOneStopped) {
  int64_t a = Submit("a");
  Pass();
  std::string handle = Job(a).handle;
  scheduler_.reset();  // the hub stops; the attempt goes on
  int64_t b = Submit("a");
  exec_a_.Exit(handle, 0);
  scheduler_ = MakeScheduler();
  Pass();
  EXPECT_EQ(Job(a).state, JobState::kSucceeded);
  EXPECT_EQ(Job(b).state, JobState::kRunning);
  EXPECT_EQ(exec_a_.launched().size(), 2u) << "a was not launched twice";
}

TEST_F(SchedulerTest, AnUnreachableBackendRequeuesTheJobWithoutSpendingAnAttempt) {
  exec_a_.FailLaunches(Status::Unavailable("slurmctld is down"));
  int64_t id = Submit("a", {}, 0);
  for (int i = 0; i < 3; ++i) {
    Pass();
    JobRecord j = Job(id);
    EXPECT_EQ(j.state, JobState::kQueued);
    EXPECT_EQ(j.attempts, 0);
    EXPECT_NE(j.reason.find("slurmctld is down"), std::string::npos) << j.reason;
  }
  exec_a_.FailLaunches(Status::Ok());
  Pass();
  EXPECT_EQ(Job(id).state, JobState::kRunning);
  EXPECT_EQ(Job(id).attempts, 1);
}

TEST_F(SchedulerTest, AJobForAnEmptyAgentPoolWaitsInsteadOfFailing) {
  ASSERT_TRUE(catalog_->CreateResource({"pool", ResourceKind::kAgent, {0, 0, 0}, "{}", 0}).ok());
  ASSERT_TRUE(catalog_->CreateTemplate({"p1", "pool", {1000, 0, 0}, "", "", 0}).ok());
  JobRecord j;
  j.owner = "alice";
  j.spec.command = {"x"};
  j.spec.template_name = "p1";
  int64_t id = catalog_->CreateJob(j)->id;
  Pass();
  JobRecord w = Job(id);
  EXPECT_EQ(w.state, JobState::kQueued) << w.reason;
  EXPECT_NE(w.placement.find("waiting for room"), std::string::npos) << w.placement;
}

TEST_F(SchedulerTest, AnUnknownQueueFailsTheJob) {
  int64_t id = Submit("nope");
  Pass();
  JobRecord j = Job(id);
  EXPECT_EQ(j.state, JobState::kFailed);
  EXPECT_NE(j.reason.find("'nope'"), std::string::npos);
}

TEST_F(SchedulerTest, DefaultComputeIsRecordedOnce) {
  testing::TempDir dir;
  auto fresh = std::move(OpenSqliteCatalog(dir.path() + "/c.db", 1)).value();
  ASSERT_TRUE(EnsureDefaultCompute(*fresh, {4000, 1 << 30, 0}, 1).ok());
  ASSERT_TRUE(EnsureDefaultCompute(*fresh, {4000, 1 << 30, 0}, 2).ok());
  EXPECT_EQ(fresh->ListResources()->size(), 1u);
  EXPECT_EQ(fresh->GetResource("local")->capacity.millicpus, 4000);
  EXPECT_EQ(fresh->GetQueue("default")->templates, (std::vector<std::string>{"local"}));
}

}  // namespace
}  // namespace proxima
