#include "cli/format_status.h"

#include <map>
#include <tuple>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

constexpr double kGiB = 1024.0 * 1024 * 1024;

proto::GetClusterStatusReply TwoNodeCluster() {
  proto::GetClusterStatusReply status;
  auto* head = status.add_nodes();
  head->set_node_id(std::string(16, '\x01'));
  head->set_node_ip("127.0.0.1");
  head->set_state(proto::NODE_ALIVE);
  auto* dead = status.add_nodes();
  dead->set_node_id(std::string(16, '\x02'));
  dead->set_node_ip("10.0.0.2");
  dead->set_state(proto::NODE_DEAD);
  dead->set_state_message("raylet exited");

  auto* report = status.add_reports();
  report->set_node_id(head->node_id());
  auto& total = *report->mutable_resources_total();
  total["CPU"] = 2;
  total["GPU"] = 1;
  total["custom"] = 4;
  total["node:127.0.0.1"] = 1;
  total["object_store_memory"] = 4.05 * kGiB;
  auto& available = *report->mutable_resources_available();
  available["CPU"] = 1;
  available["GPU"] = 1;
  available["custom"] = 3.5;
  available["node:127.0.0.1"] = 1;
  available["object_store_memory"] = 4.05 * kGiB;
  report->set_object_store_used(20 * 1024 * 1024);
  auto* pending = report->add_demands();
  (*pending->mutable_shape())["CPU"] = 1;
  pending->set_num_ready_requests(3);
  auto* infeasible = report->add_demands();
  (*infeasible->mutable_shape())["CPU"] = 64;
  (*infeasible->mutable_shape())["GPU"] = 1;
  infeasible->set_num_ready_requests(1);
  infeasible->set_infeasible(true);

  // The dead node's last report must not count.
  auto* stale = status.add_reports();
  stale->set_node_id(dead->node_id());
  (*stale->mutable_resources_total())["CPU"] = 100;
  return status;
}

TEST(FormatClusterStatusTest, NodesUsageAndDemands) {
  auto lines = Lines(FormatClusterStatus(TwoNodeCluster(), absl::Now()));
  EXPECT_THAT(lines[0], MatchesRegex("======== Cluster status: .{26} ========"));
  const std::string dashes(63, '-');
  EXPECT_THAT(std::vector<std::string>(lines.begin() + 1, lines.end()),
              ElementsAre("Node status", dashes, "Healthy:",
                          " 1 node_01010101010101010101010101010101", "Pending:",
                          " (no pending nodes)", "Recent failures:",
                          " node_02020202020202020202020202020202: NodeTerminated (ip: 10.0.0.2): "
                          "raylet exited",
                          "", "Resources", dashes, "Usage:", " 1.0/2.0 CPU", " 0.0/1.0 GPU",
                          " 0.5/4.0 custom", " 20.00MiB/4.05GiB object_store_memory", "",
                          "Demands:", " {'CPU': 1.0}: 3+ pending tasks/actors",
                          " {'CPU': 64.0, 'GPU': 1.0}: 1+ pending tasks/actors (infeasible: no "
                          "node can ever satisfy it)"));
}

TEST(FormatClusterStatusTest, VerboseShowsEachAliveNodesUsage) {
  auto status = TwoNodeCluster();
  status.mutable_nodes(0)->set_node_name("head-node");
  status.mutable_nodes(0)->set_is_head_node(true);
  auto* second = status.add_nodes();
  second->set_node_id(std::string(16, '\x03'));
  second->set_node_ip("127.0.0.1");
  second->set_node_name("worker-1");
  second->set_state(proto::NODE_ALIVE);
  (*second->mutable_resources_total())["CPU"] = 4;  // no report yet: all available
  auto lines = Lines(FormatClusterStatus(status, absl::Now(), /*verbose=*/true));
  auto at = std::find(lines.begin(), lines.end(), "Node usage");
  ASSERT_NE(at, lines.end());
  EXPECT_THAT(std::vector<std::string>(at + 2, lines.end()),
              ElementsAre("Node: 01010101010101010101010101010101 (head-node, 127.0.0.1, head)",
                          " Usage:", "  1.0/2.0 CPU", "  0.0/1.0 GPU", "  0.5/4.0 custom",
                          "  20.00MiB/4.05GiB object_store_memory", " Demands:",
                          "  {'CPU': 1.0}: 3+ pending tasks/actors",
                          "  {'CPU': 64.0, 'GPU': 1.0}: 1+ pending tasks/actors (infeasible: no "
                          "node can ever satisfy it)",
                          "Node: 03030303030303030303030303030303 (worker-1, 127.0.0.1)",
                          " Usage:", "  0.0/4.0 CPU"));
  // The summary still counts both nodes.
  EXPECT_THAT(lines, testing::Contains(" 1.0/6.0 CPU"));
  // Not verbose: no per-node section.
  auto plain = Lines(FormatClusterStatus(status, absl::Now()));
  EXPECT_EQ(std::find(plain.begin(), plain.end(), "Node usage"), plain.end());
}

TEST(FormatClusterStatusTest, EmptyClusterAndNodeWithoutReport) {
  proto::GetClusterStatusReply status;
  auto* node = status.add_nodes();
  node->set_node_id(std::string(16, '\x0a'));
  node->set_state(proto::NODE_ALIVE);
  (*node->mutable_resources_total())["CPU"] = 8;
  node->set_object_store_memory(static_cast<int64_t>(2 * kGiB));
  auto lines = Lines(FormatClusterStatus(status, absl::Now()));
  EXPECT_THAT(std::vector<std::string>(lines.end() - 6, lines.end()),
              ElementsAre("Usage:", " 0.0/8.0 CPU", " 0B/2.00GiB object_store_memory", "",
                          "Demands:", " (no resource demands)"));
  EXPECT_EQ(lines[8], " (no failures)");
}

TEST(FormatClusterStatusTest, ObjectStoreShowsSpilledBytes) {
  auto status = TwoNodeCluster();
  status.mutable_reports(0)->set_object_store_spilled(static_cast<int64_t>(3 * kGiB));
  auto lines = Lines(FormatClusterStatus(status, absl::Now()));
  EXPECT_THAT(lines, testing::Contains(" 20.00MiB/4.05GiB object_store_memory (3.00GiB spilled)"));
}

// A node with a committed group of two {CPU: 1} bundles (one in use) and a task waiting for the
// group's bundle 1.
TEST(FormatClusterStatusTest, GroupScopedResourcesAreSummedIntoTheirPlainResource) {
  auto status = TwoNodeCluster();
  auto* report = status.mutable_reports(0);
  const std::string g(32, 'c');
  auto& total = *report->mutable_resources_total();
  auto& available = *report->mutable_resources_available();
  total["CPU"] = 4;
  available["CPU"] = 1;  // 2 reserved by the group, 1 used outside it
  for (const auto& [name, amount, free] :
       std::vector<std::tuple<std::string, double, double>>{{"CPU_group_" + g, 2, 1},
                                                            {"CPU_group_0_" + g, 1, 0},
                                                            {"CPU_group_1_" + g, 1, 1},
                                                            {"bundle_group_" + g, 2000, 1999.999},
                                                            {"bundle_group_0_" + g, 1000, 999.999},
                                                            {"bundle_group_1_" + g, 1000, 1000}}) {
    total[name] = amount;
    available[name] = free;
  }
  auto* waiting = report->add_demands();
  (*waiting->mutable_shape())["CPU_group_" + g] = 2;
  (*waiting->mutable_shape())["CPU_group_1_" + g] = 2;
  (*waiting->mutable_shape())["bundle_group_" + g] = 0.001;
  (*waiting->mutable_shape())["bundle_group_1_" + g] = 0.001;
  waiting->set_num_ready_requests(1);
  auto lines = Lines(FormatClusterStatus(status, absl::Now()));
  auto usage = std::find(lines.begin(), lines.end(), "Usage:");
  ASSERT_NE(usage, lines.end());
  EXPECT_THAT(
      std::vector<std::string>(usage + 1, usage + 5),
      ElementsAre(" 3.0/4.0 CPU (1.0 used of 2.0 reserved in placement groups)", " 0.0/1.0 GPU",
                  " 0.5/4.0 custom", " 20.00MiB/4.05GiB object_store_memory"));
  EXPECT_THAT(lines, testing::Contains(" {'CPU': 2.0} (placement group " + g +
                                       ", bundle 1): 1+ pending tasks/actors"));
  for (const auto& line : lines) EXPECT_EQ(line.find("_group_"), std::string::npos) << line;
}

TEST(FormatClusterStatusTest, WaitingPlacementGroupsAreDemands) {
  proto::GetClusterStatusReply status;
  auto* node = status.add_nodes();
  node->set_node_id(std::string(16, '\x0a'));
  node->set_state(proto::NODE_ALIVE);
  (*node->mutable_resources_total())["CPU"] = 2;
  auto group = [](proto::PlacementStrategy strategy, proto::PlacementGroupState state,
                  std::vector<std::map<std::string, double>> bundles) {
    proto::PlacementGroupInfo g;
    g.set_strategy(strategy);
    g.set_state(state);
    for (const auto& resources : bundles) {
      auto* b = g.add_bundles();
      b->mutable_resources()->insert(resources.begin(), resources.end());
    }
    return g;
  };
  std::vector<proto::PlacementGroupInfo> groups;
  // Two groups with the same shape and strategy: one line, counted twice.
  groups.push_back(group(proto::PACK, proto::PG_PENDING, {{{"CPU", 1}}, {{"CPU", 1}}}));
  groups.push_back(group(proto::PACK, proto::PG_PENDING, {{{"CPU", 1}}, {{"CPU", 1}}}));
  // Mixed bundles, in first-seen order.
  groups.push_back(group(proto::SPREAD, proto::PG_PENDING,
                         {{{"CPU", 1}}, {{"GPU", 1}, {"CPU", 1}}, {{"CPU", 1}}}));
  auto infeasible = group(proto::STRICT_PACK, proto::PG_PENDING, {{{"GPU", 8}}});
  infeasible.set_infeasible(true);
  groups.push_back(infeasible);
  // Rescheduling: only the bundle it lost is asked for.
  auto rescheduling =
      group(proto::STRICT_SPREAD, proto::PG_RESCHEDULING, {{{"CPU", 1}}, {{"CPU", 1}}});
  rescheduling.mutable_bundles(0)->set_node_id(std::string(16, '\x0a'));
  groups.push_back(rescheduling);
  // Placed ones are not demands.
  groups.push_back(group(proto::PACK, proto::PG_CREATED, {{{"CPU", 64}}}));
  groups.push_back(group(proto::PACK, proto::PG_REMOVED, {{{"CPU", 64}}}));
  auto lines = Lines(FormatClusterStatus(status, absl::Now(), false, groups));
  auto demands = std::find(lines.begin(), lines.end(), "Demands:");
  ASSERT_NE(demands, lines.end());
  EXPECT_THAT(std::vector<std::string>(demands + 1, lines.end()),
              ElementsAre(" {'CPU': 1.0} * 1 (STRICT_SPREAD): 1+ pending placement groups",
                          " {'CPU': 1.0} * 2 (PACK): 2+ pending placement groups",
                          " {'CPU': 1.0} * 2, {'CPU': 1.0, 'GPU': 1.0} * 1 (SPREAD): 1+ pending "
                          "placement groups",
                          " {'GPU': 8.0} * 1 (STRICT_PACK): 1+ pending placement groups "
                          "(infeasible: the cluster can never hold it as asked)"));
}

TEST(FormatResourceShapeTest, SortedPythonDict) {
  EXPECT_EQ(FormatResourceShape({{"GPU", 1}, {"CPU", 0.5}}), "{'CPU': 0.5, 'GPU': 1.0}");
  EXPECT_EQ(FormatResourceShape({}), "{}");
}

}  // namespace
}  // namespace moray::cli
