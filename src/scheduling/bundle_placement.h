// PlaceBundles: which node reserves each bundle of a placement group (docs/scheduling.md). Pure:
// a function of the view, the bundles and the strategy.
//
//   auto nodes = PlaceBundles(view, {{0, cpu2}, {1, cpu2}}, proto::STRICT_SPREAD);
//   if (absl::IsUnavailable(nodes.status())) retry later;           // no room now
//   else if (absl::IsFailedPrecondition(nodes.status())) infeasible; // not even on idle nodes
//
// PACK: all on the least-loaded node that holds them together; else, bundle by bundle (largest
// first), on a node the group already uses if it has room, else the least-loaded one with room.
// SPREAD: bundle by bundle, the least-loaded node the group does not use yet, reusing nodes
// only when it must. STRICT_PACK: one node holds them all, or nothing. STRICT_SPREAD: a distinct
// node for each bundle (a matching: a bundle only some nodes can hold gets one of them), or
// nothing. `fixed` are bundles of the same group already placed (re-placing those a dead node
// took): STRICT_PACK must join their node, STRICT_SPREAD avoids theirs, PACK/SPREAD count them.
#pragma once

#include <map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "scheduling/cluster_view.h"
#include "scheduling/resource_set.h"

namespace moray::scheduling {

struct BundleToPlace {
  int index = 0;
  ResourceSet resources;
};
using BundleNodes = std::map<int, NodeId>;  // bundle index -> node

// Unavailable: they would fit the alive nodes' totals, not what is free now. FailedPrecondition:
// they do not fit even idle nodes (infeasible). InvalidArgument: no bundles.
absl::StatusOr<BundleNodes> PlaceBundles(const ClusterView& view,
                                         const std::vector<BundleToPlace>& bundles,
                                         proto::PlacementStrategy strategy,
                                         const BundleNodes& fixed = {});

}  // namespace moray::scheduling
