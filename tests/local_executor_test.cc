// The local executor (adapters/local_executor.h) with real processes: the
// supervisor is the `proxima` binary built beside this test.
#include "proxima/adapters/local_executor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "proxima/base/file_util.h"
#include "test_util.h"

namespace proxima {
namespace {

std::string BinDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  std::string self(buf, n > 0 ? static_cast<size_t>(n) : 0);
  return self.substr(0, self.rfind('/'));
}

class LocalExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override { executor_ = Make(); }

  std::unique_ptr<Executor> Make(int64_t grace_ns = 5'000'000'000) {
    LocalExecutorOptions o;
    o.root = tmp_.path() + "/jobs";
    o.supervisor = BinDir() + "/proxima-supervise";
    o.self_exe = BinDir() + "/proxima";
    o.kill_grace_ns = grace_ns;
    return MakeLocalExecutor(o);
  }

  LaunchSpec Spec(int64_t job, std::vector<std::string> command) {
    LaunchSpec s;
    s.job_id = job;
    s.attempt = 1;
    s.command = std::move(command);
    return s;
  }

  // Polls until the attempt leaves kRunning (or 20 s pass).
  Execution WaitForEnd(Executor& ex, const std::string& handle) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      auto e = ex.Poll(handle);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      if (!e.ok() || e->phase != Execution::Phase::kRunning ||
          std::chrono::steady_clock::now() > deadline) {
        return e.ok() ? *e : Execution{};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::string Log(Executor& ex, const std::string& handle) {
    auto log = ex.ReadLog(handle, 0, 1 << 20);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? *log : "";
  }

  testing::TempDir tmp_;
  std::unique_ptr<Executor> executor_;
};

TEST_F(LocalExecutorTest, RunsACommandAndKeepsItsExitCodeAndOutput) {
  auto h = executor_->Launch(Spec(1, {"sh", "-c", "echo out; echo err >&2; exit 7"}));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(*h, "1/1");
  Execution e = WaitForEnd(*executor_, *h);
  EXPECT_EQ(e.phase, Execution::Phase::kExited);
  EXPECT_EQ(e.exit_code, 7);
  std::string log = Log(*executor_, *h);
  EXPECT_NE(log.find("out\n"), std::string::npos) << log;
  EXPECT_NE(log.find("err\n"), std::string::npos) << log;
  auto tail = executor_->ReadLog(*h, 4, 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, log.substr(4));
}

TEST_F(LocalExecutorTest, GivesTheJobItsEnvironmentDatasetsGpusAndOutputFolder) {
  LaunchSpec s = Spec(2, {"sh", "-c",
                          "echo \"seed=$SEED gpus=$CUDA_VISIBLE_DEVICES out=$PROXIMA_OUTPUT "
                          "pwd=$(pwd)\"; touch result.txt"});
  s.env = {{"SEED", "42"}};
  s.gpu_ids = {1, 3};
  auto h = executor_->Launch(s);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(WaitForEnd(*executor_, *h).exit_code, 0);
  std::string out = tmp_.path() + "/jobs/2/output";
  EXPECT_NE(Log(*executor_, *h).find("seed=42 gpus=1,3 out=" + out + " pwd=" + out),
            std::string::npos)
      << Log(*executor_, *h);
  EXPECT_TRUE(ReadFile(out + "/result.txt").ok()) << "the output folder is the default workdir";
}

TEST_F(LocalExecutorTest, CancelStopsTheProcessGroup) {
  auto h = executor_->Launch(Spec(3, {"sh", "-c", "sleep 100 & sleep 100; wait"}));
  ASSERT_TRUE(h.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(executor_->Poll(*h)->phase, Execution::Phase::kRunning);
  ASSERT_TRUE(executor_->Cancel(*h).ok());
  Execution e = WaitForEnd(*executor_, *h);
  EXPECT_EQ(e.phase, Execution::Phase::kExited);
  EXPECT_EQ(e.exit_code, 128 + SIGTERM);
  EXPECT_EQ(e.reason, "cancelled");
  EXPECT_TRUE(executor_->Cancel(*h).ok()) << "idempotent";
}

TEST_F(LocalExecutorTest, ACommandThatIgnoresSigtermIsKilledAfterTheGrace) {
  auto ex = Make(300'000'000);
  auto h = ex->Launch(Spec(4, {"sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"}));
  ASSERT_TRUE(h.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(ex->Cancel(*h).ok());
  Execution e = WaitForEnd(*ex, *h);
  EXPECT_EQ(e.phase, Execution::Phase::kExited);
  EXPECT_EQ(e.exit_code, 128 + SIGKILL);
}

TEST_F(LocalExecutorTest, AKilledSupervisorIsALostAttempt) {
  auto h = executor_->Launch(Spec(5, {"sleep", "100"}));
  ASSERT_TRUE(h.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto pid = ReadFile(tmp_.path() + "/jobs/5/1/supervisor.pid");
  ASSERT_TRUE(pid.ok());
  ASSERT_EQ(::kill(std::atoi(pid->c_str()), SIGKILL), 0);
  Execution e = WaitForEnd(*executor_, *h);
  EXPECT_EQ(e.phase, Execution::Phase::kLost);
  EXPECT_NE(e.reason.find("stopped without recording an exit"), std::string::npos) << e.reason;
  ASSERT_TRUE(executor_->Cancel(*h).ok()) << "kills the orphaned command";
}

TEST_F(LocalExecutorTest, AnAttemptOutlivesItsExecutorAndIsFoundAfterARestart) {
  auto h = executor_->Launch(Spec(6, {"sh", "-c", "sleep 0.3; exit 4"}));
  ASSERT_TRUE(h.ok());
  executor_.reset();  // the hub stops
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  auto restarted = Make();
  Execution e = WaitForEnd(*restarted, *h);
  EXPECT_EQ(e.phase, Execution::Phase::kExited);
  EXPECT_EQ(e.exit_code, 4);
}

TEST_F(LocalExecutorTest, AMissingProgramExits127AndSaysSo) {
  auto h = executor_->Launch(Spec(7, {"no-such-program-xyz"}));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(WaitForEnd(*executor_, *h).exit_code, 127);
  EXPECT_NE(Log(*executor_, *h).find("cannot run 'no-such-program-xyz'"), std::string::npos);
}

TEST_F(LocalExecutorTest, RefusesHandlesThatAreNotItsOwn) {
  for (const char* bad : {"../../etc", "1/../2", "", "1/", "/1/2", "a/b"}) {
    EXPECT_EQ(executor_->Poll(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(LocalExecutorTest, TheProximaBinaryCanSuperviseToo) {
  LocalExecutorOptions o;
  o.root = tmp_.path() + "/jobs";
  o.self_exe = BinDir() + "/proxima";  // no supervisor: `proxima __supervise`
  auto ex = MakeLocalExecutor(o);
  auto h = ex->Launch(Spec(8, {"sh", "-c", "exit 9"}));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(WaitForEnd(*ex, *h).exit_code, 9);
}

TEST(LocalMachineShape, CountsCpusAndMemory) {
  Shape s = LocalMachineShape();
  EXPECT_GE(s.millicpus, 1000);
  EXPECT_EQ(s.millicpus % 1000, 0);
  EXPECT_GT(s.memory_bytes, 0u);
}

}  // namespace
}  // namespace proxima
