// ray::Cancel on a real embedded cluster with one CPU: a task still queued at its owner, a
// running task that calls the runtime (it stops at its next call), a task that never calls it
// (force: its worker is killed, and the cluster keeps working), retries that never resurrect a
// cancelled task, a finished task (nothing happens), and actor calls (queued ones only).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "embedded_cluster.h"
#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

using Clock = std::chrono::steady_clock;
using moray::testing::AwaitFile;
using moray::testing::Touch;
using moray::testing::WaitFor;

using moray::testing::LineCount;
using moray::testing::Scratch;

int Plus(int a, int b) { return a + b; }
// Says it started, then returns 1 once `gate` exists (0 if it never does).
int AwaitGate(std::string started, std::string gate) {
  Touch(started);
  return AwaitFile(gate) ? 1 : 0;
}
// Notes its attempt in `log`, then calls the runtime every 10 ms for up to a minute; when the
// call throws (the task was cancelled), `stopped` is touched as the exception leaves the task.
int LoopsCallingTheRuntime(std::string log, std::string stopped) {
  std::ofstream(log, std::ios::app) << "attempt\n";
  struct TouchOnExit {
    std::string path;
    ~TouchOnExit() { Touch(path); }
  } on_exit{stopped};
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < until) {
    ray::Put(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}
// Notes its attempt and its pid, then sleeps for up to a minute without calling the runtime.
int SleepsWithoutCalls(std::string log, std::string pid_file) {
  std::ofstream(log, std::ios::app) << "attempt\n";
  std::ofstream(pid_file) << getpid();
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return 0;
}

class Gatekeeper {
 public:
  static Gatekeeper* Create() { return new Gatekeeper(); }
  int Wait(std::string started, std::string gate) { return AwaitGate(started, gate); }
  int Echo(int x) { return x; }
};

RAY_REMOTE(Plus, AwaitGate, LoopsCallingTheRuntime, SleepsWithoutCalls, Gatekeeper::Create,
           &Gatekeeper::Wait, &Gatekeeper::Echo);

template <typename T>
void ExpectCancelled(ray::ObjectRef<T>& ref) {
  try {
    ray::Get(ref, /*timeout_ms=*/30000);
    ADD_FAILURE() << "Get of a cancelled task's return did not throw";
  } catch (const ray::TaskCancelledException& e) {
    EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos) << e.what();
  } catch (const ray::RayException& e) {
    ADD_FAILURE() << "expected TaskCancelledException, got: " << e.what();
  }
}

using CancelTest = moray::testing::EmbeddedClusterTest<1>;

TEST_F(CancelTest, AQueuedTaskNeverRunsAndGetThrowsAtOnce) {
  const std::string started = Scratch("queued-busy-started");
  const std::string gate = Scratch("queued-busy-gate");
  auto busy = ray::Task(AwaitGate).Remote(started, gate);  // holds the only CPU
  ASSERT_TRUE(AwaitFile(started));
  const std::string log = Scratch("queued-log");
  auto queued = ray::Task(LoopsCallingTheRuntime).Remote(log, Scratch("queued-stopped"));
  const auto before = Clock::now();
  ray::Cancel(queued);
  ExpectCancelled(queued);
  EXPECT_LT(Clock::now() - before, std::chrono::seconds(5));
  Touch(gate);
  EXPECT_EQ(*ray::Get(busy), 1);
  EXPECT_FALSE(std::filesystem::exists(log));  // it never ran
}

TEST_F(CancelTest, ARunningTaskStopsAtItsNextRuntimeCallAndIsNotRetried) {
  const std::string log = Scratch("running-log");
  const std::string stopped = Scratch("running-stopped");
  auto running = ray::Task(LoopsCallingTheRuntime)
                     .SetMaxRetries(3)
                     .SetRetryExceptions(true)
                     .Remote(log, stopped);
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(log); }));
  ray::Cancel(running);
  ExpectCancelled(running);
  EXPECT_TRUE(AwaitFile(stopped));  // the task's code left through the exception
  EXPECT_EQ(LineCount(log), 1);     // one attempt: no retry
  EXPECT_EQ(*ray::Task(Plus).Remote(1, 2).Get(), 3);
}

TEST_F(CancelTest, ForceKillsTheWorkerOfATaskThatNeverCallsTheRuntime) {
  const std::string log = Scratch("forced-log");
  const std::string pid_file = Scratch("forced-pid");
  auto sleeping = ray::Task(SleepsWithoutCalls).SetMaxRetries(3).Remote(log, pid_file);
  ASSERT_TRUE(WaitFor([&] { return LineCount(pid_file) == 1; }));
  const pid_t pid = std::stoi(moray::testing::ReadFile(pid_file));
  ray::Cancel(sleeping, /*force=*/true);
  ExpectCancelled(sleeping);  // TASK_CANCELLED, not a worker death
  EXPECT_TRUE(WaitFor([&] { return !std::filesystem::exists("/proc/" + std::to_string(pid)); }));
  EXPECT_EQ(LineCount(log), 1);  // max_retries=3 did not bring it back
  // The cluster keeps working: the CPU came back, a new worker runs the next task.
  EXPECT_EQ(*ray::Task(Plus).Remote(2, 3).Get(), 5);
}

TEST_F(CancelTest, CancellingAFinishedTaskChangesNothing) {
  auto done = ray::Task(Plus).Remote(20, 22);
  EXPECT_EQ(*ray::Get(done), 42);
  ray::Cancel(done);
  ray::Cancel(done, /*force=*/true);
  EXPECT_EQ(*ray::Get(done), 42);
}

TEST_F(CancelTest, OnlyQueuedActorCallsAreCancelledAndForceIsRefused) {
  auto actor = ray::Actor(Gatekeeper::Create).Remote();
  EXPECT_EQ(*actor.Task(&Gatekeeper::Echo).Remote(1).Get(), 1);  // ALIVE
  const std::string started = Scratch("actor-started");
  const std::string gate = Scratch("actor-gate");
  auto running = actor.Task(&Gatekeeper::Wait).Remote(started, gate);
  ASSERT_TRUE(AwaitFile(started));
  auto queued = actor.Task(&Gatekeeper::Echo).Remote(2);  // behind the running call
  EXPECT_THROW(ray::Cancel(queued, /*force=*/true), ray::RayException);
  ray::Cancel(queued);
  ExpectCancelled(queued);
  ray::Cancel(running);  // running actor calls are not interrupted
  Touch(gate);
  EXPECT_EQ(*ray::Get(running), 1);
  EXPECT_EQ(*actor.Task(&Gatekeeper::Echo).Remote(3).Get(), 3);
}

TEST_F(CancelTest, CancellingAPutRefIsAnError) {
  auto put = ray::Put(5);
  EXPECT_THROW(ray::Cancel(put), ray::RayException);  // a put is no task's return
}

}  // namespace
