// Actors through the public API: local mode end to end, and the defaults of a runtime without
// actors. Compiled as C++17 like local_mode_test.cc.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/fake_ray_runtime.h"
#include "api/runtime_slot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ray/api.h"

namespace {

using ::testing::HasSubstr;

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter* FactoryCreate(int start) { return new Counter(start); }
  int Add(int delta) { return value_ += delta; }
  int Get() const { return value_; }
  int Fail(int) { throw std::runtime_error("fail on purpose"); }
  int Exit() {
    ray::ExitActor();
    return -1;
  }
  std::string Namespace() { return ray::GetNamespace(); }
  bool Restarted() { return ray::WasCurrentActorRestarted(); }

 private:
  int value_;
};

Counter* CreateCounter(int start) { return new Counter(start); }
Counter* ThrowingFactory(std::string message) { throw std::runtime_error(message); }

// A base class at a non-zero offset inside the actor's class, with a virtual method.
class Padding {
 public:
  virtual ~Padding() = default;
  int64_t pad[4] = {1, 2, 3, 4};
};
class Animal {
 public:
  explicit Animal(std::string tag) : tag_(std::move(tag)) {}
  virtual ~Animal() = default;
  virtual std::string Speak() { return "..."; }
  std::string Tag() const { return tag_; }

 private:
  std::string tag_;
};
class Dog : public Padding, public Animal {
 public:
  Dog() : Animal("dog-tag") {}
  std::string Speak() override { return "woof"; }
  int Legs() const { return 4; }
};
Dog* CreateDog() { return new Dog(); }

int Plus(int a, int b) { return a + b; }
int AddThroughHandle(ray::ActorHandle<Counter> counter, int delta) {
  return *counter.Task(&Counter::Add).Remote(delta).Get();
}
ray::ActorHandle<Counter> MakeCounter(int start) { return ray::Actor(CreateCounter).Remote(start); }

RAY_REMOTE(Counter::FactoryCreate, CreateCounter, ThrowingFactory, &Counter::Add, &Counter::Get,
           &Counter::Fail, &Counter::Exit, &Counter::Namespace, &Counter::Restarted, CreateDog,
           &Animal::Speak, &Animal::Tag, &Dog::Legs, Plus, AddThroughHandle, MakeCounter);

class ActorLocalModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ray::RayConfig config;
    config.local_mode = true;
    config.ray_namespace = "test_ns";
    ray::Init(config);
  }
  void TearDown() override { ray::Shutdown(); }
};

template <typename E, typename T>
std::string ErrorOf(const ray::ObjectRef<T>& ref) {
  try {
    ref.Get();
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(ActorLocalModeTest, CounterAddAndGet) {
  ray::ActorHandle<Counter> counter = ray::Actor(Counter::FactoryCreate).Remote(10);
  EXPECT_FALSE(counter.ID().empty());
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(5).Get(), 15);
  EXPECT_EQ(*counter.Task(&Counter::Add).SetName("add").SetResource("CPU", 1).Remote(1).Get(), 16);
  EXPECT_EQ(*ray::Get(counter.Task(&Counter::Get).Remote()), 16);
}

TEST_F(ActorLocalModeTest, CallsRunInSubmissionOrder) {
  auto counter = ray::Actor(CreateCounter).Remote(0);
  std::vector<ray::ObjectRef<int>> results;
  for (int i = 0; i < 100; ++i) results.push_back(counter.Task(&Counter::Add).Remote(1));
  auto values = ray::Get(results);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*values[i], i + 1);
}

TEST_F(ActorLocalModeTest, ObjectRefArgumentsAreResolved) {
  auto counter = ray::Actor(CreateCounter).Remote(ray::Put(100));
  ray::ObjectRef<int> three = ray::Task(Plus).Remote(1, 2);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(three).Get(), 103);
}

TEST_F(ActorLocalModeTest, MethodOfBaseClassDispatchesVirtually) {
  ray::ActorHandle<Dog> dog = ray::Actor(CreateDog).Remote();
  EXPECT_EQ(*dog.Task(&Animal::Speak).Remote().Get(), "woof");
  EXPECT_EQ(*dog.Task(&Animal::Tag).Remote().Get(), "dog-tag");  // the right subobject
  EXPECT_EQ(*dog.Task(&Dog::Legs).Remote().Get(), 4);
}

TEST_F(ActorLocalModeTest, MethodExceptionIsATaskException) {
  auto counter = ray::Actor(CreateCounter).Remote(0);
  std::string error = ErrorOf<ray::RayTaskException>(counter.Task(&Counter::Fail).Remote(1));
  EXPECT_THAT(error, HasSubstr("&Counter::Fail"));
  EXPECT_THAT(error, HasSubstr("fail on purpose"));
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 1);  // the actor lives on
}

TEST_F(ActorLocalModeTest, NamesAndGetActor) {
  EXPECT_EQ(ray::GetNamespace(), "test_ns");
  auto counter = ray::Actor(CreateCounter).SetName("counter").Remote(1);
  std::optional<ray::ActorHandle<Counter>> found = ray::GetActor<Counter>("counter");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->ID(), counter.ID());
  EXPECT_EQ(*found->Task(&Counter::Add).Remote(1).Get(), 2);
  EXPECT_TRUE(ray::GetActor<Counter>("counter", "test_ns").has_value());
  EXPECT_FALSE(ray::GetActor<Counter>("counter", "elsewhere").has_value());
  EXPECT_FALSE(ray::GetActor<Counter>("missing").has_value());

  try {
    ray::Actor(CreateCounter).SetName("counter").Remote(0);
    ADD_FAILURE() << "a duplicate name was accepted";
  } catch (const ray::RayException& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("counter"));
  }
  // The same name in another namespace is another actor.
  auto other = ray::Actor(CreateCounter).SetName("counter", "elsewhere").Remote(50);
  EXPECT_NE(other.ID(), counter.ID());
  EXPECT_EQ(ray::GetActor<Counter>("counter", "elsewhere")->ID(), other.ID());
  // SetGetIfExists returns the existing actor.
  auto again = ray::Actor(CreateCounter).SetName("counter").SetGetIfExists(true).Remote(0);
  EXPECT_EQ(again.ID(), counter.ID());
  EXPECT_EQ(*counter.Task(&Counter::Namespace).Remote().Get(), "test_ns");
  EXPECT_FALSE(*counter.Task(&Counter::Restarted).Remote().Get());
}

TEST_F(ActorLocalModeTest, KillMakesLaterCallsFail) {
  auto counter = ray::Actor(CreateCounter).SetName("doomed").Remote(0);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 1);
  counter.Kill();
  EXPECT_THAT(ErrorOf<ray::RayActorException>(counter.Task(&Counter::Add).Remote(1)),
              HasSubstr("killed"));
  EXPECT_FALSE(ray::GetActor<Counter>("doomed").has_value());  // the name is free again
  counter.Kill(false);  // harmless
  auto reborn = ray::Actor(CreateCounter).SetName("doomed").Remote(7);
  EXPECT_EQ(*reborn.Task(&Counter::Get).Remote().Get(), 7);
}

TEST_F(ActorLocalModeTest, ThrowingFactoryFailsEveryCall) {
  ray::ActorHandle<Counter> broken =
      ray::Actor(ThrowingFactory).SetName("broken").Remote(std::string("no counter today"));
  for (int i = 0; i < 2; ++i) {
    std::string error = ErrorOf<ray::RayActorException>(broken.Task(&Counter::Add).Remote(1));
    EXPECT_THAT(error, HasSubstr("no counter today"));
    EXPECT_THAT(error, HasSubstr("ThrowingFactory"));
  }
  EXPECT_FALSE(ray::GetActor<Counter>("broken").has_value());
}

TEST_F(ActorLocalModeTest, ExitActor) {
  EXPECT_THROW(ray::ExitActor(), ray::RayException);
  auto counter = ray::Actor(CreateCounter).Remote(0);
  EXPECT_THAT(ErrorOf<ray::RayActorException>(counter.Task(&Counter::Exit).Remote()),
              HasSubstr("exited"));
  EXPECT_THAT(ErrorOf<ray::RayActorException>(counter.Task(&Counter::Get).Remote()),
              HasSubstr("exited"));
  EXPECT_FALSE(ray::WasCurrentActorRestarted());
}

TEST_F(ActorLocalModeTest, HandlesPassToAndFromTasks) {
  auto counter = ray::Actor(CreateCounter).Remote(0);
  EXPECT_EQ(*ray::Task(AddThroughHandle).Remote(counter, 3).Get(), 3);
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < 8; ++i) refs.push_back(ray::Task(AddThroughHandle).Remote(counter, 1));
  ray::Get(refs);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 11);  // no lost update across threads

  ray::ActorHandle<Counter> made = *ray::Task(MakeCounter).Remote(40).Get();
  EXPECT_EQ(*made.Task(&Counter::Add).Remote(2).Get(), 42);

  auto copy = ray::ActorHandle<Counter>::FromBytes(counter.ToBytes());
  EXPECT_EQ(copy, counter);
  EXPECT_THROW(ray::ActorHandle<Counter>::FromBytes("junk"), ray::RayException);
}

TEST_F(ActorLocalModeTest, UnregisteredFunctionsAndBadOptions) {
  auto counter = ray::Actor(CreateCounter).Remote(0);
  try {
    counter.Task(&Counter::Get);  // registered: fine
  } catch (...) {
    ADD_FAILURE();
  }
  EXPECT_THROW(ray::Actor(CreateCounter).SetMaxConcurrency(0).Remote(0), ray::RayException);
  EXPECT_THROW(ray::Actor(CreateCounter).SetResource("CPU", 1.5).Remote(0), ray::RayException);
  EXPECT_THROW(counter.Task(&Counter::Add).SetResource("", 1).Remote(1), ray::RayException);
}

TEST(ActorRandomNamespaceTest, NamespaceIsRandomWhenUnset) {
  ray::RayConfig config;
  config.local_mode = true;
  ray::Init(config);
  std::string first = ray::GetNamespace();
  ray::Shutdown();
  ray::Init(config);
  std::string second = ray::GetNamespace();
  ray::Shutdown();
  EXPECT_FALSE(first.empty());
  EXPECT_NE(first, second);
}

TEST(ActorDefaultRuntimeTest, RuntimesWithoutActorsThrow) {
  moray::api::InstallRuntime(std::make_unique<moray::api::FakeRayRuntime>());
  try {
    ray::Actor(CreateCounter).Remote(0);
    ADD_FAILURE() << "no exception";
  } catch (const ray::RayException& e) {
    EXPECT_STREQ(e.what(), "actors are not supported by this runtime yet");
  }
  EXPECT_THROW(ray::GetActor<Counter>("x"), ray::RayException);
  EXPECT_THROW(ray::GetNamespace(), ray::RayException);
  EXPECT_THROW(ray::ActorHandle<Counter>("id").Task(&Counter::Add).Remote(1), ray::RayException);
  moray::api::UninstallRuntime();
}

}  // namespace
