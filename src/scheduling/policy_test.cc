#include "scheduling/policy.h"

#include "gtest/gtest.h"
#include "scheduling/group_resources.h"
#include "scheduling/label_selector.h"
#include "scheduling/testing_view.h"

namespace moray::scheduling {
namespace {

using testing::AddNode;
using testing::Node;
using testing::Res;

proto::SchedulingStrategy Kind(proto::SchedulingStrategy::Kind kind) {
  proto::SchedulingStrategy s;
  s.set_kind(kind);
  return s;
}

SchedulingRequest Cpu(double cpus, NodeId local = Node("L")) {
  return {.resources = Res({{"CPU", cpus}}), .local = local};
}

TEST(PolicyTest, HybridStaysLocalUntilHalfBusyThenLeastLoaded) {
  SchedulingPolicy policy;
  ClusterView view;
  AddNode(&view, "L", {{"CPU", 4}}, {{"CPU", 1}});
  AddNode(&view, "A", {{"CPU", 4}}, {{"CPU", 3}});
  AddNode(&view, "B", {{"CPU", 4}}, {{"CPU", 1}});
  EXPECT_EQ(policy.Pick(view, Cpu(1)).node, Node("L"));  // 25 % busy
  AddNode(&view, "L", {{"CPU", 4}}, {{"CPU", 3}});       // 75 % busy: B is less loaded
  EXPECT_EQ(policy.Pick(view, Cpu(1)).node, Node("B"));
  AddNode(&view, "L", {{"CPU", 4}}, {{"CPU", 4}});  // full
  EXPECT_EQ(policy.Pick(view, Cpu(1)).node, Node("B"));
  // Nobody has room: wait here, where it can run one day.
  AddNode(&view, "A", {{"CPU", 4}}, {{"CPU", 4}});
  AddNode(&view, "B", {{"CPU", 4}}, {{"CPU", 4}});
  Placement p = policy.Pick(view, Cpu(2));
  EXPECT_EQ(p.node, Node("L"));
  EXPECT_TRUE(p.feasible);
  // No node can ever run 8 CPUs: infeasible, it waits at the asking node.
  p = policy.Pick(view, Cpu(8));
  EXPECT_FALSE(p.feasible);
  EXPECT_EQ(p.node, Node("L"));
  EXPECT_TRUE(p.error.empty());
}

TEST(PolicyTest, AtTheGcsHybridIsTheLeastLoadedNodeWithRoom) {
  SchedulingPolicy policy;
  ClusterView view;
  AddNode(&view, "A", {{"CPU", 4}}, {{"CPU", 2}});
  AddNode(&view, "B", {{"CPU", 4}}, {{"CPU", 1}});
  AddNode(&view, "C", {{"CPU", 2}, {"GPU", 1}}, {{"CPU", 2}});
  EXPECT_EQ(policy.Pick(view, Cpu(1, NodeId())).node, Node("B"));
  SchedulingRequest gpu{.resources = Res({{"GPU", 1}})};
  EXPECT_EQ(policy.Pick(view, gpu).node, Node("C"));  // full on CPU, but it has the GPU
  SchedulingRequest big{.resources = Res({{"CPU", 16}})};
  Placement p = policy.Pick(view, big);
  EXPECT_FALSE(p.feasible);
  EXPECT_TRUE(p.node.IsNil());
}

TEST(PolicyTest, HybridPrefersTheArgumentsNode) {
  SchedulingPolicy policy;
  ClusterView view;
  AddNode(&view, "L", {{"CPU", 4}});
  AddNode(&view, "A", {{"CPU", 4}}, {{"CPU", 3}});
  SchedulingRequest r = Cpu(1);
  r.preferred = Node("A");
  Placement p = policy.Pick(view, r);
  EXPECT_EQ(p.node, Node("A"));  // its raylet decides with its fresh numbers
  EXPECT_TRUE(p.near_arguments);
  r.resources = Res({{"CPU", 8}});  // A can never run it
  EXPECT_FALSE(policy.Pick(view, r).near_arguments);
}

TEST(PolicyTest, SpreadRoundRobinsOverNodesWithRoom) {
  SchedulingPolicy policy;
  ClusterView view;
  AddNode(&view, "A", {{"CPU", 2}});
  AddNode(&view, "B", {{"CPU", 2}});
  AddNode(&view, "C", {{"CPU", 2}}, {{"CPU", 2}});  // full: skipped while others have room
  SchedulingRequest r = Cpu(1, NodeId());
  r.strategy = Kind(proto::SchedulingStrategy::SPREAD);
  std::map<NodeId, int> count;
  for (int i = 0; i < 10; ++i) ++count[policy.Pick(view, r).node];
  EXPECT_EQ(count[Node("A")], 5);
  EXPECT_EQ(count[Node("B")], 5);
}

TEST(PolicyTest, NodeAffinityHardFailsSoftFallsBack) {
  SchedulingPolicy policy;
  ClusterView view;
  AddNode(&view, "L", {{"CPU", 4}});
  AddNode(&view, "A", {{"CPU", 1}});
  SchedulingRequest r = Cpu(2);
  r.strategy = Kind(proto::SchedulingStrategy::NODE_AFFINITY);
  r.strategy.set_node_id(Node("A").Binary());
  Placement p = policy.Pick(view, r);
  EXPECT_NE(p.error.find("can never provide the requested resources"), std::string::npos);
  r.strategy.set_soft(true);
  p = policy.Pick(view, r);
  EXPECT_TRUE(p.error.empty());
  EXPECT_EQ(p.node, Node("L"));
  // A node nobody has seen yet: wait for the next view.
  std::set<NodeId> known = {Node("L"), Node("A")};
  r.strategy.set_soft(false);
  r.strategy.set_node_id(Node("N").Binary());
  r.known = &known;
  p = policy.Pick(view, r);
  EXPECT_TRUE(p.wait_for_view);
  known.insert(Node("N"));  // seen, and gone: an error
  p = policy.Pick(view, r);
  EXPECT_FALSE(p.wait_for_view);
  EXPECT_NE(p.error.find("is not alive"), std::string::npos);
}

TEST(PolicyTest, LabelSelectorNarrowsTheNodes) {
  SchedulingPolicy policy;
  ClusterView view;
  AddNode(&view, "L", {{"CPU", 4}}, {}, {{"zone", "a"}});
  AddNode(&view, "A", {{"CPU", 4}}, {}, {{"zone", "b"}, {"disk", "ssd"}});
  AddNode(&view, "B", {{"CPU", 4}}, {}, {{"zone", "c"}});
  SchedulingRequest r = Cpu(1);
  (*r.strategy.mutable_label_selector())["zone"] = "b";
  EXPECT_EQ(policy.Pick(view, r).node, Node("A"));
  (*r.strategy.mutable_label_selector())["zone"] = "!in(a,b)";
  EXPECT_EQ(policy.Pick(view, r).node, Node("B"));
  (*r.strategy.mutable_label_selector())["disk"] = "ssd";  // zone not a or b, and ssd: none
  Placement p = policy.Pick(view, r);
  EXPECT_FALSE(p.feasible);
  EXPECT_EQ(p.error, "no alive node has labels matching {disk: ssd, zone: !in(a,b)}");
}

TEST(PolicyTest, PlacementGroupRequestsGoWhereTheirBundlesAre) {
  SchedulingPolicy policy;
  const PlacementGroupId g = NewPlacementGroupId(JobIdFromInt(1));
  ClusterView view;
  AddNode(&view, "L", {{"CPU", 4}});
  NodeView a;
  a.id = Node("A");
  a.total = Res({{"CPU", 4}});
  a.total.Add(CommittedBundle(Res({{"CPU", 2}}), g, 0));
  a.available = a.total;
  a.available.Subtract(Res({{"CPU", 2}}));  // the reservation
  view.Upsert(a);
  SchedulingRequest r = Cpu(1);
  r.resources = GroupScoped(Res({{"CPU", 1}}), g, 0);
  r.strategy = Kind(proto::SchedulingStrategy::PLACEMENT_GROUP);
  EXPECT_EQ(policy.Pick(view, r).node, Node("A"));     // though L is idle
  r.resources = GroupScoped(Res({{"CPU", 1}}), g, 1);  // no such bundle anywhere
  EXPECT_FALSE(policy.Pick(view, r).feasible);
}

TEST(LabelSelectorTest, FormsAndValidation) {
  Labels labels;
  labels["region"] = "us";
  auto sel = [](std::string k, std::string v) {
    Labels s;
    s[k] = v;
    return s;
  };
  EXPECT_TRUE(MatchesLabels(labels, sel("region", "us")));
  EXPECT_FALSE(MatchesLabels(labels, sel("region", "!us")));
  EXPECT_TRUE(MatchesLabels(labels, sel("region", "in(eu, us)")));
  EXPECT_FALSE(MatchesLabels(labels, sel("region", "!in(eu,us)")));
  EXPECT_TRUE(MatchesLabels(labels, sel("gpu", "!a100")));  // absent differs
  EXPECT_FALSE(MatchesLabels(labels, sel("gpu", "a100")));
  EXPECT_TRUE(ValidateLabelSelector(sel("region", "in(a,b)")).ok());
  EXPECT_EQ(ValidateLabelSelector(sel("region", "in(a,")).message(),
            "label selector: 'region: in(a,' is not one of value, !value, in(a,b), !in(a,b)");
  EXPECT_FALSE(ValidateLabelSelector(sel("", "x")).ok());
}

}  // namespace
}  // namespace moray::scheduling
