// Several raylets under one GCS on this machine (issue 5, part 1): nodes join with their own
// names, labels and resources; the CLI sees them; wrong addresses fail clearly; `moray stop`
// ends everything.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/cluster/local_cluster.h"
#include "tests/cluster/pattern.h"
#include "tests/test_env.h"

namespace {

using moray::testing::FirstMismatch;
using moray::testing::LocalCluster;
using moray::testing::MakePattern;
using moray::testing::NodeOf;
using moray::testing::NodeSpec;
using moray::testing::RunMoray;
using moray::testing::WaitFor;

int Twice(int x) { return 2 * x; }
std::string SlowNodeOf(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return NodeOf();
}
// Records that task `i` started (a file "<i>@<node>@<pid>" in `dir`), then returns the node it
// ran on once "<dir>/go" exists ("" if it never does, after two minutes).
std::string HeldNodeOf(std::string dir, int i) {
  moray::testing::Touch(dir + "/" + std::to_string(i) + "@" + NodeOf() + "@" +
                        std::to_string(getpid()));
  return moray::testing::AwaitFile(dir + "/go", std::chrono::minutes(2)) ? NodeOf() : "";
}
struct Start {
  int task;
  std::string node;
  pid_t pid;
};
// The starts HeldNodeOf recorded in `dir`.
std::vector<Start> StartsIn(const std::string& dir) {
  std::vector<Start> starts;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::smatch m;
    std::string name = entry.path().filename().string();
    if (!std::regex_match(name, m, std::regex("(\\d+)@([0-9a-f]*)@(\\d+)"))) continue;
    starts.push_back({std::stoi(m[1]), m[2], static_cast<pid_t>(std::stoi(m[3]))});
  }
  return starts;
}
// Runs where it is placed: checks the object it was given, and says where it ran.
std::string CheckOn(std::vector<uint8_t> bytes) {
  return NodeOf() + ":" + std::to_string(bytes.size()) + ":" + std::to_string(FirstMismatch(bytes));
}

// A put made on the node this runs on (owned by this worker), handed back inside a value.
std::vector<ray::ObjectRef<std::vector<uint8_t>>> PutHere(int64_t size) {
  return {ray::Put(MakePattern(size))};
}
// Reads an object it borrows (a ref inside its argument is not resolved for it) and checks it.
std::string CheckBorrowed(std::vector<ray::ObjectRef<std::vector<uint8_t>>> refs) {
  return CheckOn(*refs.at(0).Get());
}
// Where a task with two arguments ran.
std::string NodeOfBoth(std::vector<uint8_t> a, std::vector<uint8_t> b) { return NodeOf(); }

class Where {
 public:
  static Where* Create() { return new Where(); }
  std::string Node() { return NodeOf(); }
  bool Restarted() { return ray::WasCurrentActorRestarted(); }
};
RAY_REMOTE(Twice, NodeOf, SlowNodeOf, HeldNodeOf, Where::Create, &Where::Node, &Where::Restarted, MakePattern,
           CheckOn, PutHere, NodeOfBoth, CheckBorrowed);

// A three-node cluster (1 CPU each; "n3" alone has the custom resource) with this process as a
// driver on the head.
class SchedulingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start({{.num_cpus = 1, .labels = R"({"zone": "a"})", .node_name = "head"},
                                {.num_cpus = 1, .labels = R"({"zone": "b"})", .node_name = "n2"},
                                {.num_cpus = 1,
                                 .resources = R"({"only_n3": 1})",
                                 .labels = R"({"zone": "c", "disk": "ssd"})",
                                 .node_name = "n3"}}))
        << cluster_.error();
    ray::RayConfig config;
    config.address = cluster_.address();
    ray::Init(config);
    for (const auto& node : ray::Nodes()) ids_[node.node_name] = node.node_id;
    // The head's raylet learns the other nodes from its reports' replies (at least once a
    // second); a task only n3 can run waits at the head until it does, then goes there. n3
    // joined last, so the head then knows every node.
    ASSERT_EQ(*ray::Task(NodeOf).SetResource("only_n3", 1).Remote().Get(30000), ids_["n3"]);
  }
  void TearDown() override {
    ray::Shutdown();
    cluster_.Stop();
  }
  LocalCluster cluster_;
  std::map<std::string, std::string> ids_;  // node name -> id
};

TEST_F(SchedulingTest, NodesAndClusterResources) {
  auto nodes = ray::Nodes();
  ASSERT_EQ(nodes.size(), 3u);
  int heads = 0;
  for (const auto& node : nodes) {
    EXPECT_TRUE(node.alive);
    heads += node.is_head ? 1 : 0;
  }
  EXPECT_EQ(heads, 1);
  auto total = ray::ClusterResources();
  EXPECT_EQ(total["CPU"], 3);
  EXPECT_EQ(total["only_n3"], 1);
}

TEST_F(SchedulingTest, SpreadTasksLandOnEveryNode) {
  std::vector<ray::ObjectRef<std::string>> refs;
  for (int i = 0; i < 100; ++i) {
    refs.push_back(ray::Task(NodeOf).SetSchedulingStrategy(ray::SpreadSchedulingStrategy{}).Remote());
  }
  std::map<std::string, int> per_node;
  for (auto& node : ray::Get(refs, 60000)) ++per_node[*node];
  EXPECT_EQ(per_node.size(), 3u);
  for (const auto& [name, id] : ids_) EXPECT_GT(per_node[id], 0) << name << " ran nothing";
}

TEST_F(SchedulingTest, ATaskNeedingAResourceOnlyOneNodeHasRunsThere) {
  auto node = ray::Task(NodeOf).SetResource("only_n3", 1).Remote();
  EXPECT_EQ(*node.Get(30000), ids_["n3"]);
}

TEST_F(SchedulingTest, BusyNodeSpillsToOthers) {
  std::vector<ray::ObjectRef<std::string>> refs;
  for (int i = 0; i < 6; ++i) refs.push_back(ray::Task(SlowNodeOf).Remote(1000));
  std::set<std::string> nodes;
  for (auto& node : ray::Get(refs, 60000)) nodes.insert(*node);
  EXPECT_GE(nodes.size(), 2u) << "six 1-second tasks on three 1-CPU nodes all ran on one node";
}

TEST_F(SchedulingTest, KillingANodeMidwayLosesNoResults) {
  // Results n2 returned before it dies stay with their owner.
  std::vector<ray::ObjectRef<std::string>> early;
  for (int i = 0; i < 300; ++i) {
    early.push_back(ray::Task(NodeOf).SetSchedulingStrategy(ray::SpreadSchedulingStrategy{}).Remote());
  }
  std::map<std::string, int> early_per_node;
  for (auto& node : ray::Get(early, 60000)) ++early_per_node[*node];
  ASSERT_GT(early_per_node[ids_["n2"]], 0) << "n2 ran none of the first tasks";

  // Tasks held at a gate, sent to n2 (a soft affinity: elsewhere once n2 is gone): one runs
  // there and the others wait for its CPU when its raylet (and so its workers) dies. (With SPREAD,
  // under load all the held tasks could be placed on the head and n3 before n2's view shows it
  // free; the affinity makes n2 certain to run one.)
  const std::string dir = moray::testing::PrivateTmpDir::path() + "/midway";
  std::filesystem::create_directories(dir);
  std::vector<ray::ObjectRef<std::string>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(ray::Task(HeldNodeOf)
                       .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n2"], true})
                       .SetMaxRetries(-1)
                       .Remote(dir, i));
  }
  std::vector<Start> on_n2;
  ASSERT_TRUE(WaitFor([&] {
    on_n2.clear();
    for (const auto& start : StartsIn(dir)) {
      if (start.node == ids_["n2"]) on_n2.push_back(start);
    }
    return !on_n2.empty();
  }, std::chrono::seconds(60))) << "no held task started on n2 (" << ids_["n2"] << "); starts:\n"
                                  << moray::testing::RunShell("ls " + dir).out
                                  << RunMoray({"status", "-v", "--address", cluster_.address()}).out;
  ASSERT_EQ(kill(cluster_.raylet_pid(1), SIGKILL), 0);
  // None of n2's workers may still answer when the gate opens.
  for (const auto& start : on_n2) {
    ASSERT_TRUE(WaitFor([&] { return !moray::testing::ProcessAlive(start.pid); }))
        << "worker " << start.pid << " outlived its raylet";
  }
  on_n2.clear();  // every start on n2 so far: all are lost
  for (const auto& start : StartsIn(dir)) {
    if (start.node == ids_["n2"]) on_n2.push_back(start);
  }
  moray::testing::Touch(dir + "/go");

  auto results = ray::Get(held, 120000);
  ASSERT_EQ(results.size(), held.size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_TRUE(*results[i] == ids_["head"] || *results[i] == ids_["n3"])
        << "task " << i << " answered from '" << *results[i] << "'";
  }
  // Each task lost on n2 started again on another node, and its result is that attempt's.
  auto starts = StartsIn(dir);
  for (const auto& lost : on_n2) {
    EXPECT_TRUE(std::any_of(starts.begin(), starts.end(), [&](const Start& s) {
      return s.task == lost.task && s.node == *results[lost.task];
    })) << "task " << lost.task << " was not run again where its result says";
  }
  // The state API shows the retries: an attempt past the first finished for each lost task.
  nlohmann::json retried;
  EXPECT_TRUE(WaitFor([&] {
    retried = moray::testing::RunMorayJson({"list", "tasks", "--address", cluster_.address(),
                                            "--filter", "func_or_class_name=HeldNodeOf",
                                            "--filter", "state=FINISHED", "--limit", "1000"});
    size_t n = 0;
    for (const auto& task : retried) n += task["attempt_number"].get<int>() > 0 ? 1 : 0;
    return n >= on_n2.size();
  })) << retried.dump(2);
  // What n2 returned before it died is still there.
  std::map<std::string, int> again;
  for (auto& node : ray::Get(early, 60000)) ++again[*node];
  EXPECT_EQ(again, early_per_node);
}

TEST_F(SchedulingTest, AnActorOnAKilledNodeRestartsOnAnother) {
  auto actor = ray::Actor(Where::Create)
                   .SetMaxRestarts(1)
                   .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n2"], true})
                   .Remote();
  ASSERT_EQ(*actor.Task(&Where::Node).Remote().Get(30000), ids_["n2"]);
  ASSERT_EQ(kill(cluster_.raylet_pid(1), SIGKILL), 0);
  std::string node;
  ASSERT_TRUE(WaitFor(
      [&] {
        try {
          node = *actor.Task(&Where::Node).Remote().Get(5000);
          return node != ids_["n2"];
        } catch (const ray::internal::RayException&) {
          return false;  // calls that raced the crash
        }
      },
      std::chrono::seconds(60)));
  EXPECT_TRUE(node == ids_["head"] || node == ids_["n3"]) << node;
  EXPECT_TRUE(*actor.Task(&Where::Restarted).Remote().Get(10000));
}

TEST_F(SchedulingTest, ObjectsMoveBetweenNodesOnDemand) {
  const int64_t size = 48ll << 20;  // in the store (> 100 KiB), several 8 MiB chunks
  auto made = ray::Task(MakePattern)
                  .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n2"]})
                  .Remote(size);
  // Read by a task on n3 (pulled n2 -> n3) and by the driver on the head (n2 -> head).
  auto checked = ray::Task(CheckOn)
                     .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n3"]})
                     .Remote(made);
  EXPECT_EQ(*checked.Get(60000), ids_["n3"] + ":" + std::to_string(size) + ":-1");
  auto bytes = made.Get(60000);
  ASSERT_EQ(static_cast<int64_t>(bytes->size()), size);
  EXPECT_EQ(FirstMismatch(*bytes), -1);
}

TEST_F(SchedulingTest, ObjectsLostWithANodeAreRebuiltFromLineageButPutsAreNot) {
  const int64_t size = 8ll << 20;
  auto made = ray::Task(MakePattern)
                  .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n2"], true})
                  .Remote(size);
  auto put_holder = ray::Task(PutHere)
                        .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n2"]})
                        .Remote(size);
  auto put = (*put_holder.Get(30000))[0];
  ASSERT_EQ(ray::Wait(std::vector<ray::ObjectRef<std::vector<uint8_t>>>{made}, 1, 30000).ready.size(),
            1u);  // sealed on n2
  ASSERT_EQ(kill(cluster_.raylet_pid(1), SIGKILL), 0);
  // Its only copy died with n2: the task runs again elsewhere and the value comes back intact.
  auto bytes = made.Get(60000);
  ASSERT_EQ(static_cast<int64_t>(bytes->size()), size);
  EXPECT_EQ(FirstMismatch(*bytes), -1);
  // The put's owner (a worker on n2) and its only copy are gone: nothing can rebuild it.
  EXPECT_THROW(put.Get(30000), ray::internal::UnreconstructableException);
}

TEST_F(SchedulingTest, ABorrowerReadsAnObjectLostWithANodeAfterItsOwnerRebuildsIt) {
  const int64_t size = 8ll << 20;
  auto made = ray::Task(MakePattern)
                  .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n2"], true})
                  .Remote(size);
  ASSERT_EQ(ray::Wait(std::vector<ray::ObjectRef<std::vector<uint8_t>>>{made}, 1, 30000).ready.size(),
            1u);  // sealed on n2
  ASSERT_EQ(kill(cluster_.raylet_pid(1), SIGKILL), 0);
  // A task on n3 is told the object is on n2, cannot pull it from there, and asks the owner
  // (this driver), which runs the task again and hands out the new copy.
  auto checked = ray::Task(CheckBorrowed)
                     .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n3"]})
                     .Remote(std::vector<ray::ObjectRef<std::vector<uint8_t>>>{made});
  EXPECT_EQ(*checked.Get(60000), ids_["n3"] + ":" + std::to_string(size) + ":-1");
}

// The object store usage of node `name` in `moray status -v` ("8.00MiB/256.00MiB"), or "".
std::string StoreUsageOf(const std::string& address, const std::string& name) {
  auto status = RunMoray({"status", "-v", "--address", address}).out;
  std::smatch m;
  std::regex usage("\\(" + name + ", [^)]*\\)\n Usage:\n(?:  .*\n)*?  (\\S+) object_store_memory");
  return std::regex_search(status, m, usage) ? m[1].str() : "";
}

TEST_F(SchedulingTest, FreeingAnObjectFreesItsCopyOnTheNodeThatMadeIt) {
  {
    auto made = ray::Task(MakePattern)
                    .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n3"]})
                    .Remote(int64_t{8} << 20);
    EXPECT_EQ(made.Get(30000)->size(), 8u << 20);  // pulled here too: a copy on each node
    EXPECT_TRUE(WaitFor([&] {
      return StoreUsageOf(cluster_.address(), "n3").rfind("8.00MiB/", 0) == 0;
    })) << StoreUsageOf(cluster_.address(), "n3");
    EXPECT_TRUE(WaitFor([&] {
      return StoreUsageOf(cluster_.address(), "head").rfind("8.00MiB/", 0) == 0;
    })) << StoreUsageOf(cluster_.address(), "head");
  }  // the last reference goes: the owner frees the object
  EXPECT_TRUE(WaitFor([&] { return StoreUsageOf(cluster_.address(), "n3").rfind("0B/", 0) == 0; }))
      << StoreUsageOf(cluster_.address(), "n3");
  EXPECT_TRUE(WaitFor([&] {
    return StoreUsageOf(cluster_.address(), "head").rfind("0B/", 0) == 0;
  })) << StoreUsageOf(cluster_.address(), "head");
}

// Three nodes of 4 CPUs each: a node that ran a task keeps that worker leased a moment for
// reuse (200 ms), which on a 1-CPU node makes it busy; with 4 CPUs a leftover lease leaves the
// data's node under half busy, so where a task runs depends on its arguments alone.
class LocalityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start({{.num_cpus = 4, .node_name = "head"},
                                {.num_cpus = 4, .node_name = "n2"},
                                {.num_cpus = 4, .node_name = "n3"}}))
        << cluster_.error();
    ray::RayConfig config;
    config.address = cluster_.address();
    ray::Init(config);
    for (const auto& node : ray::Nodes()) ids_[node.node_name] = node.node_id;
    // The head's raylet knows every node once it has placed a task on each (a hard affinity
    // waits for the next view); no CPU, so no lease is left behind.
    for (const char* name : {"n2", "n3"}) {
      ASSERT_EQ(*ray::Task(NodeOf)
                     .SetResource("CPU", 0)
                     .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_[name], false})
                     .Remote()
                     .Get(30000),
                ids_[name]);
    }
  }
  void TearDown() override {
    ray::Shutdown();
    cluster_.Stop();
  }
  LocalCluster cluster_;
  std::map<std::string, std::string> ids_;  // node name -> id
};

TEST_F(LocalityTest, ATaskRunsWhereItsLargestArgumentIs) {
  // The driver's node is idle, so without locality each task would stay here. The data is made
  // by tasks that take no CPU.
  const int64_t size = 8 << 20;
  auto on = [&](const char* name, int64_t bytes) {
    return ray::Task(MakePattern)
        .SetResource("CPU", 0)
        .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_[name]})
        .Remote(bytes);
  };
  for (const char* name : {"n3", "n2"}) {
    auto data = on(name, size);
    auto ran = ray::Task(CheckOn).Remote(data);
    EXPECT_EQ(*ran.Get(30000), ids_[name] + ":" + std::to_string(size) + ":-1") << name;
    EXPECT_EQ(*ray::Task(NodeOf).Remote().Get(30000), ids_["head"]) << "no arguments: stays local";
  }
  // Two arguments on two nodes: the one with more bytes wins.
  auto big = on("n2", size), smaller = on("n3", size / 4);
  EXPECT_EQ(*ray::Task(NodeOfBoth).Remote(smaller, big).Get(30000), ids_["n2"]) << ids_["n3"];
}

TEST_F(SchedulingTest, NodeAffinityHardAndSoft) {
  auto on_n2 = ray::Task(NodeOf)
                   .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{ids_["n2"]})
                   .Remote();
  EXPECT_EQ(*on_n2.Get(30000), ids_["n2"]);
  const std::string gone(32, 'a');  // no such node
  auto hard = ray::Task(NodeOf)
                  .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{gone, false})
                  .Remote();
  try {
    hard.Get(30000);
    ADD_FAILURE() << "a hard affinity to a node that is not alive ran";
  } catch (const ray::internal::RayException& e) {
    EXPECT_NE(std::string(e.what()).find("not alive"), std::string::npos) << e.what();
  }
  auto soft = ray::Task(NodeOf)
                  .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{gone, true})
                  .Remote();
  EXPECT_FALSE(soft.Get(30000)->empty());
  EXPECT_THROW(ray::Task(NodeOf)
                   .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{"zz", false})
                   .Remote(),
               ray::internal::RayException);
}

TEST_F(SchedulingTest, LabelSelectorsNarrowTheNodes) {
  auto on = [](std::unordered_map<std::string, std::string> hard) {
    return ray::Task(NodeOf)
        .SetSchedulingStrategy(ray::NodeLabelSchedulingStrategy{std::move(hard)})
        .Remote();
  };
  EXPECT_EQ(*on({{"zone", "b"}}).Get(30000), ids_["n2"]);
  EXPECT_EQ(*on({{"zone", "!in(a,b)"}}).Get(30000), ids_["n3"]);
  EXPECT_EQ(*on({{"disk", "ssd"}, {"zone", "!a"}}).Get(30000), ids_["n3"]);
  auto actor = ray::Actor(Where::Create)
                   .SetSchedulingStrategy(ray::NodeLabelSchedulingStrategy{{{"zone", "b"}}})
                   .Remote();
  EXPECT_EQ(*actor.Task(&Where::Node).Remote().Get(30000), ids_["n2"]);
  try {
    on({{"zone", "z"}}).Get(30000);
    ADD_FAILURE() << "a task no node matches ran";
  } catch (const ray::internal::RayException& e) {
    EXPECT_NE(std::string(e.what()).find("no alive node has labels matching {zone: z}"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(on({{"zone", "in(a,"}}), ray::internal::RayException);
}

int CountMatches(const std::string& text, const std::string& pattern) {
  std::regex re(pattern);
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re),
                                        std::sregex_iterator()));
}

TEST(ClusterTest, NodesJoinAndTheCliSeesThemAll) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start({{.num_cpus = 1, .node_name = "head"},
                             {.num_cpus = 2, .labels = R"({"zone": "b"})", .node_name = "n2"},
                             {.num_cpus = 1, .resources = R"({"node3_only": 1})",
                              .labels = R"({"zone": "c"})", .node_name = "n3"}}))
      << cluster.error();
  auto nodes = RunMoray({"list", "nodes", "--address", cluster.address()}).out;
  EXPECT_EQ(CountMatches(nodes, "ALIVE"), 3) << nodes;
  EXPECT_NE(nodes.find("n2"), std::string::npos) << nodes;
  EXPECT_NE(nodes.find("zone: c"), std::string::npos) << nodes;
  EXPECT_NE(nodes.find("node3_only: 1.0"), std::string::npos) << nodes;
  EXPECT_EQ(CountMatches(nodes, "True"), 1) << "exactly one head node\n" << nodes;

  EXPECT_TRUE(WaitFor([&] {
    auto status = RunMoray({"status", "--address", cluster.address()}).out;
    return status.find(" 0.0/4.0 CPU") != std::string::npos &&
           status.find(" 0.0/1.0 node3_only") != std::string::npos;
  })) << RunMoray({"status", "--address", cluster.address()}).out;
  auto verbose = RunMoray({"status", "-v", "--address", cluster.address()}).out;
  EXPECT_EQ(CountMatches(verbose, "\nNode: [0-9a-f]{32} "), 3) << verbose;
  EXPECT_NE(verbose.find("(n3, 127.0.0.1)"), std::string::npos) << verbose;

  // A driver joins by address and runs work.
  ray::RayConfig config;
  config.address = cluster.address();
  ray::Init(config);
  EXPECT_EQ(*ray::Task(Twice).Remote(21).Get(), 42);
  ray::Shutdown();

  cluster.Stop();
  EXPECT_TRUE(WaitFor([] { return moray::testing::ProcessesOfThisTest().empty(); }));
}

TEST(ClusterTest, JoiningAWrongAddressFailsClearlyAndLeavesNothing) {
  auto r = RunMoray({"start", "--address=127.0.0.1:1", "--num-cpus=1",
                     "--object-store-memory=67108864"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("could not join the cluster at 127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("connection refused"), std::string::npos) << r.err;
  auto both = RunMoray({"start", "--head", "--address=127.0.0.1:1"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("either --head"), std::string::npos) << both.err;
  auto labels = RunMoray({"start", "--address=127.0.0.1:1", "--labels=zone"});
  EXPECT_EQ(labels.exit_code, 2);
  EXPECT_NE(labels.err.find("--labels must be a JSON object of strings"), std::string::npos)
      << labels.err;
  EXPECT_TRUE(WaitFor([] { return moray::testing::ProcessesOfThisTest().empty(); }));
}

TEST(ClusterTest, ANodeAddedLaterJoinsTheRunningCluster) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start({{.num_cpus = 1}})) << cluster.error();
  ASSERT_TRUE(cluster.AddNode({.num_cpus = 3, .node_name = "late"})) << cluster.error();
  auto nodes = RunMoray({"list", "nodes", "--address", cluster.address(), "--filter",
                         "node_name=late"}).out;
  EXPECT_EQ(CountMatches(nodes, "ALIVE"), 1) << nodes;
}

// Waits until `moray list nodes` shows the node named `name` DEAD; `nodes` gets the last listing.
bool WaitForDeadNode(const LocalCluster& cluster, const std::string& name,
                     std::chrono::seconds timeout, std::string* nodes) {
  return WaitFor(
      [&] {
        *nodes = RunMoray({"list", "nodes", "--address", cluster.address(), "--filter",
                           "node_name=" + name}).out;
        return nodes->find("DEAD") != std::string::npos;
      },
      timeout);
}

TEST(ClusterTest, ADeadNodeIsDetectedMarkedAndToldAndCanComeBack) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start({{.num_cpus = 1}, {.num_cpus = 1, .node_name = "doomed"}}))
      << cluster.error();
  pid_t raylet = cluster.raylet_pid(1);
  ASSERT_GT(raylet, 0);
  auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(raylet, SIGKILL), 0);
  std::string nodes;
  // Default checks: every 1 s, 5 failures in a row, about 5 s on a quiet machine (the time is
  // printed, not asserted: a loaded machine may take longer; `make bench` measures it).
  ASSERT_TRUE(WaitForDeadNode(cluster, "doomed", std::chrono::seconds(60), &nodes)) << nodes;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_NE(nodes.find("health check failed"), std::string::npos) << nodes;
  auto status = RunMoray({"status", "--address", cluster.address()}).out;
  EXPECT_NE(status.find("NodeTerminated"), std::string::npos) << status;
  EXPECT_NE(status.find(" 0.0/1.0 CPU"), std::string::npos) << "a dead node's CPUs do not count\n"
                                                             << status;
  // The head's raylet was told.
  EXPECT_TRUE(WaitFor([] {
    auto logs = moray::testing::RunShell(
        "grep -h 'is dead' " + moray::testing::PrivateTmpDir::path() + "/session_*/logs/raylet.log");
    return logs.out.find("doomed") != std::string::npos ||
           logs.out.find("health check failed") != std::string::npos;
  }));
  // The same machine rejoins: a new node.
  ASSERT_TRUE(cluster.AddNode({.num_cpus = 1, .node_name = "doomed"})) << cluster.error();
  nodes = RunMoray({"list", "nodes", "--address", cluster.address(), "--filter",
                    "node_name=doomed"}).out;
  EXPECT_NE(nodes.find("ALIVE"), std::string::npos) << nodes;
  EXPECT_NE(nodes.find("DEAD"), std::string::npos) << nodes;
  std::printf("dead node detected after %.2f s\n", seconds);
}

TEST(ClusterTest, ANodeDeclaredDeadWhileItWasPausedStopsWhenItWakes) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start({{.num_cpus = 1}, {.num_cpus = 1, .node_name = "paused"}}))
      << cluster.error();
  pid_t raylet = cluster.raylet_pid(1);
  ASSERT_GT(raylet, 0);
  ASSERT_EQ(kill(raylet, SIGSTOP), 0);
  std::string nodes;
  bool dead = WaitForDeadNode(cluster, "paused", std::chrono::seconds(20), &nodes);
  ASSERT_EQ(kill(raylet, SIGCONT), 0);
  ASSERT_TRUE(dead) << nodes;
  // Alive but silent: its checks timed out (each counted once).
  EXPECT_NE(nodes.find("did not answer a health check"), std::string::npos) << nodes;
  // The cluster moved on without it: awake again, it learns so and stops instead of running
  // work nobody will collect.
  EXPECT_TRUE(WaitFor([&] { return !moray::testing::ProcessAlive(raylet); }, std::chrono::seconds(15)));
  auto logs = moray::testing::RunShell("grep -h 'declared this node' " +
                                       moray::testing::PrivateTmpDir::path() +
                                       "/session_*/logs/raylet.log");
  EXPECT_NE(logs.out.find("dead"), std::string::npos) << logs.out;
}

// Issue 5's transfer test: 1 GiB produced on one node arrives intact on another.
TEST(ClusterTest, AGibibyteObjectCrossesNodesIntact) {
  LocalCluster cluster;
  const long long store = 1536ll << 20;
  ASSERT_TRUE(cluster.Start({{.num_cpus = 1, .node_name = "head", .object_store_memory = store},
                             {.num_cpus = 1, .resources = R"({"producer": 1})",
                              .node_name = "producer", .object_store_memory = store}}))
      << cluster.error();
  ray::RayConfig config;
  config.address = cluster.address();
  ray::Init(config);
  std::string producer;
  for (const auto& node : ray::Nodes()) {
    if (node.node_name == "producer") producer = node.node_id;
  }
  const int64_t size = 1ll << 30;
  auto started = std::chrono::steady_clock::now();
  auto made = ray::Task(MakePattern).SetResource("producer", 1).Remote(size);
  auto bytes = made.Get(300000);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(static_cast<int64_t>(bytes->size()), size);
  EXPECT_EQ(FirstMismatch(*bytes), -1);
  // It was made on the producer node, and this driver read it from a copy in the head's store.
  nlohmann::json tasks;
  EXPECT_TRUE(WaitFor([&] {
    tasks = moray::testing::RunMorayJson({"list", "tasks", "--address", cluster.address(),
                                          "--filter", "func_or_class_name=MakePattern"});
    return tasks.is_array() && tasks.size() == 1 && tasks[0]["state"] == "FINISHED";
  })) << tasks.dump(2);
  EXPECT_EQ(tasks[0]["node_id"], producer) << tasks.dump(2);
  EXPECT_TRUE(WaitFor([&] {
    return StoreUsageOf(cluster.address(), "head").rfind("1.00GiB/", 0) == 0 &&
           StoreUsageOf(cluster.address(), "producer").rfind("1.00GiB/", 0) == 0;
  })) << "head: " << StoreUsageOf(cluster.address(), "head")
      << ", producer: " << StoreUsageOf(cluster.address(), "producer");
  std::printf("1 GiB made on the producer node and read on the head in %.2f s\n", seconds);
  bytes.reset();
  made = ray::ObjectRef<std::vector<uint8_t>>();
  ray::Shutdown();
}

// A task waiting at a busy node moves to a node that joins later (before, a request that could
// run where it waited stayed there until that node freed up; only requests no node could run
// were placed again when the cluster changed).
TEST(ClusterChangeTest, AWaitingTaskMovesToANodeThatJoins) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start({{.num_cpus = 1, .node_name = "head"}})) << cluster.error();
  ray::RayConfig config;
  config.address = cluster.address();
  ray::Init(config);
  struct ShutdownAtEnd {  // before `cluster` stops, even when an assertion ends the test
    ~ShutdownAtEnd() { ray::Shutdown(); }
  } shutdown_at_end;
  const std::string gate = moray::testing::PrivateTmpDir::path() + "/joins";
  std::filesystem::create_directories(gate);
  auto held = ray::Task(HeldNodeOf).Remote(gate, 0);
  ASSERT_TRUE(WaitFor([&] { return !StartsIn(gate).empty(); }, std::chrono::seconds(60)));
  // The head's only CPU is taken and there is no other node: this one waits at the head.
  auto moved = ray::Task(NodeOf).Remote();
  ASSERT_TRUE(WaitFor([&] {
    return RunMoray({"status", "--address", cluster.address()}).out.find(
               "{'CPU': 1.0}: 1+ pending tasks/actors") != std::string::npos;
  }, std::chrono::seconds(60)));
  ASSERT_TRUE(cluster.AddNode({.num_cpus = 1, .node_name = "n2"})) << cluster.error();
  std::string n2;
  for (const auto& node : ray::Nodes()) {
    if (node.node_name == "n2") n2 = node.node_id;
  }
  EXPECT_EQ(*moved.Get(60000), n2) << "it waited for the busy head although n2 was free";
  moray::testing::Touch(gate + "/go");
  EXPECT_FALSE(held.Get(60000)->empty());
}

}  // namespace
