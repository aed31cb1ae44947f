// Actors on a real `moray start --head` cluster with this process as the driver: creation through
// the GCS, direct calls, ordering, concurrency, names and lifetimes across drivers, failures and
// restarts, handles passed between processes, and what the state CLI shows.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/actors/counter.h"
#include "tests/test_env.h"

namespace {

using moray::testing::RunMoray;
using moray::testing::RunShell;
using moray::testing::WaitFor;

// Threaded-actor probe: Meet() returns true only if `parties` calls are inside it at once
// (waiting up to `patience_ms` for the others).
class Meeting {
 public:
  static Meeting* Create(int parties, int patience_ms) { return new Meeting(parties, patience_ms); }
  Meeting(int parties, int patience_ms) : parties_(parties), patience_(patience_ms) {}
  bool Meet() {
    std::unique_lock<std::mutex> lock(mu_);
    ++arrived_;
    cv_.notify_all();
    return cv_.wait_for(lock, patience_, [&] { return arrived_ >= parties_; });
  }
  // Concurrency groups: Block waits (in group "slow") until Release runs (in group "fast"), or
  // gives up after a minute so that a broken actor fails the test instead of hanging it.
  bool Block() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return released_; });
  }
  bool Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int parties_;
  std::chrono::milliseconds patience_;
  int arrived_ = 0;
  bool released_ = false;
};

// Base-class methods across processes: the call names Base::Describe on a Derived actor.
class Base {
 public:
  virtual ~Base() = default;
  int base_value = 7;
  virtual std::string Describe() { return "base"; }
  int BaseValue() { return base_value; }
};
class Other {
 public:
  virtual ~Other() = default;
  int other = 3;
};
class Derived : public Other, public Base {
 public:
  static Derived* Create() { return new Derived(); }
  std::string Describe() override { return "derived"; }
};

// Its factory throws `why` once `gate` exists (at once when `gate` is empty).
class Failing {
 public:
  static Failing* Create(std::string why, std::string gate) {
    if (!gate.empty()) moray::testing::AwaitFile(gate);
    throw std::runtime_error(why);
  }
  int Nothing() { return 0; }
};

// An actor whose calls a test can see start and can hold: Hold touches `started`, then returns
// the actor's pid once `gate` exists (0 if it never does, after a minute); Mark touches `ran`.
// Files, because the process that ran a call may be dead when the test looks.
class Gated {
 public:
  static Gated* Create() { return new Gated(); }
  int Hold(std::string started, std::string gate) {
    moray::testing::Touch(started);
    return moray::testing::AwaitFile(gate) ? static_cast<int>(getpid()) : 0;
  }
  int Mark(std::string ran) {
    moray::testing::Touch(ran);
    return static_cast<int>(getpid());
  }
  int Add(int x) { return value_ += x; }
  int Pid() { return static_cast<int>(getpid()); }
  bool Restarted() { return ray::WasCurrentActorRestarted(); }

 private:
  int value_ = 0;
};

Counter* CounterFromRef(int start) { return new Counter(start); }

// Tasks that use handles they were given, and an actor method that returns one.
int AddThroughHandle(ray::ActorHandle<Counter> counter, int x) {
  return *counter.Task(&Counter::Add).Remote(x).Get();
}
ray::ActorHandle<Counter> MakeCounter(int start) {
  return ray::Actor(Counter::FactoryCreate).Remote(start);
}
// Waits, then uses the handle it was given (the caller may have dropped its own meanwhile).
int AddLater(ray::ActorHandle<Counter> counter, int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return *counter.Task(&Counter::Add).Remote(x).Get();
}
// An actor that keeps a handle to another actor and calls it.
class Forwarder {
 public:
  static Forwarder* Create(ray::ActorHandle<Counter> target) { return new Forwarder(target); }
  explicit Forwarder(ray::ActorHandle<Counter> target) : target_(std::move(target)) {}
  int Forward(int x) { return *target_.Task(&Counter::Add).Remote(x).Get(); }
  int ForwardTo(ray::ActorHandle<Counter> other, int x) {
    return *other.Task(&Counter::Add).Remote(x).Get();
  }

 private:
  ray::ActorHandle<Counter> target_;
};
int UseCpus() { return 1; }
int SumFromTask(int n) {
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(0);
  int last = 0;
  for (int i = 1; i <= n; ++i) last = *counter.Task(&Counter::Add).Remote(i).Get();
  return last;
}

RAY_REMOTE(Meeting::Create, &Meeting::Meet, &Meeting::Block, &Meeting::Release, Derived::Create,
           &Base::Describe, &Base::BaseValue, Failing::Create, &Failing::Nothing, CounterFromRef,
           AddThroughHandle, MakeCounter, SumFromTask, AddLater, Forwarder::Create,
           &Forwarder::Forward, &Forwarder::ForwardTo, UseCpus, Gated::Create, &Gated::Hold,
           &Gated::Mark, &Gated::Add, &Gated::Pid, &Gated::Restarted);

template <typename F>
std::string ActorErrorOf(F&& f) {
  try {
    f();
  } catch (const ray::internal::RayActorException& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception: ") + e.what();
  }
  return "no exception";
}
// True if `error` (from ActorErrorOf) is a RayActorException's message.
bool IsActorError(const std::string& error) {
  return error != "no exception" && error.rfind("wrong exception: ", 0) != 0;
}

// A fresh directory for one test's files (the gates and marks of Gated, Failing).
std::string ScratchDir(const std::string& name) {
  std::string dir = moray::testing::PrivateTmpDir::path() + "/" + name;
  std::filesystem::create_directories(dir);
  return dir;
}
// Waits until `pid` (an actor's worker we killed) is gone, so it cannot see a gate opened after.
bool Gone(int pid) {
  return WaitFor([&] { return !moray::testing::ProcessAlive(pid); });
}

class ActorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    address_ = moray::testing::StartHead(&error);
    ASSERT_FALSE(address_.empty()) << error;
    ray::RayConfig config;
    config.address = address_;
    config.ray_namespace = "actors_test";
    ray::Init(config);
  }
  static void TearDownTestSuite() {
    ray::Shutdown();
    auto stopped = RunMoray({"stop"});
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  }
  static std::string ListActors(const std::string& filter) {
    return RunMoray({"list", "actors", "--address", address_, "--filter", filter}).out;
  }
  static std::string address_;
};
std::string ActorsTest::address_;

TEST_F(ActorsTest, CounterKeepsStateAcrossCalls) {
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(10);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 11);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(5).Get(), 16);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 16);
  // It runs in its own process, not in the driver.
  EXPECT_NE(*counter.Task(&Counter::Pid).Remote().Get(), getpid());
  EXPECT_FALSE(*counter.Task(&Counter::Restarted).Remote().Get());
}

TEST_F(ActorsTest, FactoryTakesObjectRefArguments) {
  auto start = ray::Put(41);
  auto counter = ray::Actor(CounterFromRef).Remote(start);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(ray::Put(1)).Get(), 42);
}

TEST_F(ActorsTest, CallsFromOneCallerRunInSubmissionOrder) {
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(0);
  const int n = 100000;
  std::vector<ray::ObjectRef<int>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) refs.push_back(counter.Task(&Counter::Append).Remote(i));
  auto results = ray::Get(refs);
  for (int i = 0; i < n; i += 9973) EXPECT_EQ(*results[i], i + 1);
  EXPECT_EQ(*results.back(), n);
  EXPECT_TRUE(*counter.Task(&Counter::InOrder).Remote().Get());
}

TEST_F(ActorsTest, MaxConcurrencyRunsCallsTogether) {
  // Meet waits as long as it takes the others to arrive (a minute at most).
  auto three = ray::Actor(Meeting::Create).SetMaxConcurrency(3).Remote(3, 60000);
  std::vector<ray::ObjectRef<bool>> met;
  for (int i = 0; i < 3; ++i) met.push_back(three.Task(&Meeting::Meet).Remote());
  for (auto& r : ray::Get(met, 60000)) EXPECT_TRUE(*r);

  auto two = ray::Actor(Meeting::Create).SetMaxConcurrency(2).Remote(3, 3000);
  std::vector<ray::ObjectRef<bool>> stuck;
  for (int i = 0; i < 3; ++i) stuck.push_back(two.Task(&Meeting::Meet).Remote());
  // Two calls at a time can never all meet: nothing finishes until a Meet gives up (3 s).
  EXPECT_THROW(ray::Get(stuck, 1500), ray::internal::RayTimeoutException);
  int timed_out = 0;
  for (auto& r : ray::Get(stuck, 20000)) timed_out += *r ? 0 : 1;
  EXPECT_GE(timed_out, 1);
}

TEST_F(ActorsTest, ConcurrencyGroupsHaveTheirOwnThreads) {
  auto actor =
      ray::Actor(Meeting::Create).SetConcurrencyGroups({{"slow", 1}, {"fast", 1}}).Remote(1, 0);
  auto blocked = actor.Task(&Meeting::Block).SetConcurrencyGroup("slow").Remote();
  auto released = actor.Task(&Meeting::Release).SetConcurrencyGroup("fast").Remote();
  // Sharing one thread, Release would wait for Block to give up (a minute).
  EXPECT_TRUE(*released.Get(30000));
  EXPECT_TRUE(*blocked.Get(30000));
}

TEST_F(ActorsTest, BaseClassMethodsReachTheRightSubobject) {
  auto actor = ray::Actor(Derived::Create).Remote();
  EXPECT_EQ(*actor.Task(&Base::Describe).Remote().Get(), "derived");
  EXPECT_EQ(*actor.Task(&Base::BaseValue).Remote().Get(), 7);
}

TEST_F(ActorsTest, NamesNamespacesAndDuplicates) {
  auto counter = ray::Actor(Counter::FactoryCreate).SetName("named-counter").Remote(3);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 3);
  EXPECT_EQ(ray::GetNamespace(), "actors_test");
  auto found = ray::GetActor<Counter>("named-counter");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found->Task(&Counter::Add).Remote(1).Get(), 4);
  EXPECT_FALSE(ray::GetActor<Counter>("named-counter", "elsewhere").has_value());
  try {
    ray::Actor(Counter::FactoryCreate).SetName("named-counter").Remote(0);
    ADD_FAILURE() << "a duplicate name was accepted";
  } catch (const ray::internal::RayException& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
  auto same = ray::Actor(Counter::FactoryCreate).SetName("named-counter").SetGetIfExists(true).Remote(0);
  EXPECT_EQ(same.ID(), counter.ID());
  // The same name in another namespace is another actor.
  auto other = ray::Actor(Counter::FactoryCreate).SetName("named-counter", "elsewhere").Remote(100);
  EXPECT_EQ(*ray::GetActor<Counter>("named-counter", "elsewhere")->Task(&Counter::Get).Remote().Get(),
            100);
}

TEST_F(ActorsTest, DetachedActorOutlivesItsDriverAndIsFoundByAnother) {
  auto created = RunShell(std::string(ACTOR_DRIVER) + " detached " + address_ + " det shared");
  ASSERT_NE(created.out.find("READY"), std::string::npos) << created.out << created.err;
  // Its driver is gone; the actor is not.
  auto found = ray::GetActor<Counter>("det", "shared");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found->Task(&Counter::Add).Remote(1).Get(), 6);
  auto other = RunShell(std::string(ACTOR_DRIVER) + " get " + address_ + " det shared");
  EXPECT_NE(other.out.find("value=6"), std::string::npos) << other.out << other.err;
  found->Kill();
  EXPECT_TRUE(WaitFor([] { return !ray::GetActor<Counter>("det", "shared").has_value(); }));
}

TEST_F(ActorsTest, NonDetachedActorDiesWithItsOwner) {
  auto created = RunShell(std::string(ACTOR_DRIVER) + " owned " + address_ + " owned1 shared");
  ASSERT_NE(created.out.find("READY"), std::string::npos) << created.out << created.err;
  EXPECT_TRUE(WaitFor([] { return !ray::GetActor<Counter>("owned1", "shared").has_value(); }));
  EXPECT_TRUE(WaitFor([] {
    return ListActors("name=owned1").find("DEAD") != std::string::npos;
  }));
}

TEST_F(ActorsTest, ActorDiesWhenNoHandleRemains) {
  std::string id;
  {
    auto counter = ray::Actor(Counter::FactoryCreate).SetName("scoped").Remote(0);
    id = counter.ID();
    EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 1);
  }
  EXPECT_TRUE(WaitFor([] { return !ray::GetActor<Counter>("scoped").has_value(); }));
  auto r = RunMoray({"get", "actors", id, "--address", address_});
  EXPECT_NE(r.out.find("DEAD"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("references"), std::string::npos) << r.out;
}

TEST_F(ActorsTest, KillFailsPendingAndLaterCalls) {
  const std::string dir = ScratchDir("kill");
  auto actor = ray::Actor(Gated::Create).Remote();
  // One call running (held at a gate that never opens) and five queued behind it.
  auto running = actor.Task(&Gated::Hold).Remote(dir + "/held", dir + "/never");
  ASSERT_TRUE(moray::testing::AwaitFile(dir + "/held"));
  std::vector<ray::ObjectRef<int>> queued;
  for (int i = 0; i < 5; ++i) {
    queued.push_back(actor.Task(&Gated::Mark).Remote(dir + "/queued-" + std::to_string(i)));
  }
  actor.Kill();
  std::string error = ActorErrorOf([&] { running.Get(30000); });
  EXPECT_NE(error.find("killed"), std::string::npos) << "the running call: " << error;
  for (auto& call : queued) {
    error = ActorErrorOf([&] { call.Get(30000); });
    EXPECT_NE(error.find("killed"), std::string::npos) << "a queued call: " << error;
  }
  error = ActorErrorOf([&] { actor.Task(&Gated::Pid).Remote().Get(30000); });
  EXPECT_NE(error.find("killed"), std::string::npos) << "a later call: " << error;
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(moray::testing::FileExists(dir + "/queued-" + std::to_string(i))) << i << " ran";
  }
}

TEST_F(ActorsTest, ExitActorEndsTheActor) {
  const std::string dir = ScratchDir("exit");
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(0);
  auto exit = counter.Task(&Counter::Exit).Remote();
  std::vector<ray::ObjectRef<int>> queued;  // behind the exit: they never run
  for (int i = 0; i < 3; ++i) queued.push_back(counter.Task(&Counter::Add).Remote(1));
  std::string error = ActorErrorOf([&] { exit.Get(30000); });
  EXPECT_NE(error.find("exited"), std::string::npos) << error;
  for (auto& call : queued) {
    error = ActorErrorOf([&] { call.Get(30000); });
    EXPECT_NE(error.find("exited"), std::string::npos) << "a queued call: " << error;
  }
  error = ActorErrorOf([&] { counter.Task(&Counter::Get).Remote().Get(30000); });
  EXPECT_NE(error.find("exited"), std::string::npos) << error;
}

TEST_F(ActorsTest, FactoryErrorReachesEveryCall) {
  // The factory fails only once the calls are waiting for it.
  const std::string gate = ScratchDir("factory") + "/fail-now";
  auto failing = ray::Actor(Failing::Create)
                     .SetName("failing-factory")
                     .Remote(std::string("no resources for you"), gate);
  std::vector<ray::ObjectRef<int>> calls;
  for (int i = 0; i < 5; ++i) calls.push_back(failing.Task(&Failing::Nothing).Remote());
  moray::testing::Touch(gate);
  calls.push_back(failing.Task(&Failing::Nothing).Remote());
  for (auto& call : calls) {
    std::string error = ActorErrorOf([&] { call.Get(30000); });
    EXPECT_NE(error.find("no resources for you"), std::string::npos) << error;
  }
  // And a call made once the failure is known.
  ASSERT_TRUE(WaitFor([&] {
    return ListActors("name=failing-factory").find("DEAD") != std::string::npos;
  })) << ListActors("name=failing-factory");
  std::string error = ActorErrorOf([&] { failing.Task(&Failing::Nothing).Remote().Get(30000); });
  EXPECT_NE(error.find("no resources for you"), std::string::npos) << error;
}

TEST_F(ActorsTest, RestartsAfterSigkillWithinMaxRestarts) {
  const std::string dir = ScratchDir("restart");
  auto actor = ray::Actor(Gated::Create).SetMaxRestarts(1).Remote();
  EXPECT_EQ(*actor.Task(&Gated::Add).Remote(5).Get(), 5);
  int pid = *actor.Task(&Gated::Pid).Remote().Get();
  // A call in flight when the process dies fails (max_task_retries 0: at most once), even
  // though the actor restarts. The gate opens once the process is gone, so a call wrongly
  // retried would return a pid.
  auto in_flight = actor.Task(&Gated::Hold).Remote(dir + "/held", dir + "/go");
  ASSERT_TRUE(moray::testing::AwaitFile(dir + "/held"));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(Gone(pid));
  moray::testing::Touch(dir + "/go");
  std::string error = ActorErrorOf([&] { in_flight.Get(60000); });
  EXPECT_TRUE(IsActorError(error)) << "the call in flight: " << error;
  // The next call reaches the new instance: the factory ran again, state starts over.
  int new_pid = 0;
  ASSERT_TRUE(WaitFor([&] {
    try {
      new_pid = *actor.Task(&Gated::Pid).Remote().Get(10000);
      return new_pid != pid;
    } catch (const ray::internal::RayActorException&) {
      return false;  // a call that raced the crash
    }
  }));
  EXPECT_TRUE(*actor.Task(&Gated::Restarted).Remote().Get());
  EXPECT_EQ(*actor.Task(&Gated::Add).Remote(1).Get(), 1);
  // No restarts left: the next crash is final, and says so.
  ASSERT_EQ(kill(new_pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] {
    error = ActorErrorOf([&] { actor.Task(&Gated::Pid).Remote().Get(10000); });
    return error != "no exception";
  }));
  EXPECT_NE(error.find("died unexpectedly"), std::string::npos) << error;
}

TEST_F(ActorsTest, MaxTaskRetriesResubmitsCallsLostToARestart) {
  const std::string dir = ScratchDir("retries");
  auto actor = ray::Actor(Gated::Create).SetMaxRestarts(-1).SetMaxTaskRetries(-1).Remote();
  EXPECT_EQ(*actor.Task(&Gated::Add).Remote(100).Get(), 100);  // state the crash will lose
  int pid = *actor.Task(&Gated::Pid).Remote().Get();
  // A call running when the process dies, and calls queued behind it: all are lost with the
  // process. The gate opens only once the process is gone, so the first attempt cannot answer.
  auto lost = actor.Task(&Gated::Hold).Remote(dir + "/held", dir + "/go");
  ASSERT_TRUE(moray::testing::AwaitFile(dir + "/held"));
  std::vector<ray::ObjectRef<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(actor.Task(&Gated::Add).Remote(1));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(Gone(pid));
  moray::testing::Touch(dir + "/go");
  // Each is retried on the restarted actor and answers once, from there.
  int reran_in = *lost.Get(60000);
  EXPECT_NE(reran_in, pid) << "the lost call answered from the dead process";
  EXPECT_NE(reran_in, 0) << "the retried call never saw the gate";
  std::vector<int> sums;
  for (auto& call : ray::Get(queued, 60000)) sums.push_back(*call);
  std::sort(sums.begin(), sums.end());
  EXPECT_EQ(sums, (std::vector<int>{1, 2, 3, 4, 5})) << "state started over; each ran once";
  EXPECT_TRUE(*actor.Task(&Gated::Restarted).Remote().Get(30000));
  EXPECT_EQ(*actor.Task(&Gated::Pid).Remote().Get(30000), reran_in);
}

TEST_F(ActorsTest, KillWithRestartRestarts) {
  const std::string dir = ScratchDir("kill-restart");
  auto actor = ray::Actor(Gated::Create).SetMaxRestarts(1).Remote();
  EXPECT_EQ(*actor.Task(&Gated::Add).Remote(5).Get(), 5);
  int pid = *actor.Task(&Gated::Pid).Remote().Get();
  auto in_flight = actor.Task(&Gated::Hold).Remote(dir + "/held", dir + "/never");
  ASSERT_TRUE(moray::testing::AwaitFile(dir + "/held"));
  actor.Kill(false);
  std::string error = ActorErrorOf([&] { in_flight.Get(30000); });
  EXPECT_TRUE(IsActorError(error)) << "the call in flight: " << error;
  ASSERT_TRUE(WaitFor([&] {
    try {
      return *actor.Task(&Gated::Pid).Remote().Get(10000) != pid;
    } catch (const ray::internal::RayActorException&) {
      return false;
    }
  }));
  EXPECT_TRUE(*actor.Task(&Gated::Restarted).Remote().Get(30000));
  EXPECT_EQ(*actor.Task(&Gated::Add).Remote(1).Get(30000), 1) << "the factory ran again";
}

TEST_F(ActorsTest, HandlesTravelToTasksAndBackFromActors) {
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(0);
  EXPECT_EQ(*ray::Task(AddThroughHandle).Remote(counter, 2).Get(), 2);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 2);
  // A handle made inside a task (owned by that worker) and returned to the driver.
  auto made = *ray::Task(MakeCounter).Remote(7).Get();
  EXPECT_EQ(*made.Task(&Counter::Add).Remote(1).Get(), 8);
  // Actors created and called from inside a task.
  EXPECT_EQ(*ray::Task(SumFromTask).Remote(4).Get(), 10);
  // Bytes round trip.
  auto again = ray::ActorHandle<Counter>::FromBytes(counter.ToBytes());
  EXPECT_EQ(*again.Task(&Counter::Get).Remote().Get(), 2);
}

TEST_F(ActorsTest, HandlesGoToOtherActorsAndAreCountedEverywhere) {
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(0);
  auto forwarder = ray::Actor(Forwarder::Create).Remote(counter);
  EXPECT_EQ(*forwarder.Task(&Forwarder::Forward).Remote(3).Get(), 3);
  EXPECT_EQ(*forwarder.Task(&Forwarder::ForwardTo).Remote(counter, 4).Get(), 7);

  // The driver drops its handle while a task still holds one: the actor stays until that task
  // is done with it, then goes.
  std::optional<ray::ActorHandle<Counter>> scoped(ray::Actor(Counter::FactoryCreate).SetName("held").Remote(10));
  auto later = ray::Task(AddLater).Remote(*scoped, 1);
  scoped.reset();
  EXPECT_EQ(*later.Get(10000), 11);
  EXPECT_TRUE(WaitFor([] { return !ray::GetActor<Counter>("held").has_value(); }));
}

TEST_F(ActorsTest, DefaultLifetimeFromConfig) {
  auto created =
      RunShell(std::string(ACTOR_DRIVER) + " default-detached " + address_ + " cfgdet shared");
  ASSERT_NE(created.out.find("READY"), std::string::npos) << created.out << created.err;
  auto found = ray::GetActor<Counter>("cfgdet", "shared");
  ASSERT_TRUE(found.has_value()) << "RayConfig::default_actor_lifetime = DETACHED was ignored";
  EXPECT_EQ(*found->Task(&Counter::Get).Remote().Get(), 5);
  found->Kill();
}

TEST_F(ActorsTest, DefaultActorsHoldNoCpuExplicitOnesDo) {
  // Four default actors on a 2-CPU node: each needs a CPU only to be created.
  std::vector<ray::ActorHandle<Counter>> actors;
  for (int i = 0; i < 4; ++i) actors.push_back(ray::Actor(Counter::FactoryCreate).Remote(i));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*actors[i].Task(&Counter::Get).Remote().Get(10000), i);
  EXPECT_EQ(*ray::Task(UseCpus).SetResource("CPU", 2).Remote().Get(10000), 1);
  // An actor that asks for 2 CPUs holds them while alive.
  auto big = ray::Actor(Counter::FactoryCreate).SetResource("CPU", 2).Remote(0);
  EXPECT_EQ(*big.Task(&Counter::Get).Remote().Get(10000), 0);
  auto waiting = ray::Task(UseCpus).SetResource("CPU", 2).Remote();
  EXPECT_THROW(waiting.Get(1000), ray::internal::RayTimeoutException);
  big.Kill();
  EXPECT_EQ(*waiting.Get(10000), 1);
}

TEST_F(ActorsTest, UnplaceableActorStaysPendingAndVisible) {
  auto gpu = ray::Actor(Counter::FactoryCreate).SetResource("GPU", 1).SetName("gpu-actor").Remote(0);
  auto call = gpu.Task(&Counter::Get).Remote();
  EXPECT_THROW(call.Get(500), ray::internal::RayTimeoutException);
  EXPECT_TRUE(WaitFor([] {
    return ListActors("name=gpu-actor").find("PENDING_CREATION") != std::string::npos;
  }));
  EXPECT_TRUE(WaitFor([] {
    auto status = RunMoray({"status", "--address", address_}).out;
    return status.find("'GPU': 1.0") != std::string::npos &&
           status.find("infeasible") != std::string::npos;
  })) << RunMoray({"status", "--address", address_}).out;
  gpu.Kill();
  EXPECT_NE(ActorErrorOf([&] { call.Get(10000); }).find("killed"), std::string::npos);
}

TEST_F(ActorsTest, StateCliShowsActorsAndActorTasks) {
  auto counter = ray::Actor(Counter::FactoryCreate).SetName("cli-counter").Remote(0);
  for (int i = 0; i < 3; ++i) counter.Task(&Counter::Add).Remote(1).Get();
  EXPECT_TRUE(WaitFor([] { return ListActors("name=cli-counter").find("ALIVE") != std::string::npos; }));
  auto list = ListActors("name=cli-counter");
  EXPECT_NE(list.find("Counter"), std::string::npos) << list;
  auto summary = RunMoray({"summary", "actors", "--address", address_}).out;
  EXPECT_NE(summary.find("Counter"), std::string::npos) << summary;
  EXPECT_TRUE(WaitFor([] {
    auto tasks = RunMoray({"list", "tasks", "--address", address_, "--filter",
                           "type=ACTOR_TASK", "--limit", "100000"}).out;
    auto creation = RunMoray({"list", "tasks", "--address", address_, "--filter",
                              "type=ACTOR_CREATION_TASK"}).out;
    return tasks.find("&Counter::Add") != std::string::npos &&
           creation.find("Counter.__init__") != std::string::npos;
  }));
  auto summary_tasks = RunMoray({"summary", "tasks", "--address", address_}).out;
  EXPECT_NE(summary_tasks.find("ACTOR_TASK"), std::string::npos) << summary_tasks;
}

}  // namespace
