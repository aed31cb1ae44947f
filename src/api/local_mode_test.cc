// Local mode end to end through the public API only (plus LocalModeRuntime's test accessors).
// Compiled as C++17 to check that the public headers need nothing newer.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/local_mode_runtime.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ray/api.h"

namespace {

using ::testing::ElementsAre;

// Gates let a test decide when a task finishes. Waiting is bounded so that a broken test fails
// instead of hanging.
std::mutex gate_mu;
std::condition_variable gate_cv;
std::map<int, bool> gates;

void OpenGate(int gate) {
  {
    std::lock_guard<std::mutex> lock(gate_mu);
    gates[gate] = true;
  }
  gate_cv.notify_all();
}

int WaitGate(int gate) {
  std::unique_lock<std::mutex> lock(gate_mu);
  if (!gate_cv.wait_for(lock, std::chrono::seconds(20), [&] { return gates[gate]; })) {
    throw std::runtime_error("gate never opened");
  }
  return gate;
}

int Plus(int a, int b) { return a + b; }
std::string Concat(std::string a, const std::string& b) { return a + b; }
int Depth(int n) { return n == 0 ? 0 : *ray::Task(Depth).Remote(n - 1).Get(30000) + 1; }
int Throws(int) { throw std::runtime_error("boom"); }
void VoidThrows() { throw std::logic_error("void boom"); }
std::atomic<int> touched{0};
void Touch() { ++touched; }
int SumRefs(std::vector<ray::ObjectRef<int>> refs) {
  int sum = 0;
  for (const auto& ref : refs) sum += *ref.Get();
  return sum;
}
int GetBorrowed(ray::ObjectRef<int> ref) { return *ref.Get() * 10; }
std::atomic<int> flaky_calls{0};
int Flaky(int failures) {
  if (flaky_calls++ < failures) throw std::runtime_error("flaky");
  return flaky_calls.load();
}
std::atomic<int> counted_plus_runs{0};
int CountedPlus(int a, int b) {
  ++counted_plus_runs;
  return a + b;
}
std::atomic<int> debug_evaluations{0};
int Evaluated() { return ++debug_evaluations; }
int LogAndReturn(int x) {
  RAYLOG(INFO) << "LogAndReturn got " << x;
  RAYLOG(DEBUG) << "debug line " << Evaluated();
  return x;
}

// What `body` writes to this process's stdout and stderr (file descriptors 1 and 2): RAYLOG's
// sink in a driver that set up no logging of its own is spdlog's default logger, on stdout.
std::string CaptureOutput(const std::function<void()>& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  char path[] = "/tmp/moray-output-XXXXXX";
  int file = mkstemp(path);
  if (file < 0) return "mkstemp failed";
  unlink(path);
  int saved_out = dup(1), saved_err = dup(2);
  dup2(file, 1);
  dup2(file, 2);
  body();
  std::fflush(stdout);
  std::fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  std::string text;
  char buf[4096];
  ssize_t n;
  lseek(file, 0, SEEK_SET);
  while ((n = read(file, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(file);
  return text;
}

void CallsShutdown() { ray::Shutdown(); }

RAY_REMOTE(WaitGate, Plus, Concat, Depth, Throws, VoidThrows, Touch, SumRefs, GetBorrowed, Flaky,
           CountedPlus, LogAndReturn, CallsShutdown);

moray::api::LocalModeRuntime& Runtime() {
  return dynamic_cast<moray::api::LocalModeRuntime&>(ray::internal::GetRuntime());
}

class LocalModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ray::RayConfig config;
    config.local_mode = true;
    ray::Init(config);
    ASSERT_TRUE(ray::IsInitialized());
  }
  void TearDown() override {
    for (int gate = 0; gate < 100; ++gate) OpenGate(gate);
    ray::Shutdown();
    EXPECT_FALSE(ray::IsInitialized());
    std::lock_guard<std::mutex> lock(gate_mu);
    gates.clear();
  }
};

TEST_F(LocalModeTest, PutAndGet) {
  auto ref = ray::Put(std::vector<int>{1, 2, 3});
  EXPECT_THAT(*ray::Get(ref), ElementsAre(1, 2, 3));
  EXPECT_EQ(ref.ID().size(), 40u);  // 20-byte object id in hex
  std::vector<ray::ObjectRef<std::string>> refs{ray::Put(std::string("a")),
                                                ray::Put(std::string("b")),
                                                ray::Put(std::string("c"))};
  auto values = ray::Get(refs);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(*values[0] + *values[1] + *values[2], "abc");
}

// Local mode validates runtime envs and refuses non-empty ones rather than ignoring them.
TEST_F(LocalModeTest, RuntimeEnvsAreRefused) {
  ray::RuntimeEnv vars;
  vars.Set("env_vars", std::map<std::string, std::string>{{"A", "1"}});
  EXPECT_THROW(ray::Task(Plus).SetRuntimeEnv(vars).Remote(1, 2),
               ray::internal::RayRuntimeEnvException);
  ray::RuntimeEnv pip;
  pip.Set("pip", std::vector<std::string>{"x"});
  try {
    ray::Task(Plus).SetRuntimeEnv(pip).Remote(1, 2);
    FAIL() << "a pip env was accepted";
  } catch (const ray::internal::RayRuntimeEnvException& e) {
    EXPECT_NE(std::string(e.what()).find("'pip' is not supported"), std::string::npos);
  }
  EXPECT_EQ(*ray::Task(Plus).SetRuntimeEnv(ray::RuntimeEnv()).Remote(1, 2).Get(), 3);
}

TEST_F(LocalModeTest, TasksWithValuesAndRefArguments) {
  auto three = ray::Task(Plus).Remote(1, 2);
  auto ten = ray::Task(Plus).Remote(three, ray::Put(7));
  EXPECT_EQ(*ray::Get(ten), 10);
  EXPECT_EQ(*ray::Task(Concat).Remote(std::string("mo"), "ray").Get(), "moray");
}

TEST_F(LocalModeTest, ArgumentRefsResolveOnlyWhenReady) {
  auto gated = ray::Task(WaitGate).Remote(1);
  auto sum = ray::Task(Plus).Remote(gated, 100);
  EXPECT_THROW(ray::Get(sum, 50), ray::internal::RayTimeoutException);
  OpenGate(1);
  EXPECT_EQ(*ray::Get(sum, 10000), 101);
}

TEST_F(LocalModeTest, RefsNestedInValuesAndRefParameters) {
  std::vector<ray::ObjectRef<int>> refs{ray::Put(1), ray::Task(Plus).Remote(2, 3)};
  EXPECT_EQ(*ray::Task(SumRefs).Remote(refs).Get(), 6);
  EXPECT_EQ(*ray::Task(GetBorrowed).Remote(ray::Put(4)).Get(), 40);
}

TEST_F(LocalModeTest, NestedTasksTwentyDeepDoNotDeadlock) {
  EXPECT_EQ(*ray::Task(Depth).Remote(20).Get(30000), 20);
  // Every level blocked one thread, so the pool grew past its initial size if that was small.
  EXPECT_GE(Runtime().NumThreads(), 20u);
}

TEST_F(LocalModeTest, GetTimesOut) {
  auto ref = ray::Task(WaitGate).Remote(2);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(ref.Get(100), ray::internal::RayTimeoutException);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  EXPECT_THROW(ray::Get(std::vector<ray::ObjectRef<int>>{ray::Put(1), ref}, 0),
               ray::internal::RayTimeoutException);
  OpenGate(2);
  EXPECT_EQ(*ref.Get(10000), 2);
}

TEST_F(LocalModeTest, WaitKeepsInputOrder) {
  // Tasks waiting for `blocker` hold no thread, so the ready ones run whatever the pool size.
  auto blocker = ray::Task(WaitGate).Remote(10);
  std::vector<ray::ObjectRef<int>> refs{ray::Task(Plus).Remote(blocker, 0), ray::Task(Plus).Remote(1, 1),
                                        ray::Task(Plus).Remote(blocker, 1), ray::Task(Plus).Remote(2, 2)};
  ray::WaitResult<int> result = ray::Wait(refs, 2, 10000);
  ASSERT_EQ(result.ready.size(), 2u);
  EXPECT_EQ(result.ready.front(), refs[1]);
  EXPECT_EQ(result.ready.back(), refs[3]);
  ASSERT_EQ(result.unready.size(), 2u);
  EXPECT_EQ(result.unready.front(), refs[0]);
  EXPECT_EQ(result.unready.back(), refs[2]);
  // Time is up before 4 are ready: returns what is ready.
  result = ray::Wait(refs, 4, 50);
  EXPECT_EQ(result.ready.size(), 2u);
  // Two are ready but one is asked for: only the first ready one in input order is marked ready
  // (as Ray does); the other ready one is listed as unready, in its input position.
  result = ray::Wait(refs, 1, 0);
  ASSERT_EQ(result.ready.size(), 1u);
  EXPECT_EQ(result.ready.front(), refs[1]);
  ASSERT_EQ(result.unready.size(), 3u);
  EXPECT_EQ(std::vector<ray::ObjectRef<int>>(result.unready.begin(), result.unready.end()),
            (std::vector<ray::ObjectRef<int>>{refs[0], refs[2], refs[3]}));
  result = ray::Wait(refs, 0, 0);
  EXPECT_TRUE(result.ready.empty());
  EXPECT_EQ(result.unready.size(), 4u);
}

TEST_F(LocalModeTest, TaskExceptionMessage) {
  auto ref = ray::Task(Throws).Remote(1);
  try {
    ref.Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_STREQ(e.what(),
                 "An exception was thrown while executing function(Throws): std::runtime_error: boom");
  }
  // A dependent task does not run; its output holds the upstream error.
  counted_plus_runs = 0;
  auto dependent = ray::Task(CountedPlus).Remote(ref, 1);
  try {
    dependent.Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("function(Throws)"));
  }
  EXPECT_EQ(counted_plus_runs.load(), 0) << "the dependent ran";
  ray::ObjectRef<void> void_ref = ray::Task(VoidThrows).Remote();
  EXPECT_THROW(ray::Get(void_ref), ray::internal::RayTaskException);
  touched = 0;
  ray::Task(Touch).Remote().Get();
  EXPECT_EQ(touched.load(), 1);
}

TEST_F(LocalModeTest, ArgumentMismatchBecomesTaskException) {
  std::vector<ray::internal::TaskArgument> args(3);
  for (auto& arg : args) arg.value = ray::internal::Serializer::Serialize(1);
  ray::ObjectRef<int> ref(ray::internal::GetRuntime().SubmitTask("Plus", args, {}));
  try {
    ref.Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_STREQ(e.what(),
                 "An exception was thrown while executing function(Plus): std::invalid_argument: "
                 "function Plus takes 2 arguments but the caller passed 3");
  }
}

TEST_F(LocalModeTest, RetriesExceptionsOnlyWhenAsked) {
  flaky_calls = 0;
  EXPECT_THROW(ray::Task(Flaky).Remote(1).Get(), ray::internal::RayTaskException);
  flaky_calls = 0;
  EXPECT_EQ(*ray::Task(Flaky).SetRetryExceptions(true).SetMaxRetries(2).Remote(2).Get(), 3);
  flaky_calls = 0;
  EXPECT_THROW(ray::Task(Flaky).SetRetryExceptions(true).SetMaxRetries(1).Remote(2).Get(),
               ray::internal::RayTaskException);
}

TEST_F(LocalModeTest, ObjectsAreFreedWithTheirLastReference) {
  {
    auto a = ray::Put(1);
    auto b = ray::Task(Plus).Remote(a, 2);
    EXPECT_EQ(*b.Get(), 3);
    EXPECT_EQ(Runtime().NumObjects(), 2u);
  }
  EXPECT_EQ(Runtime().NumObjects(), 0u);
}

TEST_F(LocalModeTest, ShutdownInsideATaskFailsThatTask) {
  try {
    ray::Task(CallsShutdown).Remote().Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("cannot be called from inside a task"));
  }
  EXPECT_TRUE(ray::IsInitialized());
}

TEST_F(LocalModeTest, RaylogFromTasks) {
  debug_evaluations = 0;
  int got = 0;
  std::string log = CaptureOutput([&] { got = *ray::Task(LogAndReturn).Remote(5).Get(); });
  EXPECT_EQ(got, 5);
  EXPECT_THAT(log, ::testing::HasSubstr("LogAndReturn got 5"));
  // DEBUG is below the default level: not written, and its stream not even evaluated.
  EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr("debug line")));
  EXPECT_EQ(debug_evaluations.load(), 0);
}

TEST(LocalModeInitTest, InitIsIdempotentAndWorksAfterShutdown) {
  ray::RayConfig config;
  config.local_mode = true;
  ray::Init(config);
  ray::internal::RayRuntime* first = ray::internal::GetRuntimeOrNull();
  ray::Init(config);
  EXPECT_EQ(ray::internal::GetRuntimeOrNull(), first);
  auto stale = ray::Put(1);
  ray::Shutdown();
  EXPECT_FALSE(ray::IsInitialized());
  EXPECT_THROW(ray::Put(1), ray::internal::RayException);
  ray::Init(config);
  EXPECT_EQ(*ray::Task(Plus).Remote(2, 2).Get(), 4);
  ray::Shutdown();
  ray::Shutdown();  // harmless
}

TEST(LocalModeInitTest, BadFlagLeavesRayUninitialized) {
  ray::RayConfig config;
  config.local_mode = true;
  std::string prog = "prog", flag = "--ray_default_actor_lifetime=sometimes";
  char* argv[] = {prog.data(), flag.data()};
  EXPECT_THROW(ray::Init(config, 2, argv), ray::internal::RayException);
  EXPECT_FALSE(ray::IsInitialized());
}

}  // namespace
