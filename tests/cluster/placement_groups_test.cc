// Placement groups on real multi-node clusters (issue 12): each strategy checked node by node,
// an infeasible STRICT_SPREAD placed when a node joins, removal ending a group's actor and
// failing its later tasks, bundles of a killed node placed again, 100 groups racing for the same
// CPUs with no double booking, and a nested task captured into its parent's group.
#include <signal.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/cluster/local_cluster.h"
#include "tests/cluster/pattern.h"
#include "tests/test_env.h"

namespace {

using moray::testing::LocalCluster;
using moray::testing::NodeOf;
using moray::testing::WaitFor;

// Where a nested task with no options of its own runs, next to where its parent ran.
std::string ParentAndChild() { return NodeOf() + "/" + *ray::Task(NodeOf).Remote().Get(); }

std::string SlowNodeOf(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return NodeOf();
}

class Where {
 public:
  static Where* Create() { return new Where(); }
  std::string Node() { return NodeOf(); }
};
RAY_REMOTE(NodeOf, SlowNodeOf, ParentAndChild, Where::Create, &Where::Node);

using Bundles = std::vector<std::unordered_map<std::string, double>>;

Bundles Cpus(int n, double each = 1) { return Bundles(n, {{"CPU", each}}); }

// The node each bundle's task ran on.
std::vector<std::string> NodesOfBundles(const ray::PlacementGroup& pg) {
  std::vector<ray::ObjectRef<std::string>> refs;
  for (size_t i = 0; i < pg.GetBundles().size(); ++i) {
    refs.push_back(ray::Task(NodeOf).SetPlacementGroup(pg, static_cast<int>(i)).Remote());
  }
  std::vector<std::string> nodes;
  for (auto& ref : refs) nodes.push_back(*ref.Get(60000));
  return nodes;
}

size_t Distinct(const std::vector<std::string>& nodes) {
  return std::set<std::string>(nodes.begin(), nodes.end()).size();
}

int CountIn(ray::PlacementGroupState state) {
  int n = 0;
  for (const auto& pg : ray::GetAllPlacementGroups()) n += pg.GetState() == state ? 1 : 0;
  return n;
}

// Three nodes of 2 CPUs; "n3" alone has the resource "only_n3". This process is a driver.
class PlacementGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        cluster_.Start({{.num_cpus = 2, .node_name = "head"},
                        {.num_cpus = 2, .node_name = "n2"},
                        {.num_cpus = 2, .resources = R"({"only_n3": 1})", .node_name = "n3"}}))
        << cluster_.error();
    ray::RayConfig config;
    config.address = cluster_.address();
    ray::Init(config);
    for (const auto& node : ray::Nodes()) ids_[node.node_name] = node.node_id;
    // The head's raylet knows every node once a task only n3 can run got there.
    ASSERT_EQ(*ray::Task(NodeOf).SetResource("only_n3", 1).Remote().Get(30000), ids_["n3"]);
  }
  void TearDown() override {
    ray::Shutdown();
    cluster_.Stop();
  }
  ray::PlacementGroup Create(Bundles bundles, ray::PlacementStrategy strategy,
                             std::string name = "") {
    return ray::CreatePlacementGroup({std::move(name), std::move(bundles), strategy});
  }
  LocalCluster cluster_;
  std::map<std::string, std::string> ids_;  // node name -> id
};

TEST_F(PlacementGroupTest, EachStrategyPlacesItsBundlesAsItSays) {
  auto pack = Create(Cpus(2), ray::PlacementStrategy::PACK, "pack");
  auto strict_pack = Create(Cpus(2), ray::PlacementStrategy::STRICT_PACK);
  ASSERT_TRUE(pack.Wait(60));
  ASSERT_TRUE(strict_pack.Wait(60));
  EXPECT_EQ(Distinct(NodesOfBundles(pack)), 1u);
  EXPECT_EQ(Distinct(NodesOfBundles(strict_pack)), 1u);
  ray::RemovePlacementGroup(pack.GetID());
  ray::RemovePlacementGroup(strict_pack.GetID());
  // SPREAD is best effort: it spreads over the nodes with room, so wait until all is free (the
  // removals, and the lease of SetUp's task, which its worker keeps a moment for reuse).
  ASSERT_TRUE(
      WaitFor([] { return ray::AvailableResources()["CPU"] == 6; }, std::chrono::seconds(30)));

  auto spread = Create(Cpus(3), ray::PlacementStrategy::SPREAD);
  auto strict_spread = Create(Cpus(3), ray::PlacementStrategy::STRICT_SPREAD);
  ASSERT_TRUE(spread.Wait(60));
  ASSERT_TRUE(strict_spread.Wait(60));
  EXPECT_EQ(Distinct(NodesOfBundles(spread)), 3u);
  EXPECT_EQ(Distinct(NodesOfBundles(strict_spread)), 3u);
  // Read back from the GCS, with its bundles (unlike Ray) and by name.
  auto again = ray::GetPlacementGroupById(strict_spread.GetID());
  EXPECT_EQ(again.GetState(), ray::CREATED);
  EXPECT_EQ(again.GetBundles().size(), 3u);
  EXPECT_EQ(again.GetStrategy(), ray::PlacementStrategy::STRICT_SPREAD);
  EXPECT_TRUE(ray::GetPlacementGroup("pack").Empty()) << "a removed group's name is free";
  // Every CPU of the cluster is now reserved: plain work cannot use them.
  EXPECT_EQ(ray::AvailableResources()["CPU"], 0);
}

TEST_F(PlacementGroupTest, ABundleIsOnlyItsGroupsAndRefusesTooLargeAsks) {
  auto pg = Create({{{"CPU", 1}, {"only_n3", 0.5}}}, ray::PlacementStrategy::PACK);
  ASSERT_TRUE(pg.Wait(60));
  EXPECT_EQ(*ray::Task(NodeOf).SetPlacementGroup(pg, 0).Remote().Get(60000), ids_["n3"]);
  EXPECT_THROW(ray::Task(NodeOf).SetPlacementGroup(pg, 0).SetResource("CPU", 2).Remote(),
               ray::internal::RayException);
  EXPECT_THROW(ray::Task(NodeOf).SetPlacementGroup(pg, 1).Remote(), ray::internal::RayException);
  EXPECT_THROW(Create({}, ray::PlacementStrategy::PACK), ray::internal::RayException);
  Create(Cpus(1), ray::PlacementStrategy::PACK, "taken");
  EXPECT_THROW(Create(Cpus(1), ray::PlacementStrategy::PACK, "taken"), ray::internal::RayException);
}

TEST_F(PlacementGroupTest, RemovalEndsTheGroupsActorAndFailsItsLaterTasks) {
  auto pg = Create(Cpus(1), ray::PlacementStrategy::PACK);
  ASSERT_TRUE(pg.Wait(60));
  auto actor = ray::Actor(Where::Create).SetPlacementGroup(pg, 0).Remote();
  const std::string node = *actor.Task(&Where::Node).Remote().Get(60000);
  EXPECT_EQ(node, NodesOfBundles(pg)[0]);
  ray::RemovePlacementGroup(pg.GetID());
  ray::RemovePlacementGroup(pg.GetID());  // harmless
  EXPECT_EQ(ray::GetPlacementGroupById(pg.GetID()).GetState(), ray::REMOVED);
  std::string error;
  ASSERT_TRUE(WaitFor(
      [&] {
        try {
          actor.Task(&Where::Node).Remote().Get(10000);
          return false;
        } catch (const ray::internal::RayActorException& e) {
          error = e.what();
          return true;
        }
      },
      std::chrono::seconds(60)));
  EXPECT_NE(error.find("placement group " + pg.GetID() + " was removed"), std::string::npos)
      << error;
  // The reservation is back.
  EXPECT_TRUE(
      WaitFor([] { return ray::AvailableResources()["CPU"] == 6; }, std::chrono::seconds(30)));
}

TEST_F(PlacementGroupTest, RemovalFailsTheGroupsRunningAndQueuedTasksNamingIt) {
  auto pg = Create(Cpus(1), ray::PlacementStrategy::PACK);
  ASSERT_TRUE(pg.Wait(60));
  auto running = ray::Task(SlowNodeOf).SetPlacementGroup(pg, 0).Remote(30000);
  auto queued = ray::Task(SlowNodeOf).SetPlacementGroup(pg, 0).Remote(30000);  // no room yet
  ASSERT_TRUE(WaitFor([] { return ray::AvailableResources()["CPU"] == 5; },
                      std::chrono::seconds(30)));  // the bundle's CPU is reserved
  ray::RemovePlacementGroup(pg.GetID());
  for (auto* ref : {&running, &queued}) {
    try {
      ref->Get(60000);
      ADD_FAILURE() << "a task of the removed group finished";
    } catch (const ray::internal::RayException& e) {
      EXPECT_NE(std::string(e.what()).find("placement group " + pg.GetID() + " was removed"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST_F(PlacementGroupTest, HundredGroupsRaceForTheSameCpusWithoutDoubleBooking) {
  std::vector<ray::PlacementGroup> groups;
  for (int i = 0; i < 100; ++i) groups.push_back(Create(Cpus(1, 2), ray::PlacementStrategy::PACK));
  // Three nodes of 2 CPUs hold three such groups at a time; remove each created one until all
  // have been created once, checking that never more than three are CREATED together.
  std::set<std::string> created_once;
  int max_created = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        int created = 0;
        for (const auto& pg : ray::GetAllPlacementGroups()) {
          if (pg.GetState() != ray::CREATED) continue;
          ++created;
          created_once.insert(pg.GetID());
        }
        max_created = std::max(max_created, created);
        for (const auto& id : created_once) ray::RemovePlacementGroup(id);
        return created_once.size() == 100;
      },
      std::chrono::seconds(240)));
  EXPECT_LE(max_created, 3);
  EXPECT_EQ(CountIn(ray::REMOVED), 100);
  EXPECT_TRUE(
      WaitFor([] { return ray::AvailableResources()["CPU"] == 6; }, std::chrono::seconds(30)));
}

TEST_F(PlacementGroupTest, ANestedTaskLandsInItsParentsGroupWhenCaptured) {
  // One bundle of 1 CPU on n3: the parent holds it, lends it while it waits for its child, and
  // the child (submitted with no options) runs in the same bundle, not on the idle head.
  auto pg = Create({{{"CPU", 1}, {"only_n3", 0.5}}}, ray::PlacementStrategy::PACK);
  ASSERT_TRUE(pg.Wait(60));
  auto captured = ray::Task(ParentAndChild).SetPlacementGroup(pg, 0, true).Remote();
  EXPECT_EQ(*captured.Get(60000), ids_["n3"] + "/" + ids_["n3"]);
}

// Own clusters: nodes join or die.
TEST(PlacementGroupClusterTest, AnInfeasibleStrictSpreadIsCreatedWhenANodeJoins) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start({{.num_cpus = 1, .node_name = "head"}, {.num_cpus = 1}}))
      << cluster.error();
  ray::RayConfig config;
  config.address = cluster.address();
  ray::Init(config);
  auto pg = ray::CreatePlacementGroup({"", Cpus(3), ray::PlacementStrategy::STRICT_SPREAD});
  EXPECT_FALSE(pg.Wait(1));
  EXPECT_EQ(pg.GetState(), ray::PENDING);
  ASSERT_TRUE(cluster.AddNode({.num_cpus = 1, .node_name = "late"})) << cluster.error();
  EXPECT_TRUE(pg.Wait(60));
  EXPECT_EQ(Distinct(NodesOfBundles(pg)), 3u);
  ray::Shutdown();
  cluster.Stop();
}

TEST(PlacementGroupClusterTest, BundlesOfAKilledNodeArePlacedAgain) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start({{.num_cpus = 1, .node_name = "head"},
                             {.num_cpus = 1, .node_name = "n2"},
                             {.num_cpus = 1, .node_name = "n3"}}))
      << cluster.error();
  ray::RayConfig config;
  config.address = cluster.address();
  ray::Init(config);
  std::map<std::string, std::string> names;  // id -> name
  for (const auto& node : ray::Nodes()) names[node.node_id] = node.node_name;
  auto pg = ray::CreatePlacementGroup({"", Cpus(2), ray::PlacementStrategy::STRICT_SPREAD});
  ASSERT_TRUE(pg.Wait(60));
  std::vector<std::string> before = NodesOfBundles(pg);
  // Kill the raylet of a bundle's node that is not the head (the driver lives there).
  size_t victim = names[before[0]] == "head" ? 1 : 0;
  const std::string dead = before[victim];
  // An actor in the doomed bundle restarts in the bundle's new place (max_restarts 1).
  auto actor = ray::Actor(Where::Create)
                   .SetPlacementGroup(pg, static_cast<int>(victim))
                   .SetMaxRestarts(1)
                   .Remote();
  ASSERT_EQ(*actor.Task(&Where::Node).Remote().Get(60000), dead);
  ASSERT_EQ(kill(cluster.raylet_pid(names[dead] == "n2" ? 1 : 2), SIGKILL), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto now = ray::GetPlacementGroupById(pg.GetID());
        return now.GetState() == ray::CREATED && NodesOfBundles(pg)[victim] != dead;
      },
      std::chrono::seconds(90)));
  std::vector<std::string> after = NodesOfBundles(pg);
  EXPECT_EQ(Distinct(after), 2u);
  EXPECT_EQ(after[1 - victim], before[1 - victim]) << "the surviving bundle stays";
  std::string restarted_on;
  ASSERT_TRUE(WaitFor(
      [&] {
        try {
          restarted_on = *actor.Task(&Where::Node).Remote().Get(10000);
          return true;
        } catch (const ray::internal::RayException&) {
          return false;  // calls that raced the crash
        }
      },
      std::chrono::seconds(60)));
  EXPECT_EQ(restarted_on, after[victim]);
  ray::Shutdown();
  cluster.Stop();
}

}  // namespace
