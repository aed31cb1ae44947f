// The process locator against an in-process GCS seeded as raylets would: the cases a live
// cluster cannot easily stage — one pid on two nodes, a dead node, an exited worker beside a live
// one, an actor not placed yet. (Live lookups: tests/cluster/debug_tools_test.cc.)
#include <memory>
#include <string>

#include "cli/process_locator.h"
#include "gcs/gcs_client.h"
#include "gcs/gcs_server.h"
#include "gtest/gtest.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"

namespace moray::cli {
namespace {

const std::string kNodeA(16, '\xa0');
const std::string kNodeB(16, '\xb0');
const std::string kNodeDead(16, '\xd0');

class ProcessLocatorGcsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rpc::SetProcessAuth({rpc::AuthMode::kToken, rpc::GenerateToken(), "locator test"});
    server_ = new gcs::GcsServer({.host = "127.0.0.1", .port = 0});
    ASSERT_TRUE(server_->Start().ok());
    rpc::SetProcessRole(proto::ROLE_RAYLET);
    auto client = gcs::GcsClient::Connect("127.0.0.1:" + std::to_string(server_->port()));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = client->release();
    // Node A: live workers 4242 and 77; node B: live 4242, exited 77; a dead node with 5150.
    Node(kNodeA, "10.0.0.1", 7001, {{4242, true}, {77, true}});
    Node(kNodeB, "10.0.0.2", 7002, {{4242, true}, {77, false}});
    Node(kNodeDead, "10.0.0.3", 7003, {{5150, true}});
    ASSERT_TRUE(client_->UnregisterNode(NodeId::FromBinary(kNodeDead), "test").ok());
    proto::ActorInfo pending;
    pending.set_actor_id(std::string(16, '\x5a'));
    pending.set_class_name("Pending");
    ASSERT_TRUE(server_->actors_for_testing().Register(pending).ok());
  }
  static void TearDownTestSuite() {
    delete client_;
    delete server_;
  }
  static void Node(const std::string& id, const std::string& ip, int port,
                   const std::vector<std::pair<int, bool>>& workers) {
    proto::NodeInfo node;
    node.set_node_id(id);
    node.set_node_ip(ip);
    node.set_raylet_port(port);
    ASSERT_TRUE(client_->RegisterNode(node).ok());
    proto::NodeResourceReport report;
    report.set_node_id(id);
    for (const auto& [pid, alive] : workers) {
      auto* worker = report.add_workers();
      worker->set_worker_id(id.substr(0, 12) + std::string(4, static_cast<char>(pid & 0x7f)));
      worker->set_pid(pid);
      worker->set_is_alive(alive);
      worker->set_worker_type("WORKER");
    }
    ASSERT_TRUE(client_->ReportResources(report).ok());
  }

  static gcs::GcsServer* server_;
  static gcs::GcsClient* client_;
};
gcs::GcsServer* ProcessLocatorGcsTest::server_ = nullptr;
gcs::GcsClient* ProcessLocatorGcsTest::client_ = nullptr;

TEST_F(ProcessLocatorGcsTest, APidOnSeveralNodesNeedsANodeId) {
  auto both = LocatePid(*client_, 4242, std::nullopt);
  EXPECT_EQ(both.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(both.status().message().find("several nodes"), std::string::npos) << both.status();
  EXPECT_NE(both.status().message().find(NodeId::FromBinary(kNodeA).Hex()), std::string::npos);
  EXPECT_NE(both.status().message().find(NodeId::FromBinary(kNodeB).Hex()), std::string::npos);
  EXPECT_NE(both.status().message().find("--node-id"), std::string::npos);
  auto on_b = LocatePid(*client_, 4242, NodeId::FromBinary(kNodeB));
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_EQ(on_b->node_ip, "10.0.0.2");
  EXPECT_EQ(on_b->raylet_port, 7002);
  EXPECT_EQ(on_b->pid, 4242);
  EXPECT_EQ(on_b->worker_id.Binary().substr(0, 12), kNodeB.substr(0, 12));
}

TEST_F(ProcessLocatorGcsTest, ALiveWorkerWinsOverAnExitedOneAndUnknownPidsAreNotFound) {
  auto live = LocatePid(*client_, 77, std::nullopt);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->node_id, NodeId::FromBinary(kNodeA));
  auto none = LocatePid(*client_, 31337, std::nullopt);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("no worker or driver with pid 31337 on any alive node"),
            std::string::npos)
      << none.status();
}

TEST_F(ProcessLocatorGcsTest, DeadNodesAreNotSearchedAndNamingOneIsAnError) {
  EXPECT_EQ(LocatePid(*client_, 5150, std::nullopt).status().code(), absl::StatusCode::kNotFound);
  auto named = LocatePid(*client_, 5150, NodeId::FromBinary(kNodeDead));
  EXPECT_EQ(named.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(named.status().message().find("is DEAD"), std::string::npos) << named.status();
}

TEST_F(ProcessLocatorGcsTest, AnActorWithoutAWorkerIsAnErrorNamingItsState) {
  auto pending = LocateActor(*client_, ActorId::FromBinary(std::string(16, '\x5a')));
  EXPECT_EQ(pending.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(pending.status().message().find("PENDING_CREATION"), std::string::npos)
      << pending.status();
  auto unknown = Locate(*client_, ActorOrTaskId{std::string(32, 'e')}, std::nullopt);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("no actor or task with id"), std::string::npos)
      << unknown.status();
}

}  // namespace
}  // namespace moray::cli
