// Tasks and objects on a real embedded cluster: GCS, raylet and worker processes over sockets.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>

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
int AlwaysDie() { _exit(1); }
int NotRegistered(int x) { return x; }
void NoReturn(int) {}

RAY_REMOTE(Return1, Plus, Square, Concat, Range, SleepMs, Throws, Recurse, FanOutChild,
           FanOutParent, Pid, SelfExe, DieOnce, AlwaysDie, NoReturn);

class TasksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ray::RayConfig config;
    config.head_args = {"--num-cpus=2"};
    ray::Init(config);
  }
  static void TearDownTestSuite() { ray::Shutdown(); }
};

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
  // No code_search_path: the raylet starts workers from the driver's executable.
  EXPECT_EQ(*ray::Task(SelfExe).Remote().Get(), SelfExe());
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
  auto slow = ray::Task(SleepMs).Remote(1000);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(ray::Get(slow, 100), ray::internal::RayTimeoutException);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_EQ(*ray::Get(slow, -1), 1000);  // the timeout did not cancel the task
}

TEST_F(TasksTest, WaitKeepsInputOrder) {
  auto slow = ray::Task(SleepMs).Remote(2000);
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
  auto failed = ray::Task(Throws).Remote(1);
  auto dependent = ray::Task(Square).Remote(failed);
  auto dependent2 = ray::Task(Plus).Remote(dependent, 1);
  EXPECT_THROW(dependent2.Get(), ray::internal::RayTaskException);
  try {
    dependent2.Get();
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_NE(std::string(e.what()).find("function(Throws)"), std::string::npos) << e.what();
  }
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
  std::vector<ray::ObjectRef<int>> busy;
  for (int i = 0; i < 2; ++i) busy.push_back(ray::Task(SleepMs).Remote(3000));
  auto zero = ray::Task(Return1).SetResource("CPU", 0).Remote();
  std::vector<ray::ObjectRef<int>> all = {zero, busy[0], busy[1]};
  auto first = ray::Wait(all, 1, 30000);
  ASSERT_EQ(first.ready.size(), 1u);
  EXPECT_EQ(first.ready.front().ID(), zero.ID()) << "it did not wait for a CPU";
  EXPECT_EQ(*zero.Get(), 1);
  ray::Get(busy);
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
  auto ref = ray::Task(AlwaysDie).SetMaxRetries(0).Remote();
  EXPECT_THROW(ref.Get(), ray::internal::RayWorkerException);
  auto retried = ray::Task(AlwaysDie).SetMaxRetries(2).Remote();
  EXPECT_THROW(retried.Get(), ray::internal::RayWorkerException);
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
