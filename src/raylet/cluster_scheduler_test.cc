#include "raylet/cluster_scheduler.h"

#include <map>
#include <set>

#include "common/testing/named_ids.h"
#include "gtest/gtest.h"

namespace moray::raylet {
namespace {

using Resources = std::map<std::string, double>;

scheduling::ResourceSet R(const Resources& map) { return *scheduling::ResourceSet::FromMap(map); }

ClusterScheduler::Decision Pick(ClusterScheduler& s, const Resources& asked,
                                const proto::SchedulingStrategy& strategy, const Resources& total,
                                const Resources& available, NodeId preferred = NodeId()) {
  return s.Pick(R(asked), strategy, R(total), R(available), preferred);
}
using moray::testing::NamedId;

// Node "A" as the runtime sees it, and as messages carry it.
NodeId Id(std::string_view name) { return NamedId<NodeId>(name); }
std::string N(std::string_view name) { return Id(name).Binary(); }

// A view with the local node "L" and remote nodes "A" and "B"; A alone has "gpu".
proto::GetClusterStatusReply View(double a_cpu_free, double b_cpu_free) {
  proto::GetClusterStatusReply view;
  auto add = [&](const std::string& id, double cpus, double free, bool gpu) {
    auto* node = view.add_nodes();
    node->set_node_id(N(id));
    node->set_node_ip("10.0.0." + id);
    node->set_raylet_port(1000 + id[0]);
    node->set_state(proto::NODE_ALIVE);
    auto* report = view.add_reports();
    report->set_node_id(N(id));
    (*report->mutable_resources_total())["CPU"] = cpus;
    (*report->mutable_resources_available())["CPU"] = free;
    if (gpu) {
      (*report->mutable_resources_total())["gpu"] = 1;
      (*report->mutable_resources_available())["gpu"] = 1;
    }
  };
  add("L", 4, 4, false);  // the local node: its own fresh numbers win over these
  add("A", 4, a_cpu_free, true);
  add("B", 4, b_cpu_free, false);
  auto* dead = view.add_nodes();
  dead->set_node_id(N("D"));
  dead->set_state(proto::NODE_DEAD);
  return view;
}

proto::SchedulingStrategy Strategy(proto::SchedulingStrategy::Kind kind, std::string node = "",
                                   bool soft = false) {
  proto::SchedulingStrategy s;
  s.set_kind(kind);
  s.set_node_id(node.empty() ? "" : N(node));
  s.set_soft(soft);
  return s;
}

const Resources kOneCpu = {{"CPU", 1}};
const Resources kLocalTotal = {{"CPU", 4}};

TEST(ClusterSchedulerTest, DefaultStaysLocalUntilHalfBusyThenLeastLoaded) {
  ClusterScheduler s(Id("L"));
  s.UpdateView(View(/*a_cpu_free=*/1, /*b_cpu_free=*/3));
  EXPECT_EQ(s.num_remote_nodes(), 2u);  // the dead node does not count
  auto d = Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 3}});  // 25% busy
  EXPECT_TRUE(d.local);
  d = Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 1}});  // 75% busy: B (25%) is less loaded
  ASSERT_FALSE(d.local);
  EXPECT_EQ(d.node.node_id(), N("B"));
  d = Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 0}});  // full here
  EXPECT_EQ(d.node.node_id(), N("B"));
}

TEST(ClusterSchedulerTest, DefaultGoesToThePreferredNodeWhileItHasRoom) {
  ClusterScheduler s(Id("L"));
  s.UpdateView(View(/*a_cpu_free=*/4, /*b_cpu_free=*/1));
  auto d = Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 4}}, Id("A"));  // idle here, but data on A
  ASSERT_FALSE(d.local);
  EXPECT_EQ(d.node.node_id(), N("A"));
  EXPECT_TRUE(d.near_arguments);
  // B looks 75% busy, but this view may be stale: B's raylet decides (with fresh resources)
  // whether it has room, so the request still goes there as a first placement.
  d = Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 4}}, Id("B"));
  ASSERT_FALSE(d.local);
  EXPECT_EQ(d.node.node_id(), N("B"));
  EXPECT_TRUE(d.near_arguments);
  // A node that can never run it is not asked.
  EXPECT_TRUE(Pick(s, {{"CPU", 8}}, {}, {{"CPU", 8}}, {{"CPU", 8}}, Id("A")).local);
  EXPECT_TRUE(Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 4}}, Id("D")).local);  // dead: ignored
  EXPECT_TRUE(Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 4}}, Id("L")).local);
  // The preferred node is this one: decided here with its own resources. Busy here, the task
  // goes where there is room rather than waiting for its data's node.
  d = Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 0}}, Id("L"));
  ASSERT_FALSE(d.local);
  EXPECT_FALSE(d.near_arguments);
  EXPECT_EQ(d.node.node_id(), N("A"));
}

TEST(ClusterSchedulerTest, DefaultWaitsLocallyWhenNobodyIsFreeAndGoesWhereItCanEverRun) {
  ClusterScheduler s(Id("L"));
  s.UpdateView(View(0, 0));
  EXPECT_TRUE(Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 0}}).local);
  auto gpu = Pick(s, {{"gpu", 1}}, {}, kLocalTotal, {{"CPU", 4}});
  ASSERT_FALSE(gpu.local);
  EXPECT_EQ(gpu.node.node_id(), N("A"));
  EXPECT_TRUE(Pick(s, {{"tpu", 1}}, {}, kLocalTotal, {{"CPU", 4}}).local)  // infeasible anywhere
      << "stays here as an infeasible demand";
}

TEST(ClusterSchedulerTest, SpreadRotatesOverNodesWithRoom) {
  ClusterScheduler s(Id("L"));
  s.UpdateView(View(4, 4));
  std::set<std::string> seen;
  for (int i = 0; i < 6; ++i) {
    auto d =
        Pick(s, kOneCpu, Strategy(proto::SchedulingStrategy::SPREAD), kLocalTotal, {{"CPU", 4}});
    seen.insert(d.local ? N("L") : d.node.node_id());
  }
  EXPECT_EQ(seen, (std::set<std::string>{N("L"), N("A"), N("B")}));
}

TEST(ClusterSchedulerTest, NodeAffinityHardFailsSoftFallsBack) {
  ClusterScheduler s(Id("L"));
  s.UpdateView(View(4, 4));
  auto on_b = Pick(s, kOneCpu, Strategy(proto::SchedulingStrategy::NODE_AFFINITY, "B"), kLocalTotal,
                   {{"CPU", 4}});
  EXPECT_EQ(on_b.node.node_id(), N("B"));
  auto dead = Pick(s, kOneCpu, Strategy(proto::SchedulingStrategy::NODE_AFFINITY, "D"), kLocalTotal,
                   {{"CPU", 4}});
  EXPECT_NE(dead.error.find("is not alive"), std::string::npos) << dead.error;
  EXPECT_FALSE(dead.wait_for_view) << "a node the view knows as dead is final";
  auto unknown = Pick(s, kOneCpu, Strategy(proto::SchedulingStrategy::NODE_AFFINITY, "N"),
                      kLocalTotal, {{"CPU", 4}});
  EXPECT_TRUE(unknown.wait_for_view) << "a node not in the view yet may just have joined";
  EXPECT_FALSE(unknown.error.empty());
  auto too_big = Pick(s, {{"CPU", 64}}, Strategy(proto::SchedulingStrategy::NODE_AFFINITY, "B"),
                      kLocalTotal, {{"CPU", 4}});
  EXPECT_NE(too_big.error.find("can never provide"), std::string::npos) << too_big.error;
  auto soft = Pick(s, kOneCpu, Strategy(proto::SchedulingStrategy::NODE_AFFINITY, "D", true),
                   kLocalTotal, {{"CPU", 4}});
  EXPECT_TRUE(soft.error.empty());
  EXPECT_TRUE(soft.local);
}

TEST(ClusterSchedulerTest, ANodeDeclaredDeadIsNoCandidateEvenIfAnOlderViewSaysAlive) {
  ClusterScheduler s(Id("L"));
  s.UpdateView(View(4, 4));
  s.ForgetNode(Id("A"));  // NODE_DIED, before the next view
  EXPECT_EQ(s.num_remote_nodes(), 1u);
  auto gpu = Pick(s, {{"gpu", 1}}, {}, kLocalTotal, {{"CPU", 4}});
  EXPECT_TRUE(gpu.local) << "only A had a gpu: " << gpu.node.node_id();
  s.UpdateView(View(4, 4));  // a view sent before A died
  EXPECT_EQ(s.num_remote_nodes(), 1u);
  auto soft = Pick(s, kOneCpu, Strategy(proto::SchedulingStrategy::NODE_AFFINITY, "A", true),
                   kLocalTotal, {{"CPU", 0}});
  EXPECT_NE(soft.node.node_id(), N("A"));
}

TEST(ClusterSchedulerTest, ARequestSentToANodeCountsAgainstItUntilTheNextView) {
  ClusterScheduler s(Id("L"));
  s.UpdateView(View(/*a_cpu_free=*/1, /*b_cpu_free=*/0));
  auto d = Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 0}});  // full here: A has one free
  ASSERT_FALSE(d.local);
  EXPECT_EQ(d.node.node_id(), N("A"));
  s.Charge(Id("A"), R(kOneCpu));
  // A's one CPU is spoken for: the next request waits here rather than also going to A.
  EXPECT_TRUE(Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 0}}).local);
  s.UpdateView(View(1, 0));  // the next view says what A really has
  EXPECT_EQ(Pick(s, kOneCpu, {}, kLocalTotal, {{"CPU", 0}}).node.node_id(), N("A"));
}

}  // namespace
}  // namespace moray::raylet
