#include "scheduling/bundle_placement.h"

#include <set>

#include "gtest/gtest.h"
#include "scheduling/testing_view.h"

namespace moray::scheduling {
namespace {

using testing::AddNode;
using testing::Node;
using testing::Res;

std::vector<BundleToPlace> Cpus(std::vector<double> sizes) {
  std::vector<BundleToPlace> bundles;
  for (size_t i = 0; i < sizes.size(); ++i) {
    bundles.push_back({static_cast<int>(i), Res({{"CPU", sizes[i]}})});
  }
  return bundles;
}

std::set<NodeId> NodesOf(const BundleNodes& placed) {
  std::set<NodeId> nodes;
  for (const auto& [index, node] : placed) nodes.insert(node);
  return nodes;
}

ClusterView ThreeNodes(double a_used = 0, double b_used = 0, double c_used = 0) {
  ClusterView view;
  AddNode(&view, "A", {{"CPU", 4}}, {{"CPU", a_used}});
  AddNode(&view, "B", {{"CPU", 4}}, {{"CPU", b_used}});
  AddNode(&view, "C", {{"CPU", 4}}, {{"CPU", c_used}});
  return view;
}

TEST(BundlePlacementTest, PackPutsEverythingOnTheLeastLoadedNodeThatHoldsIt) {
  auto placed = PlaceBundles(ThreeNodes(1, 0, 2), Cpus({1, 1, 1}), proto::PACK);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(NodesOf(*placed), std::set<NodeId>{Node("B")});
  // Too big for one node: as few nodes as it takes.
  placed = PlaceBundles(ThreeNodes(), Cpus({3, 3, 1, 1}), proto::PACK);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(NodesOf(*placed).size(), 2u);
}

TEST(BundlePlacementTest, SpreadUsesDistinctNodesWhileItCanThenReuses) {
  auto placed = PlaceBundles(ThreeNodes(), Cpus({1, 1, 1}), proto::SPREAD);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(NodesOf(*placed).size(), 3u);
  placed = PlaceBundles(ThreeNodes(), Cpus({1, 1, 1, 1, 1}), proto::SPREAD);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(NodesOf(*placed).size(), 3u);  // five bundles on three nodes: allowed
}

TEST(BundlePlacementTest, StrictPackNeedsOneNodeForAll) {
  auto placed = PlaceBundles(ThreeNodes(0, 3, 3), Cpus({2, 2}), proto::STRICT_PACK);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(NodesOf(*placed), std::set<NodeId>{Node("A")});
  // 2+2 fit nowhere now, but would on an idle node: no room now.
  placed = PlaceBundles(ThreeNodes(1, 1, 1), Cpus({2, 2}), proto::STRICT_PACK);
  EXPECT_TRUE(absl::IsUnavailable(placed.status())) << placed.status();
  // 3+3: never on one 4-CPU node.
  placed = PlaceBundles(ThreeNodes(), Cpus({3, 3}), proto::STRICT_PACK);
  EXPECT_TRUE(absl::IsFailedPrecondition(placed.status())) << placed.status();
  EXPECT_EQ(placed.status().message(),
            "infeasible: STRICT_PACK of 2 bundles {CPU: 3}, {CPU: 3} do not fit the 3 alive "
            "nodes even when idle");
}

TEST(BundlePlacementTest, StrictSpreadMatchesBundlesToDistinctNodes) {
  auto placed = PlaceBundles(ThreeNodes(), Cpus({1, 1, 1}), proto::STRICT_SPREAD);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(NodesOf(*placed).size(), 3u);
  placed = PlaceBundles(ThreeNodes(), Cpus({1, 1, 1, 1}), proto::STRICT_SPREAD);
  EXPECT_TRUE(absl::IsFailedPrecondition(placed.status())) << placed.status();
  // Greedy would take the GPU node for the first bundle; a matching does not.
  ClusterView view;
  AddNode(&view, "A", {{"CPU", 4}, {"GPU", 1}});
  AddNode(&view, "B", {{"CPU", 4}});
  std::vector<BundleToPlace> bundles = {{0, Res({{"CPU", 1}})}, {1, Res({{"GPU", 1}})}};
  placed = PlaceBundles(view, bundles, proto::STRICT_SPREAD);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(placed->at(1), Node("A"));
  EXPECT_EQ(placed->at(0), Node("B"));
}

TEST(BundlePlacementTest, ReplacingLostBundlesRespectsThePlacedOnes) {
  // Bundle 0 stays on A; bundle 1 (lost with its node) must not join it under STRICT_SPREAD.
  std::vector<BundleToPlace> lost = {{1, Res({{"CPU", 1}})}};
  auto placed = PlaceBundles(ThreeNodes(0, 3, 2), lost, proto::STRICT_SPREAD, {{0, Node("A")}});
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(placed->at(1), Node("C"));
  placed = PlaceBundles(ThreeNodes(0, 0, 0), lost, proto::PACK, {{0, Node("B")}});
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(placed->at(1), Node("B"));  // joins the group's node
  placed = PlaceBundles(ThreeNodes(1, 0, 0), lost, proto::SPREAD, {{0, Node("B")}});
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(placed->at(1), Node("C"));  // a node the group does not use, least loaded
}

TEST(BundlePlacementTest, NoBundlesOrNoNodes) {
  EXPECT_TRUE(absl::IsInvalidArgument(PlaceBundles(ThreeNodes(), {}, proto::PACK).status()));
  EXPECT_TRUE(
      absl::IsFailedPrecondition(PlaceBundles(ClusterView(), Cpus({1}), proto::PACK).status()));
}

}  // namespace
}  // namespace moray::scheduling
