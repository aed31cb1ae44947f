// Tasks and objects on a real embedded cluster: GCS, raylet and worker processes over sockets.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "embedded_cluster.h"
#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

int Return1() { return 1; }
int Plus(int a, int b) { return a + b; }
int Square(int x) { return x * x; }
std::string Concat(std::string a, const std::string& b) { return a + b; }
std::vector<int> Range(int n) {
  std::vector<int> out(n);
  for (int i = 0; i < n; ++i) out[i] = i;
  return out;
}
int SleepMs(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
int Throws(int) { throw std::runtime_error("bad input"); }
int Recurse(int depth) {
  if (depth == 0) return 0;
  return 1 + *ray::Task(Recurse).Remote(depth - 1).Get();
}
int FanOutChild(int x) { return x + 1; }
int FanOutParent(int x) { return *ray::Task(FanOutChild).Remote(x).Get() * 2; }
int Pid() { return static_cast<int>(getpid()); }
std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}
// Dies the first time (marker file absent), succeeds on the retry.
int DieOnce(std::string marker) {
  if (!std::filesystem::exists(marker)) {
    std::ofstream(marker) << "x";
    _exit(1);
  }
  return 7;
}
// Notes each attempt in `log` (one line), then dies.
int AlwaysDie(std::string log) {
  std::ofstream(log, std::ios::app) << "attempt\n";
  _exit(1);
}
int NotRegistered(int x) { return x; }
void NoReturn(int) {}
// Says it started (touches `started`, if given), then returns 1 once `gate` exists — or 0 if it
// never does: the test decides when the task ends.
int AwaitGate(std::string started, std::string gate) {
  if (!started.empty()) moray::testing::Touch(started);
  return moray::testing::AwaitFile(gate) ? 1 : 0;
}
// Dependents of a failed task: each leaves a file behind if it ever runs.
int SquareAndMark(std::string marker, int x) {
  moray::testing::Touch(marker);
  return x * x;
}
int PlusAndMark(std::string marker, int a, int b) {
  moray::testing::Touch(marker);
  return a + b;
}

RAY_REMOTE(Return1, Plus, Square, Concat, Range, SleepMs, Throws, Recurse, FanOutChild,
           FanOutParent, Pid, SelfExe, DieOnce, AlwaysDie, NoReturn, AwaitGate, SquareAndMark,
           PlusAndMark);

using moray::testing::LineCount;
using moray::testing::Scratch;

using TasksTest = moray::testing::EmbeddedClusterTest<2>;

TEST_F(TasksTest, RemoteFunctionReturnsItsValue) {
  EXPECT_EQ(*ray::Get(ray::Task(Return1).Remote()), 1);
  EXPECT_EQ(*ray::Task(Plus).Remote(2, 3).Get(), 5);
  EXPECT_EQ(*ray::Task(Concat).Remote(std::string("ab"), std::string("cd")).Get(), "abcd");
  EXPECT_EQ(*ray::Task(Range).Remote(4).Get(), (std::vector<int>{0, 1, 2, 3}));
  ray::Task(NoReturn).Remote(1).Get();  // void tasks complete too
}

TEST_F(TasksTest, TasksRunInWorkerProcesses) {
  int pid = *ray::Task(Pid).Remote().Get();
  EXPECT_NE(pid, getpid());
}

TEST_F(TasksTest, WorkersReExecuteTheDriversOwnProgram) {
  // No code_search_path: the raylet starts workers from the driver's executable — its copy in
  // the node's code cache (docs/runtime_env.md, "Shipped code"): same name, same bytes.
  const std::string exe = *ray::Task(SelfExe).Remote().Get();
  EXPECT_NE(exe.find("/runtime_resources/code/"), std::string::npos) << exe;
  EXPECT_EQ(std::filesystem::path(exe).filename(), std::filesystem::path(SelfExe()).filename());
  EXPECT_TRUE(moray::testing::ReadFile(exe) == moray::testing::ReadFile(SelfExe())) << exe;
}

TEST_F(TasksTest, ObjectRefArgumentsAreResolvedBeforeTheTaskRuns) {
  auto x = ray::Put(20);
  auto slow = ray::Task(SleepMs).Remote(50);
  auto sum = ray::Task(Plus).Remote(x, slow);
  EXPECT_EQ(*sum.Get(), 70);
  auto chained = ray::Task(Square).Remote(ray::Task(Plus).Remote(1, 2));
  EXPECT_EQ(*chained.Get(), 9);
}

TEST_F(TasksTest, PutAndGetInOrder) {
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < 10; ++i) refs.push_back(ray::Put(i * 3));
  auto values = ray::Get(refs);
  ASSERT_EQ(values.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*values[i], i * 3);
}

TEST_F(TasksTest, GetWithTimeoutRaises) {
  // The task cannot end before the gate opens, so only the timeout can end the first Get.
  const std::string gate = Scratch("get-timeout-gate");
  auto gated = ray::Task(AwaitGate).Remote(std::string(), gate);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(ray::Get(gated, 100), ray::internal::RayTimeoutException);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  moray::testing::Touch(gate);
  EXPECT_EQ(*ray::Get(gated, -1), 1);  // the timeout did not cancel the task
}

TEST_F(TasksTest, WaitKeepsInputOrder) {
  const std::string gate = Scratch("wait-order-gate");
  auto slow = ray::Task(AwaitGate).Remote(std::string(), gate);  // not ready until the gate opens
  auto fast1 = ray::Task(SleepMs).Remote(0);
  auto fast2 = ray::Put(5);
  std::vector<ray::ObjectRef<int>> refs{slow, fast1, fast2};
  auto result = ray::Wait(refs, 2, 10000);
  ASSERT_EQ(result.ready.size(), 2u);
  ASSERT_EQ(result.unready.size(), 1u);
  EXPECT_EQ(result.ready.front().ID(), fast1.ID());
  EXPECT_EQ(result.ready.back().ID(), fast2.ID());
  EXPECT_EQ(result.unready.front().ID(), slow.ID());
  auto none = ray::Wait(std::vector<ray::ObjectRef<int>>{slow}, 1, 10);
  EXPECT_TRUE(none.ready.empty());
  moray::testing::Touch(gate);
  EXPECT_EQ(*slow.Get(), 1);
}

TEST_F(TasksTest, TenThousandTasksFanOutAndGather) {
  std::vector<ray::ObjectRef<int>> refs;
  refs.reserve(10000);
  for (int i = 0; i < 10000; ++i) refs.push_back(ray::Task(Square).Remote(i % 100));
  auto values = ray::Get(refs);
  ASSERT_EQ(values.size(), 10000u);
  long long sum = 0;
  for (auto& v : values) sum += *v;
  long long expected = 0;
  for (int i = 0; i < 10000; ++i) expected += (i % 100) * (i % 100);
  EXPECT_EQ(sum, expected);
}

TEST_F(TasksTest, NestedRecursionTwentyDeepDoesNotDeadlockOnTwoCpus) {
  EXPECT_EQ(*ray::Task(Recurse).Remote(20).Get(), 20);
}

TEST_F(TasksTest, HundredNestedFanOutTasks) {
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < 100; ++i) refs.push_back(ray::Task(FanOutParent).Remote(i));
  auto values = ray::Get(refs);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*values[i], (i + 1) * 2);
}

TEST_F(TasksTest, UserExceptionBecomesRayTaskException) {
  auto ref = ray::Task(Throws).Remote(1);
  try {
    ref.Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_EQ(std::string(e.what()),
              "An exception was thrown while executing function(Throws): std::runtime_error: bad "
              "input");
  }
}

TEST_F(TasksTest, UpstreamFailureReachesDependentsWithoutRunningThem) {
  const std::string marker1 = Scratch("dependent1-ran"), marker2 = Scratch("dependent2-ran");
  auto failed = ray::Task(Throws).Remote(1);
  auto dependent = ray::Task(SquareAndMark).Remote(marker1, failed);
  auto dependent2 = ray::Task(PlusAndMark).Remote(marker2, dependent, 1);
  for (auto* ref : {&dependent, &dependent2}) {
    try {
      ref->Get();
      ADD_FAILURE() << "expected RayTaskException";
    } catch (const ray::internal::RayTaskException& e) {
      EXPECT_NE(std::string(e.what()).find("function(Throws)"), std::string::npos) << e.what();
    }
  }
  // Neither ran: no worker took them (the state API shows each attempt failed without ever
  // reaching RUNNING, and no worker), and neither body left its file.
  for (const char* function : {"SquareAndMark", "PlusAndMark"}) {
    SCOPED_TRACE(function);
    nlohmann::json tasks;
    std::string error;
    EXPECT_TRUE(moray::testing::WaitFor([&] {
      tasks = moray::testing::RunMorayJson({"list", "tasks", "--address", "auto", "--detail",
                                            "--filter", std::string("func_or_class_name=") + function},
                                           &error);
      return tasks.is_array() && tasks.size() == 1 && tasks[0]["state"] == "FAILED";
    })) << tasks.dump(2) << error;
    for (const auto& task : tasks) {
      EXPECT_EQ(task["attempt_number"], 0);
      EXPECT_TRUE(task["worker_pid"].is_null()) << task.dump(2);
      EXPECT_FALSE(task["state_times_ns"].contains("RUNNING")) << task.dump(2);
      EXPECT_FALSE(task["state_times_ns"].contains("SUBMITTED_TO_WORKER")) << task.dump(2);
    }
  }
  EXPECT_FALSE(moray::testing::FileExists(marker1));
  EXPECT_FALSE(moray::testing::FileExists(marker2));
}

TEST_F(TasksTest, UnregisteredFunctionFailsAtTask) {
  try {
    ray::Task(NotRegistered);
    FAIL() << "expected RayException";
  } catch (const ray::internal::RayException& e) {
    EXPECT_EQ(std::string(e.what()),
              "Function not found. Please use RAY_REMOTE to register this function.");
  }
}

TEST_F(TasksTest, InvalidResourcesFailAtRemote) {
  EXPECT_THROW(ray::Task(Return1).SetResource("", 1).Remote(), ray::internal::RayException);
  EXPECT_THROW(ray::Task(Return1).SetResource("CPU", -1).Remote(), ray::internal::RayException);
  EXPECT_THROW(ray::Task(Return1).SetResource("GPU", 1.5).Remote(), ray::internal::RayException);
  EXPECT_EQ(*ray::Task(Return1).SetResource("CPU", 0.5).Remote().Get(), 1);
}

TEST_F(TasksTest, AZeroCpuTaskRunsWhileEveryCpuIsBusy) {
  // Two tasks hold both CPUs (they have started) and cannot end before the gate opens.
  const std::string gate = Scratch("busy-gate");
  std::vector<ray::ObjectRef<int>> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(ray::Task(AwaitGate).Remote(Scratch("busy-" + std::to_string(i)), gate));
  }
  ASSERT_TRUE(moray::testing::AwaitFile(Scratch("busy-0")));
  ASSERT_TRUE(moray::testing::AwaitFile(Scratch("busy-1")));
  auto zero = ray::Task(Return1).SetResource("CPU", 0).Remote();
  EXPECT_EQ(*zero.Get(30000), 1) << "it waited for a CPU";
  EXPECT_TRUE(ray::Wait(busy, 1, 0).ready.empty()) << "a busy task ended before the gate opened";
  moray::testing::Touch(gate);
  for (auto& ended : ray::Get(busy)) EXPECT_EQ(*ended, 1);
}

TEST_F(TasksTest, InfeasibleTaskStaysPending) {
  auto ref = ray::Task(Return1).SetResource("GPU", 1).Remote();
  auto result = ray::Wait(std::vector<ray::ObjectRef<int>>{ref}, 1, 300);
  EXPECT_TRUE(result.ready.empty());
  EXPECT_EQ(*ray::Task(Return1).Remote().Get(), 1);  // the rest of the cluster keeps working
}

TEST_F(TasksTest, WorkerDeathIsRetried) {
  std::string marker = moray::testing::PrivateTmpDir::path() + "/die-once";
  EXPECT_EQ(*ray::Task(DieOnce).Remote(marker).Get(), 7);
}

TEST_F(TasksTest, WorkerDeathWithoutRetriesRaisesRayWorkerException) {
  const std::string once = Scratch("die-no-retries"), thrice = Scratch("die-two-retries");
  auto ref = ray::Task(AlwaysDie).SetMaxRetries(0).Remote(once);
  EXPECT_THROW(ref.Get(), ray::internal::RayWorkerException);
  EXPECT_EQ(LineCount(once), 1) << "max_retries 0: one attempt";
  // Retries run and are counted: the first attempt and two retries, then the error.
  auto retried = ray::Task(AlwaysDie).SetMaxRetries(2).Remote(thrice);
  EXPECT_THROW(retried.Get(), ray::internal::RayWorkerException);
  EXPECT_EQ(LineCount(thrice), 3);
}

TEST_F(TasksTest, ArgumentMismatchSeenByTheWorkerSaysSo) {
  // Ask for a function by a name whose registered signature differs: submit through the runtime
  // directly, as a driver built from different source would.
  ray::internal::TaskArgument a;
  a.value = ray::internal::Serializer::Serialize(std::string("not an int"));
  std::string id = ray::internal::GetRuntime().SubmitTask("Square", {a}, {});
  ray::ObjectRef<int> ref(id);
  try {
    ref.Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("function(Square)"), std::string::npos) << what;
    EXPECT_NE(what.find("argument"), std::string::npos) << what;
  }
  std::string id2 = ray::internal::GetRuntime().SubmitTask("Square", {a, a}, {});
  ray::ObjectRef<int> ref2(id2);
  EXPECT_THROW(ref2.Get(), ray::internal::RayTaskException);
}

}  // namespace
