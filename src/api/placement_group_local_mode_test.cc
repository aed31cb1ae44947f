// Placement groups through the public API in local mode: the group table (create, read back,
// wait, remove) and every check at the call. Compiled as C++17, with missing-field-initializer
// warnings as errors, to keep Ray's 3-field aggregate initialisation of the options clean.
#include <cctype>
#include <cmath>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ray/api.h"

namespace {

using ::testing::HasSubstr;

int Plus(int a, int b) { return a + b; }

class Worker {
 public:
  int Twice(int x) { return 2 * x; }
};
Worker* MakeWorker() { return new Worker(); }

RAY_REMOTE(Plus, MakeWorker, &Worker::Twice);

using Bundles = std::vector<std::unordered_map<std::string, double>>;

// The message of the RayException `fn` throws ("no error" if none).
std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ray::RayException& e) {
    return e.what();
  }
  return "no error";
}

class PlacementGroupLocalModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ray::RayConfig config;
    config.local_mode = true;
    config.ray_namespace = "pg_ns";
    ray::Init(config);
  }
  void TearDown() override { ray::Shutdown(); }

  static ray::PlacementGroup TwoBundles(const std::string& name = "") {
    ray::PlacementGroupCreationOptions options{
        name, {{{"CPU", 1}}, {{"CPU", 2}, {"GPU", 1}}}, ray::PlacementStrategy::SPREAD};
    return ray::CreatePlacementGroup(options);
  }
};

TEST_F(PlacementGroupLocalModeTest, CreatedGroupsReadBackWithTheirBundles) {
  // Ray's aggregate form: name, bundles, strategy (the members beyond Ray take their defaults).
  ray::PlacementGroupCreationOptions options{
      "trainers", {{{"CPU", 1}}, {{"CPU", 2}, {"GPU", 1}}}, ray::PlacementStrategy::STRICT_PACK};
  EXPECT_FALSE(options.detached);
  EXPECT_EQ(options.ray_namespace, "");
  ray::PlacementGroup pg = ray::CreatePlacementGroup(options);
  EXPECT_FALSE(pg.Empty());
  EXPECT_EQ(pg.GetID().size(), 32u);
  EXPECT_EQ(pg.GetName(), "trainers");
  EXPECT_EQ(pg.GetStrategy(), ray::PlacementStrategy::STRICT_PACK);
  EXPECT_EQ(pg.GetBundles(), options.bundles);
  EXPECT_EQ(pg.GetState(), ray::CREATED);
  EXPECT_EQ(pg.GetNamespace(), "pg_ns");
  EXPECT_TRUE(pg.Wait(0));

  for (const ray::PlacementGroup& found :
       {ray::GetPlacementGroupById(pg.GetID()), ray::GetPlacementGroup("trainers"),
        ray::GetPlacementGroup("trainers", "pg_ns")}) {
    EXPECT_EQ(found.GetID(), pg.GetID());
    EXPECT_EQ(found.GetName(), "trainers");
    EXPECT_EQ(found.GetBundles(), options.bundles);
    EXPECT_EQ(found.GetStrategy(), ray::PlacementStrategy::STRICT_PACK);
    EXPECT_EQ(found.GetState(), ray::CREATED);
  }
  // Ids are accepted in either case.
  std::string upper = pg.GetID();
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(ray::GetPlacementGroupById(upper).GetID(), pg.GetID());
}

TEST_F(PlacementGroupLocalModeTest, LookupsOfMissingGroupsAreEmpty) {
  EXPECT_TRUE(ray::GetPlacementGroup("nobody").Empty());
  EXPECT_EQ(ray::GetPlacementGroup("nobody").GetID(), "");
  EXPECT_TRUE(ray::GetPlacementGroupById(std::string(32, 'a')).Empty());
  TwoBundles("elsewhere_named");
  EXPECT_TRUE(ray::GetPlacementGroup("elsewhere_named", "other_ns").Empty());
  EXPECT_TRUE(ray::GetAllPlacementGroups().size() == 1);
}

TEST_F(PlacementGroupLocalModeTest, AllGroupsInCreationOrder) {
  ray::PlacementGroup a = TwoBundles("a");
  ray::PlacementGroup b = TwoBundles();
  ray::PlacementGroup c = TwoBundles("c");
  std::vector<std::string> ids;
  for (const auto& pg : ray::GetAllPlacementGroups()) ids.push_back(pg.GetID());
  EXPECT_EQ(ids, (std::vector<std::string>{a.GetID(), b.GetID(), c.GetID()}));
}

TEST_F(PlacementGroupLocalModeTest, NamesAreUniquePerNamespaceUntilRemoved) {
  ray::PlacementGroup first = TwoBundles("unique");
  EXPECT_THAT(ErrorOf([] { TwoBundles("unique"); }),
              HasSubstr("the name 'unique' is already taken in namespace 'pg_ns'"));
  ray::PlacementGroupCreationOptions other{"unique", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK};
  other.ray_namespace = "other_ns";
  ray::PlacementGroup elsewhere = ray::CreatePlacementGroup(other);
  EXPECT_EQ(ray::GetPlacementGroup("unique", "other_ns").GetID(), elsewhere.GetID());
  ray::RemovePlacementGroup(first.GetID());
  ray::PlacementGroup second = TwoBundles("unique");  // the name is free again
  EXPECT_NE(second.GetID(), first.GetID());
  EXPECT_EQ(ray::GetPlacementGroup("unique").GetID(), second.GetID());
}

TEST_F(PlacementGroupLocalModeTest, RemovingTwiceIsHarmlessAndTheGroupStaysReadable) {
  ray::PlacementGroup pg = TwoBundles("gone");
  ray::RemovePlacementGroup(pg.GetID());
  ray::RemovePlacementGroup(pg.GetID());
  ray::RemovePlacementGroup(std::string(32, 'b'));  // never existed: harmless too
  ray::PlacementGroup removed = ray::GetPlacementGroupById(pg.GetID());
  EXPECT_EQ(removed.GetState(), ray::REMOVED);
  EXPECT_EQ(removed.GetName(), "gone");
  EXPECT_TRUE(ray::GetPlacementGroup("gone").Empty());
  EXPECT_FALSE(pg.Wait(1));  // removed: never CREATED
  EXPECT_EQ(pg.GetState(), ray::REMOVED);
}

TEST_F(PlacementGroupLocalModeTest, CreationOptionsAreChecked) {
  auto create = [](Bundles bundles,
                   ray::PlacementStrategy strategy = ray::PlacementStrategy::PACK) {
    return ErrorOf([&] { ray::CreatePlacementGroup({"", bundles, strategy}); });
  };
  EXPECT_THAT(create({}), HasSubstr("needs at least one bundle"));
  EXPECT_THAT(create({{{"CPU", 1}}, {}}), HasSubstr("bundle 1 is empty"));
  EXPECT_THAT(create({{{"CPU", 0}, {"GPU", 0}}}), HasSubstr("bundle 0 asks for nothing"));
  EXPECT_THAT(create({{{"CPU", -1}}}),
              HasSubstr("bundle 0: resource CPU must be a non-negative finite quantity, got -1"));
  EXPECT_THAT(create({{{"CPU", std::nan("")}}}), HasSubstr("resource CPU must be a non-negative"));
  EXPECT_THAT(create({{{"CPU", 1.0 / 0.0}}}), HasSubstr("resource CPU must be a non-negative"));
  EXPECT_THAT(create({{{"", 1}}}), HasSubstr("a resource name is empty"));
  EXPECT_THAT(create({{{"GPU", 1.5}}}), HasSubstr("bundle 0: "));
  EXPECT_THAT(create({{{"CPU", 1}}}, ray::PlacementStrategy::UNRECOGNIZED),
              HasSubstr("strategy -1 is not a placement strategy"));
  EXPECT_TRUE(ray::GetAllPlacementGroups().empty());
}

TEST_F(PlacementGroupLocalModeTest, IdsAndTimeoutsAreChecked) {
  EXPECT_THAT(ErrorOf([] { ray::RemovePlacementGroup("xyz"); }),
              HasSubstr("RemovePlacementGroup: 'xyz' is not a placement group id (32 hex digits"));
  EXPECT_THAT(ErrorOf([] { ray::GetPlacementGroupById(""); }),
              HasSubstr("is not a placement group id"));
  EXPECT_THAT(ErrorOf([] { ray::GetPlacementGroup(""); }), HasSubstr("name must not be empty"));
  ray::PlacementGroup pg = TwoBundles();
  EXPECT_THAT(ErrorOf([&] { pg.Wait(-1); }), HasSubstr("timeout_seconds must be 0 or more"));
  ray::PlacementGroup empty;
  EXPECT_TRUE(empty.Empty());
  EXPECT_THAT(ErrorOf([&] { empty.Wait(1); }), HasSubstr("the placement group is empty"));
}

TEST_F(PlacementGroupLocalModeTest, TasksAndActorsRunInAGroup) {
  ray::PlacementGroup pg = TwoBundles();
  EXPECT_EQ(*ray::Task(Plus).SetPlacementGroup(pg, 0).Remote(1, 2).Get(), 3);
  EXPECT_EQ(*ray::Task(Plus).SetPlacementGroup(pg, -1, true).Remote(2, 2).Get(), 4);
  EXPECT_EQ(*ray::Task(Plus).SetPlacementGroup(pg, 1).SetResource("GPU", 1).Remote(3, 2).Get(), 5);
  auto actor = ray::Actor(MakeWorker).SetPlacementGroup(pg, 1).Remote();
  EXPECT_EQ(*actor.Task(&Worker::Twice).Remote(21).Get(), 42);
}

TEST_F(PlacementGroupLocalModeTest, SetPlacementGroupChecksTheGroupAndIndex) {
  ray::PlacementGroup pg = TwoBundles("checked");
  EXPECT_THAT(ErrorOf([] { ray::Task(Plus).SetPlacementGroup(ray::PlacementGroup(), 0); }),
              HasSubstr("SetPlacementGroup: the placement group is empty"));
  EXPECT_THAT(ErrorOf([&] { ray::Task(Plus).SetPlacementGroup(pg, 2); }),
              HasSubstr("bundle index 2 is out of range for placement group " + pg.GetID() +
                        " ('checked') with 2 bundle(s): use 0 to 1, or -1 for any bundle"));
  EXPECT_THAT(ErrorOf([&] { ray::Actor(MakeWorker).SetPlacementGroup(pg, -2); }),
              HasSubstr("bundle index -2 is out of range"));
  ray::RemovePlacementGroup(pg.GetID());
  // Both the handle from before the removal and one read back after it are refused.
  EXPECT_THAT(ErrorOf([&] { ray::Task(Plus).SetPlacementGroup(pg, 0); }),
              HasSubstr("placement group " + pg.GetID() + " ('checked') was removed"));
  ray::PlacementGroup removed = ray::GetPlacementGroupById(pg.GetID());
  EXPECT_THAT(ErrorOf([&] { ray::Actor(MakeWorker).SetPlacementGroup(removed, 0); }),
              HasSubstr("was removed"));
}

TEST_F(PlacementGroupLocalModeTest, RemoteChecksTheResourcesFitTheBundle) {
  ray::PlacementGroup pg = TwoBundles();
  // Bundle 0 holds {CPU: 1}: a default task (1 CPU) fits, 2 CPUs or a GPU do not.
  EXPECT_THAT(
      ErrorOf([&] { ray::Task(Plus).SetPlacementGroup(pg, 0).SetResource("CPU", 2).Remote(1, 1); }),
      HasSubstr("task Plus asks {CPU: 2} but bundle 0 of placement group " + pg.GetID() +
                " holds {CPU: 1}"));
  EXPECT_THAT(
      ErrorOf([&] { ray::Task(Plus).SetPlacementGroup(pg, 0).SetResource("GPU", 1).Remote(1, 1); }),
      HasSubstr("task Plus asks {GPU: 1} but bundle 0"));
  // -1: some bundle must hold it (bundle 1 holds 2 CPUs, none holds 3).
  EXPECT_EQ(*ray::Task(Plus).SetPlacementGroup(pg, -1).SetResource("CPU", 2).Remote(1, 1).Get(), 2);
  EXPECT_THAT(ErrorOf([&] {
                ray::Task(Plus).SetPlacementGroup(pg, -1).SetResource("CPU", 3).Remote(1, 1);
              }),
              HasSubstr("no bundle of placement group " + pg.GetID() +
                        " holds that much ({CPU: 1}, {CPU: 2, GPU: 1})"));
  // Actors: their explicit resources, else the 1 CPU an actor needs to be scheduled.
  EXPECT_THAT(ErrorOf([&] {
                ray::Actor(MakeWorker).SetPlacementGroup(pg, 0).SetResource("GPU", 1).Remote();
              }),
              HasSubstr("Worker asks {GPU: 1} but bundle 0"));
  ray::PlacementGroup gpus =
      ray::CreatePlacementGroup({"", {{{"GPU", 1}}}, ray::PlacementStrategy::PACK});
  EXPECT_THAT(ErrorOf([&] { ray::Actor(MakeWorker).SetPlacementGroup(gpus, 0).Remote(); }),
              HasSubstr("Worker asks {CPU: 1} but bundle 0 of placement group " + gpus.GetID() +
                        " holds {GPU: 1}"));
  auto actor = ray::Actor(MakeWorker).SetPlacementGroup(gpus, 0).SetResource("CPU", 0).Remote();
  EXPECT_EQ(*actor.Task(&Worker::Twice).Remote(2).Get(), 4);
}

TEST_F(PlacementGroupLocalModeTest, APlacementGroupAndAStrategyDoNotCombine) {
  ray::PlacementGroup pg = TwoBundles();
  EXPECT_THAT(
      ErrorOf([&] {
        ray::Task(Plus)
            .SetPlacementGroup(pg, 0)
            .SetSchedulingStrategy(ray::SpreadSchedulingStrategy{})
            .Remote(1, 1);
      }),
      HasSubstr("SetPlacementGroup and SetSchedulingStrategy cannot be combined (task Plus)"));
}

TEST(PlacementGroupWithoutInitTest, FunctionsNeedInit) {
  EXPECT_THAT(ErrorOf([] { ray::GetAllPlacementGroups(); }), HasSubstr("not been initialized"));
}

}  // namespace
