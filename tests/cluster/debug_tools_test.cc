// The debugging tools of issue 15 (docs/observability.md, "Debugging") on a real two-node
// cluster: locating an actor's, a task's or a pid's worker from the GCS (src/cli/
// process_locator.h), `moray stack` (the node's raylet dumps its worker's native stacks) and
// `moray memory` (objects, owners, references and where the copies are).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cli/process_locator.h"
#include "gcs/gcs_client.h"
#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/cluster/local_cluster.h"
#include "tests/cluster/pattern.h"
#include "tests/test_env.h"

namespace {

using moray::testing::LocalCluster;
using moray::testing::NodeOf;
using moray::testing::RunMoray;
using moray::testing::WaitFor;

// Blocks in a function whose name the stack dump must show, until `release` exists.
extern "C" __attribute__((noinline)) void MorayStackProbeBlockedHere(const char* release) {
  while (!moray::testing::FileExists(release)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  asm volatile("" ::: "memory");  // not a tail call: the frame stays on the stack
}

class Prober {
 public:
  static Prober* Create() { return new Prober(); }
  std::string Node() { return NodeOf(); }
  int Pid() { return static_cast<int>(getpid()); }
  // Notes that it started (`started`), then blocks until `release` exists.
  int Block(std::string started, std::string release) {
    moray::testing::Touch(started);
    MorayStackProbeBlockedHere(release.c_str());
    return 1;
  }
};

// A normal task that records "<pid>" in `started`, then waits for `release`.
int HeldTask(std::string started, std::string release) {
  std::ofstream(started + ".tmp") << getpid();
  std::filesystem::rename(started + ".tmp", started);
  MorayStackProbeBlockedHere(release.c_str());
  return 1;
}
int Never() { return 0; }
// Where a by-reference argument was read: "<node id>:<size>".
std::string ReadOn(std::vector<uint8_t> bytes) {
  return NodeOf() + ":" + std::to_string(bytes.size());
}

RAY_REMOTE(Prober::Create, &Prober::Node, &Prober::Pid, &Prober::Block, HeldTask, Never, ReadOn);

class DebugToolsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new LocalCluster();
    ASSERT_TRUE(
        cluster_->Start({{.num_cpus = 2, .node_name = "n1"}, {.num_cpus = 2, .node_name = "n2"}}))
        << cluster_->error();
    ray::RayConfig config;
    config.address = cluster_->address();
    ray::Init(config);
    for (const auto& node : ray::Nodes()) (*ids_)[node.node_name] = node.node_id;
    auto client = moray::gcs::GcsClient::Connect(cluster_->address());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = client->release();
  }
  static void TearDownTestSuite() {
    delete client_;
    client_ = nullptr;
    if (ray::IsInitialized()) ray::Shutdown();
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ASSERT_NE(client_, nullptr);
    dir_ = moray::testing::PrivateTmpDir::path() + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { moray::testing::Touch(dir_ + "/release"); }

  static ray::ActorHandle<Prober> ProberOn(const std::string& node) {
    return ray::Actor(Prober::Create)
        .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{Id(node), false})
        .Remote();
  }
  static std::string Id(const std::string& node) { return (*ids_)[node]; }
  static moray::NodeId NodeIdOf(const std::string& node) {
    return *moray::NodeId::FromHex(Id(node));
  }

  static LocalCluster* cluster_;
  static moray::gcs::GcsClient* client_;
  static std::map<std::string, std::string>* ids_;  // node name -> id (hex)
  std::string dir_;
};
LocalCluster* DebugToolsTest::cluster_ = nullptr;
moray::gcs::GcsClient* DebugToolsTest::client_ = nullptr;
std::map<std::string, std::string>* DebugToolsTest::ids_ = new std::map<std::string, std::string>();

TEST_F(DebugToolsTest, LocatesAnActorsWorkerOnAnotherNode) {
  auto actor = ProberOn("n2");
  ASSERT_EQ(*actor.Task(&Prober::Node).Remote().Get(60000), Id("n2"));
  const int pid = *actor.Task(&Prober::Pid).Remote().Get(60000);
  auto id = moray::ActorId::FromHex(actor.ID());
  ASSERT_TRUE(id.has_value());
  auto where = moray::cli::LocateActor(*client_, *id);
  ASSERT_TRUE(where.ok()) << where.status();
  EXPECT_EQ(where->node_id, NodeIdOf("n2"));
  EXPECT_EQ(where->pid, pid);
  EXPECT_FALSE(where->worker_id.IsNil());
  EXPECT_FALSE(where->node_ip.empty());
  EXPECT_GT(where->raylet_port, 0);
  // The same through the one-argument form, by id and by pid; a pid lookup names the same worker.
  auto by_id = moray::cli::Locate(*client_, *moray::cli::ParseProcessTarget(actor.ID()), {});
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(by_id->pid, pid);
  ASSERT_TRUE(WaitFor([&] { return moray::cli::LocatePid(*client_, pid, {}).ok(); }));
  auto by_pid = moray::cli::LocatePid(*client_, pid, {});
  EXPECT_EQ(by_pid->node_id, NodeIdOf("n2"));
  EXPECT_EQ(by_pid->worker_id, where->worker_id);
  EXPECT_EQ(by_pid->raylet_port, where->raylet_port);
  // Restricted to the node it is on, it is found; to the other node, not.
  EXPECT_TRUE(moray::cli::LocatePid(*client_, pid, NodeIdOf("n2")).ok());
  auto elsewhere = moray::cli::LocatePid(*client_, pid, NodeIdOf("n1"));
  EXPECT_EQ(elsewhere.status().code(), absl::StatusCode::kNotFound) << elsewhere.status();
  auto mismatch =
      moray::cli::Locate(*client_, *moray::cli::ParseProcessTarget(actor.ID()), NodeIdOf("n1"));
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kFailedPrecondition) << mismatch.status();
}

TEST_F(DebugToolsTest, LocatesTheLatestAttemptOfARunningTaskAndRefusesAPendingOne) {
  auto held = ray::Task(HeldTask)
                  .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{Id("n2"), false})
                  .Remote(dir_ + "/started", dir_ + "/release");
  ASSERT_TRUE(moray::testing::AwaitFile(dir_ + "/started"));
  const int pid = std::stoi(moray::testing::ReadFile(dir_ + "/started"));
  const std::string task_hex = held.ID().substr(0, 32);
  auto task_id = *moray::TaskId::FromHex(task_hex);
  // The GCS learns RUNNING from the worker's next event flush.
  absl::StatusOr<moray::cli::ProcessLocation> where;
  ASSERT_TRUE(WaitFor([&] {
    where = moray::cli::LocateTask(*client_, task_id);
    return where.ok();
  })) << where.status();
  EXPECT_EQ(where->pid, pid);
  EXPECT_EQ(where->node_id, NodeIdOf("n2"));
  auto by_arg = moray::cli::Locate(*client_, *moray::cli::ParseProcessTarget(task_hex), {});
  ASSERT_TRUE(by_arg.ok()) << by_arg.status();
  EXPECT_EQ(by_arg->pid, pid);

  // A task no node can run waits in PENDING_NODE_ASSIGNMENT: an error naming that state.
  auto pending = ray::Task(Never).SetResource("no_such_thing", 1).Remote();
  auto pending_id = *moray::TaskId::FromHex(pending.ID().substr(0, 32));
  absl::StatusOr<moray::cli::ProcessLocation> refused;
  ASSERT_TRUE(WaitFor([&] {
    refused = moray::cli::LocateTask(*client_, pending_id);
    return absl::IsFailedPrecondition(refused.status());
  })) << refused.status();
  EXPECT_NE(refused.status().message().find("PENDING"), std::string::npos) << refused.status();
  EXPECT_NE(refused.status().message().find("not running"), std::string::npos) << refused.status();
  moray::testing::Touch(dir_ + "/release");
  EXPECT_EQ(*held.Get(60000), 1);
}

TEST_F(DebugToolsTest, UnknownIdsAndPidsAreClearErrors) {
  const std::string unknown = "0100000000000000000000000000abcd";
  auto located = moray::cli::Locate(*client_, *moray::cli::ParseProcessTarget(unknown), {});
  EXPECT_EQ(located.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(located.status().message().find("no actor or task with id " + unknown),
            std::string::npos)
      << located.status();
  // The raylet is not a worker of any node.
  auto raylet = moray::cli::LocatePid(*client_, cluster_->raylet_pid(0), {});
  EXPECT_EQ(raylet.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(raylet.status().message().find("no worker or driver with pid"), std::string::npos)
      << raylet.status();
  auto no_node = moray::cli::LocatePid(*client_, 1,
                                       *moray::NodeId::FromHex("00112233445566778899aabbccddeeff"));
  EXPECT_EQ(no_node.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(no_node.status().message().find("no node with id"), std::string::npos);
}

// The line of `text` that contains `needle` ("" if none).
std::string LineWith(const std::string& text, const std::string& needle) {
  for (const auto& line : moray::testing::Lines(text)) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

TEST_F(DebugToolsTest, StackShowsTheFunctionAnActorIsBlockedInOnEitherNode) {
  for (const std::string node : {"n1", "n2"}) {
    SCOPED_TRACE(node);
    auto actor = ProberOn(node);
    const int pid = *actor.Task(&Prober::Pid).Remote().Get(60000);
    const std::string started = dir_ + "/started-" + node;
    auto blocked = actor.Task(&Prober::Block).Remote(started, dir_ + "/release");
    ASSERT_TRUE(moray::testing::AwaitFile(started));
    auto by_actor = RunMoray({"stack", actor.ID(), "--address", cluster_->address()});
    ASSERT_EQ(by_actor.exit_code, 0) << by_actor.err << by_actor.out;
    EXPECT_NE(by_actor.out.find("MorayStackProbeBlockedHere"), std::string::npos) << by_actor.out;
    EXPECT_NE(by_actor.out.find("Stacks of pid " + std::to_string(pid)), std::string::npos)
        << by_actor.out;
    EXPECT_NE(by_actor.out.find(Id(node)), std::string::npos) << by_actor.out;
    // By pid, restricted to its node.
    auto by_pid = RunMoray(
        {"stack", std::to_string(pid), "--node-id", Id(node), "--address", cluster_->address()});
    ASSERT_EQ(by_pid.exit_code, 0) << by_pid.err << by_pid.out;
    EXPECT_NE(by_pid.out.find("MorayStackProbeBlockedHere"), std::string::npos) << by_pid.out;
  }
  moray::testing::Touch(dir_ + "/release");
}

TEST_F(DebugToolsTest, StackOfARunningTaskById) {
  auto held = ray::Task(HeldTask)
                  .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{Id("n2"), false})
                  .Remote(dir_ + "/started", dir_ + "/release");
  ASSERT_TRUE(moray::testing::AwaitFile(dir_ + "/started"));
  const std::string task_hex = held.ID().substr(0, 32);
  moray::testing::CommandResult result;
  ASSERT_TRUE(WaitFor([&] {  // the GCS learns RUNNING from the worker's next event flush
    result = RunMoray({"stack", task_hex, "--address", cluster_->address()});
    return result.exit_code == 0;
  })) << result.err;
  EXPECT_NE(result.out.find("MorayStackProbeBlockedHere"), std::string::npos) << result.out;
  moray::testing::Touch(dir_ + "/release");
  EXPECT_EQ(*held.Get(60000), 1);
}

TEST_F(DebugToolsTest, StackRefusesWhatIsNotAWorkerAndBadArguments) {
  // The driver (this process) is a registered client of the head's raylet, but not a worker the
  // raylet started: the raylet refuses it before running any tool.
  auto driver = RunMoray({"stack", std::to_string(getpid()), "--address", cluster_->address()});
  EXPECT_EQ(driver.exit_code, 1) << driver.out;
  EXPECT_NE(driver.err.find("is not a live worker of this node's raylet"), std::string::npos)
      << driver.err;
  // A pid no node reports.
  auto raylet = RunMoray(
      {"stack", std::to_string(cluster_->raylet_pid(1)), "--address", cluster_->address()});
  EXPECT_EQ(raylet.exit_code, 1);
  EXPECT_NE(raylet.err.find("no worker or driver with pid"), std::string::npos) << raylet.err;
  auto unknown =
      RunMoray({"stack", "0100000000000000000000000000abcd", "--address", cluster_->address()});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no actor or task with id"), std::string::npos) << unknown.err;
  // Usage errors: one line, exit 2.
  auto bad = RunMoray({"stack", "xyz", "--address", cluster_->address()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("moray stack: 'xyz' is neither a pid"), std::string::npos) << bad.err;
  auto bad_node = RunMoray({"stack", "123", "--node-id", "n2", "--address", cluster_->address()});
  EXPECT_EQ(bad_node.exit_code, 2);
  EXPECT_NE(bad_node.err.find("--node-id must be a node id"), std::string::npos) << bad_node.err;
  auto missing = RunMoray({"stack", "--address", cluster_->address()});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
}

TEST_F(DebugToolsTest, MemoryShowsCopiesOnBothNodesOwnersAndInlineObjects) {
  auto big = ray::Put(moray::testing::MakePattern(3 << 20));  // into the head's store
  auto small = ray::Put(std::string("small"));                // inline, in this process
  ASSERT_EQ(*ray::Task(ReadOn)
                 .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{Id("n2"), false})
                 .Remote(big)
                 .Get(60000),
            Id("n2") + ":" + std::to_string(3 << 20));
  const std::string pid = "pid=" + std::to_string(getpid());
  moray::testing::CommandResult result;
  std::string big_line, small_line;
  ASSERT_TRUE(WaitFor([&] {  // snapshots reach the GCS within about a second
    result = RunMoray({"memory", "--address", cluster_->address(), "--units", "MB"});
    big_line = LineWith(result.out, big.ID());
    small_line = LineWith(result.out, small.ID());
    return result.exit_code == 0 && big_line.find(pid) != std::string::npos &&
           big_line.find("secondary@") != std::string::npos &&
           small_line.find("owner memory") != std::string::npos;
  })) << result.err
      << result.out;
  EXPECT_NE(big_line.find("3.00 MB"), std::string::npos) << big_line;
  EXPECT_NE(big_line.find("primary@" + Id("n1").substr(0, 8)), std::string::npos) << big_line;
  EXPECT_NE(big_line.find("secondary@" + Id("n2").substr(0, 8)), std::string::npos) << big_line;
  EXPECT_NE(big_line.find("LOCAL_REFERENCE " + pid + " (owner"), std::string::npos) << big_line;
  EXPECT_NE(small_line.find(pid), std::string::npos) << small_line;
  EXPECT_NE(result.out.find("Objects owned on node " + Id("n1")), std::string::npos) << result.out;
  // Both nodes' stores are summarised.
  const std::string n1 =
      LineWith(result.out.substr(result.out.find("Object store per node")), Id("n1"));
  const std::string n2 =
      LineWith(result.out.substr(result.out.find("Object store per node")), Id("n2"));
  EXPECT_FALSE(n1.empty()) << result.out;
  EXPECT_FALSE(n2.empty()) << result.out;

  auto by_owner = RunMoray({"memory", "--address", cluster_->address(), "--group-by", "owner"});
  ASSERT_EQ(by_owner.exit_code, 0) << by_owner.err;
  EXPECT_NE(by_owner.out.find("Objects owned by"), std::string::npos) << by_owner.out;
  EXPECT_NE(LineWith(by_owner.out, "Objects owned by").find(pid), std::string::npos)
      << by_owner.out;
  auto stats = RunMoray({"memory", "--address", cluster_->address(), "--stats-only"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(stats.out.find(big.ID()), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("--- Totals ---"), std::string::npos) << stats.out;

  for (const auto& [flag, value, message] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--units", "TB", "--units must be one of B, KB, MB or GB, not 'TB'"},
           {"--group-by", "stack", "--group-by must be node or owner, not 'stack'"},
           {"--num-entries", "0", "--num-entries must be"},
           {"--sort-by", "size", "unknown option --sort-by"}}) {
    auto bad = RunMoray({"memory", "--address", cluster_->address(), flag, value});
    EXPECT_EQ(bad.exit_code, 2) << flag;
    EXPECT_NE(bad.err.find("moray memory: " + message), std::string::npos) << bad.err;
  }
}

}  // namespace
