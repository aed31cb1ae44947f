#include "gcs/node_manager.h"

#include "common/id.h"
#include "gtest/gtest.h"

namespace moray::gcs {
namespace {

proto::NodeInfo Node(char c, bool head = false) {
  proto::NodeInfo node;
  node.set_node_id(std::string(16, c));
  node.set_node_ip("127.0.0.1");
  node.set_is_head_node(head);
  (*node.mutable_resources_total())["CPU"] = 2;
  return node;
}

proto::NodeResourceReport Report(char c, double cpu_available) {
  proto::NodeResourceReport report;
  report.set_node_id(std::string(16, c));
  (*report.mutable_resources_total())["CPU"] = 2;
  (*report.mutable_resources_available())["CPU"] = cpu_available;
  auto* worker = report.add_workers();
  worker->set_worker_id(std::string(16, 'w'));
  worker->set_is_alive(true);
  return report;
}

TEST(NodeManagerTest, RegisterListInOrderAndUnregisterWithReason) {
  InMemoryTableStorage storage;
  NodeManager nodes(&storage);
  ASSERT_TRUE(nodes.RegisterNode(Node('b', /*head=*/true)).ok());
  ASSERT_TRUE(nodes.RegisterNode(Node('a')).ok());
  auto all = nodes.GetAllNodes();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].node_id(), std::string(16, 'b'));
  EXPECT_EQ(all[0].state(), proto::NODE_ALIVE);
  EXPECT_GT(all[0].start_time_ms(), 0);

  ASSERT_TRUE(nodes.UnregisterNode(NodeId::FromBinary(std::string(16, 'a')), "raylet exited").ok());
  all = nodes.GetAllNodes();
  EXPECT_EQ(all[1].state(), proto::NODE_DEAD);
  EXPECT_EQ(all[1].state_message(), "raylet exited");
  EXPECT_GT(all[1].end_time_ms(), 0);
  EXPECT_EQ(nodes.UnregisterNode(NodeId::FromBinary(std::string(16, 'z')), "x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(nodes.RegisterNode(proto::NodeInfo()).code(), absl::StatusCode::kInvalidArgument);
}

TEST(NodeManagerTest, KeepsLatestReportAndRejectsStrangers) {
  InMemoryTableStorage storage;
  NodeManager nodes(&storage);
  ASSERT_TRUE(nodes.RegisterNode(Node('a')).ok());
  ASSERT_TRUE(nodes.ReportResources(Report('a', 2)).ok());
  ASSERT_TRUE(nodes.ReportResources(Report('a', 0.5)).ok());
  auto status = nodes.GetClusterStatus();
  ASSERT_EQ(status.reports_size(), 1);
  EXPECT_EQ(status.reports(0).resources_available().at("CPU"), 0.5);

  EXPECT_EQ(nodes.ReportResources(Report('x', 1)).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(nodes.UnregisterNode(NodeId::FromBinary(std::string(16, 'a')), "gone").ok());
  EXPECT_EQ(nodes.ReportResources(Report('a', 1)).code(), absl::StatusCode::kFailedPrecondition);
  // The dead node's workers are listed as not alive.
  status = nodes.GetClusterStatus();
  ASSERT_EQ(status.reports_size(), 1);
  EXPECT_FALSE(status.reports(0).workers(0).is_alive());
}

}  // namespace
}  // namespace moray::gcs
