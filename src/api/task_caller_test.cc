#include "ray/api/task_caller.h"

#include <string>
#include <vector>

#include "api/fake_ray_runtime.h"
#include "api/runtime_slot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ray/api.h"

namespace moray::api {
namespace {

using ray::internal::Serializer;

int Plus(int a, int b) { return a + b; }
int Size(const std::vector<std::string>& items) { return static_cast<int>(items.size()); }
int Borrow(ray::ObjectRef<int> ref) { return ref.BinaryID().size(); }
void Log(std::string) {}
RAY_REMOTE(Plus, Size, Borrow, Log);

template <typename T>
T Decode(const std::string& bytes) {
  return Serializer::Deserialize<T>(bytes.data(), bytes.size());
}

class TaskCallerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = std::make_unique<FakeRayRuntime>();
    fake_ = fake.get();
    InstallRuntime(std::move(fake));
  }
  void TearDown() override { UninstallRuntime(); }

  std::string ResourceError(std::unordered_map<std::string, double> resources) {
    try {
      ray::Task(Plus).SetResources(resources).Remote(1, 2);
    } catch (const ray::internal::RayException& e) {
      return e.what();
    }
    return "no error";
  }

  FakeRayRuntime* fake_ = nullptr;
};

TEST_F(TaskCallerTest, SubmitsByRegisteredNameWithOptions) {
  ray::ObjectRef<int> ref = ray::Task(Plus)
                                .SetName("adder")
                                .SetResource("CPU", 2)
                                .SetResource("memory", 0.5)
                                .SetMaxRetries(-1)
                                .SetRetryExceptions(true)
                                .Remote(1, 2);
  ASSERT_EQ(fake_->tasks.size(), 1u);
  const auto& task = fake_->tasks[0];
  EXPECT_EQ(task.function_name, "Plus");
  EXPECT_EQ(task.options.name, "adder");
  EXPECT_EQ(task.options.resources.at("CPU"), 2);
  EXPECT_EQ(task.options.resources.at("memory"), 0.5);
  EXPECT_EQ(task.options.max_retries, -1);
  EXPECT_TRUE(task.options.retry_exceptions);
  EXPECT_EQ(ref.BinaryID(), "task1");
  EXPECT_EQ(fake_->references["task1"], 1);
}

TEST_F(TaskCallerTest, DefaultsAreThreeRetriesNoExceptionRetries) {
  ray::Task(Plus).Remote(1, 2);
  EXPECT_EQ(fake_->tasks[0].options.max_retries, 3);
  EXPECT_FALSE(fake_->tasks[0].options.retry_exceptions);
  EXPECT_TRUE(fake_->tasks[0].options.resources.empty());
}

TEST_F(TaskCallerTest, ValuesAreSerializedAsTheParameterType) {
  ray::Task(Plus).Remote(1, 2.5);  // 2.5 converts to the int parameter before serialization
  const auto& args = fake_->tasks[0].args;
  ASSERT_EQ(args.size(), 2u);
  EXPECT_FALSE(args[1].is_ref);
  EXPECT_EQ(args[1].value, Serializer::Serialize(2));
  ray::Task(Size).Remote(std::vector<std::string>{"a", "b"});
  EXPECT_EQ(Decode<std::vector<std::string>>(fake_->tasks[1].args[0].value),
            (std::vector<std::string>{"a", "b"}));
  ray::Task(Log).Remote("a C string");
  EXPECT_EQ(Decode<std::string>(fake_->tasks[2].args[0].value), "a C string");
}

TEST_F(TaskCallerTest, TopLevelRefsTravelByReference) {
  ray::ObjectRef<int> two = ray::Put(2);
  ray::Task(Plus).Remote(1, two);
  const auto& args = fake_->tasks[0].args;
  EXPECT_FALSE(args[0].is_ref);
  EXPECT_TRUE(args[1].is_ref);
  EXPECT_EQ(args[1].object_id, two.BinaryID());
  EXPECT_TRUE(fake_->borrowed.empty());
}

TEST_F(TaskCallerTest, RefParameterReceivesTheReferenceItself) {
  ray::ObjectRef<int> ref = ray::Put(7);
  ray::Task(Borrow).Remote(ref);
  const auto& arg = fake_->tasks[0].args[0];
  ASSERT_FALSE(arg.is_ref);
  auto back = Decode<ray::ObjectRef<int>>(arg.value);
  EXPECT_EQ(back.BinaryID(), ref.BinaryID());
  ASSERT_EQ(fake_->borrowed.size(), 1u);
  EXPECT_EQ(fake_->borrowed[0].second, "owner-of-" + ref.BinaryID());
}

TEST_F(TaskCallerTest, EmptyRefArgumentIsRejected) {
  ray::ObjectRef<int> empty;
  EXPECT_THROW(ray::Task(Plus).Remote(1, empty), ray::internal::RayException);
  EXPECT_TRUE(fake_->tasks.empty());
}

TEST_F(TaskCallerTest, ResourceValidation) {
  EXPECT_EQ(ResourceError({{"CPU", 1}, {"GPU", 2}, {"custom", 0.25}}), "no error");
  EXPECT_THAT(ResourceError({{"", 1}}), ::testing::HasSubstr("name must not be empty"));
  EXPECT_EQ(ResourceError({{"CPU", 0}}), "no error");  // takes no CPU
  EXPECT_EQ(ResourceError({{"CPU", -1}}), "Resource CPU must be a non-negative quantity, got -1");
  EXPECT_EQ(ResourceError({{"CPU", NAN}}), "Resource CPU must be a non-negative quantity, got nan");
  EXPECT_EQ(ResourceError({{"GPU", 1.5}}), "Resource GPU above 1 must be a whole number, got 1.5");
  EXPECT_EQ(fake_->tasks.size(), 2u);  // only the valid ones were submitted
}

TEST_F(TaskCallerTest, SetPlacementGroupReachesTheRuntime) {
  ray::PlacementGroup pg(std::string(32, 'a'),
                         {"pg", {{{"CPU", 1}}, {{"CPU", 4}}}, ray::PlacementStrategy::PACK},
                         ray::CREATED);
  ray::Task(Plus).SetPlacementGroup(pg, 1).SetResource("CPU", 3).Remote(1, 2);
  ray::Task(Plus).SetPlacementGroup(pg, -1, /*capture_child_tasks=*/true).Remote(1, 2);
  ray::Task(Plus).Remote(1, 2);
  ASSERT_EQ(fake_->tasks.size(), 3u);
  const auto& in_bundle = fake_->tasks[0].options.placement;
  EXPECT_EQ(in_bundle.group_id, pg.GetID());
  EXPECT_EQ(in_bundle.bundle_index, 1);
  EXPECT_FALSE(in_bundle.capture_child_tasks);
  const auto& capturing = fake_->tasks[1].options.placement;
  EXPECT_EQ(capturing.group_id, pg.GetID());
  EXPECT_EQ(capturing.bundle_index, -1);
  EXPECT_TRUE(capturing.capture_child_tasks);
  EXPECT_EQ(fake_->tasks[2].options.placement.group_id, "");
  // Resources are checked against the bundle only at Remote(): they may be set afterwards.
  EXPECT_THROW(ray::Task(Plus).SetPlacementGroup(pg, 0).SetResource("CPU", 2).Remote(1, 2),
               ray::internal::RayException);
  EXPECT_EQ(fake_->tasks.size(), 3u);
}

TEST_F(TaskCallerTest, PutGetAndWaitGoThroughTheRuntime) {
  auto ref = ray::Put(std::string("value"));
  EXPECT_EQ(*ray::Get(ref), "value");
  EXPECT_EQ(*ref.Get(100), "value");
  auto refs = std::vector<ray::ObjectRef<std::string>>{ref, ray::Put(std::string("second"))};
  auto values = ray::Get(refs);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(*values[1], "second");
  // A value of another type fails with a clear RayException.
  auto number = ray::Put(5);
  ray::ObjectRef<std::string> wrong(number.BinaryID());
  try {
    ray::Get(wrong);
    FAIL();
  } catch (const ray::internal::RayException& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("Failed to deserialize object " + number.ID()));
  }
  EXPECT_THROW(ray::Wait(refs, 3, -1), ray::internal::RayException);
  auto result = ray::Wait(refs, 2, 0);
  EXPECT_EQ(result.ready.size(), 2u);
  EXPECT_TRUE(result.unready.empty());
  // Both are ready, one is asked for: exactly one is marked ready, the first in input order.
  result = ray::Wait(refs, 1, 0);
  ASSERT_EQ(result.ready.size(), 1u);
  EXPECT_EQ(result.ready.front(), refs[0]);
  ASSERT_EQ(result.unready.size(), 1u);
  EXPECT_EQ(result.unready.front(), refs[1]);
}

}  // namespace
}  // namespace moray::api
