// SchedulingPolicy: which node runs a task or hosts an actor — the one placement policy of the
// cluster, used by the raylet for tasks and by the GCS for actors (docs/scheduling.md). Pure:
// it decides from a ClusterView and the request, nothing else (SPREAD's round-robin cursor is its
// only state).
//
//   SchedulingPolicy policy;
//   Placement p = policy.Pick(view, {.resources = asked, .strategy = spec.scheduling_strategy(),
//                                    .local = my_node});
//   if (!p.error.empty()) fail; else if (p.node == my_node) queue here; else send to p.node
//
// Strategies (proto::SchedulingStrategy::kind), after the label selector has narrowed the nodes:
// - DEFAULT (hybrid): the arguments' node (`preferred`) while it has room and is under half busy
//   — a remote one is only told the request (`near_arguments`): its raylet decides with its fresh
//   resources; else the asking node (`local`) while it has room and is under half busy; else the
//   least-loaded node with room (the asking node wins ties); else wait where it can ever run (the
//   asking node first, then the least loaded); else infeasible.
// - SPREAD: round-robin over the nodes with room, else over those that can ever run it.
// - NODE_AFFINITY: the node, if alive and it can ever run the request; otherwise an error
//   (hard; `wait_for_view` when the node is not known yet) or DEFAULT (soft).
// - PLACEMENT_GROUP: the request's resources are the group-scoped ones, so DEFAULT over the
//   nodes that hold the group's bundles.
// Infeasible (no node can ever run it): `feasible` is false and the request waits at `local`
// (a raylet shows it as an infeasible demand), or at the GCS with no node.
//
// Thread model: not thread-safe (the cursor); one per scheduler.
#pragma once

#include <cstddef>
#include <set>
#include <string>

#include "common.pb.h"
#include "common/id.h"
#include "scheduling/cluster_view.h"
#include "scheduling/resource_set.h"

namespace moray::scheduling {

inline constexpr double kStayLocalBelow = 0.5;  // load under which DEFAULT keeps work where it is

struct SchedulingRequest {
  ResourceSet resources;
  proto::SchedulingStrategy strategy;
  NodeId local;      // the node asking (a raylet's own); nil at the GCS
  NodeId preferred;  // DEFAULT: the node holding most of the arguments; may be nil
  // Every node ever seen alive or dead (for hard affinity: a node not known yet may have just
  // joined, so the caller waits for the next view instead of failing).
  const std::set<NodeId>* known = nullptr;
};

struct Placement {
  NodeId node;                  // where to run or wait; nil: nowhere (the GCS has no node)
  bool feasible = true;         // false: no node can ever run it as asked
  bool near_arguments = false;  // `node` holds the arguments; its raylet decides
  bool wait_for_view = false;   // hard affinity to a node not in the view yet
  std::string error;            // non-empty: cannot be placed (hard affinity, label selector)
};

class SchedulingPolicy {
 public:
  Placement Pick(const ClusterView& view, const SchedulingRequest& request);

 private:
  size_t spread_next_ = 0;
};

}  // namespace moray::scheduling
