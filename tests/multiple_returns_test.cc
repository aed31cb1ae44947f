// Several returns per task (TaskSpec.num_returns) on a real embedded cluster: the core worker's
// own API, as the Python front end uses it (the public C++ API's tasks return one value). A C++
// function submitted with num_returns = n returns a tuple of n values; each is its own object,
// a large one sealed in the object store.
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "api/cluster_runtime.h"
#include "core_worker/core_worker.h"
#include "embedded_cluster.h"
#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

using moray::ObjectId;
using moray::proto::TaskSpec;

constexpr size_t kLarge = 200 * 1024;  // past the 100 KiB inline limit: the object store

std::tuple<int, std::string, std::string> ThreeValues(int x) {
  return {x, std::string(kLarge, 'z'), "three"};
}
std::tuple<int, int, int> ThreeFails(int) { throw std::runtime_error("no values today"); }
int TouchesFile(std::string path) {
  moray::testing::Touch(path);
  return 1;
}

class Triple {
 public:
  static Triple* Create() { return new Triple(); }
  std::tuple<int, std::string, int> Three(int x) { return {x, std::string(kLarge, 'a'), x + 2}; }
};

RAY_REMOTE(ThreeValues, ThreeFails, TouchesFile, Triple::Create, &Triple::Three);

moray::core::CoreWorker& Core() {
  moray::core::CoreWorker* worker = moray::api::CoreWorkerOf(ray::internal::GetRuntime());
  if (!worker) throw std::runtime_error("not a cluster runtime");
  return *worker;
}

template <typename F>
std::string NameOf(F f) {
  return ray::internal::FunctionManager::Instance().GetFunctionName(ray::internal::FunctionKey(f));
}

TaskSpec Spec(const std::string& function, int num_returns, const std::string& arg) {
  TaskSpec spec;
  spec.set_type(moray::proto::NORMAL_TASK);
  spec.set_function_name(function);
  spec.set_name(function);
  spec.set_num_returns(num_returns);
  spec.add_args()->set_value(arg);
  return spec;
}

bool InObjectStore(const ObjectId& id) {
  // The store client's Contains is a call on its socket (not const).
  auto* store = const_cast<moray::object_store::StoreClient*>(Core().plasma());
  return store && store->Contains(id);
}

using MultipleReturnsTest = moray::testing::EmbeddedClusterTest<2>;

TEST_F(MultipleReturnsTest, ATaskWithThreeReturnsGivesThreeValuesOneInTheObjectStore) {
  auto ids =
      Core().SubmitTask(Spec(NameOf(ThreeValues), 3, ray::internal::Serializer::Serialize(7)));
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 3u);
  ray::ObjectRef<int> first((*ids)[0].Binary());
  ray::ObjectRef<std::string> second((*ids)[1].Binary());
  ray::ObjectRef<std::string> third((*ids)[2].Binary());
  EXPECT_EQ(*ray::Get(first), 7);
  EXPECT_EQ(*ray::Get(second), std::string(kLarge, 'z'));
  EXPECT_EQ(*ray::Get(third), "three");
  EXPECT_TRUE(InObjectStore((*ids)[1]));
  EXPECT_FALSE(InObjectStore((*ids)[0]));
}

TEST_F(MultipleReturnsTest, AnErrorFillsEveryReturn) {
  auto ids =
      Core().SubmitTask(Spec(NameOf(ThreeFails), 3, ray::internal::Serializer::Serialize(1)));
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 3u);
  for (const ObjectId& id : *ids) {
    ray::ObjectRef<int> ref(id.Binary());
    try {
      ray::Get(ref);
      ADD_FAILURE() << "Get of a failed task's return did not throw";
    } catch (const ray::RayTaskException& e) {
      EXPECT_NE(std::string(e.what()).find("no values today"), std::string::npos) << e.what();
    }
  }
}

TEST_F(MultipleReturnsTest, ATaskWithoutReturnsRuns) {
  const std::string marker = moray::testing::PrivateTmpDir::path() + "/no-returns-ran";
  auto ids =
      Core().SubmitTask(Spec(NameOf(TouchesFile), 0, ray::internal::Serializer::Serialize(marker)));
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_TRUE(ids->empty());
  EXPECT_TRUE(moray::testing::AwaitFile(marker));
  // A negative count is refused at once.
  EXPECT_FALSE(Core().SubmitTask(Spec(NameOf(TouchesFile), -1, "")).ok());
}

TEST_F(MultipleReturnsTest, AnActorCallWithThreeReturns) {
  ray::ActorHandle<Triple> actor = ray::Actor(Triple::Create).Remote();
  TaskSpec spec = Spec(NameOf(&Triple::Three), 3, ray::internal::Serializer::Serialize(40));
  spec.set_actor_id(actor.BinaryID());
  auto ids = Core().SubmitActorTask(std::move(spec));
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 3u);
  ray::ObjectRef<int> first((*ids)[0].Binary());
  ray::ObjectRef<std::string> second((*ids)[1].Binary());
  ray::ObjectRef<int> third((*ids)[2].Binary());
  EXPECT_EQ(*ray::Get(first), 40);
  EXPECT_EQ(*ray::Get(second), std::string(kLarge, 'a'));
  EXPECT_EQ(*ray::Get(third), 42);
  EXPECT_TRUE(InObjectStore((*ids)[1]));
}

}  // namespace
