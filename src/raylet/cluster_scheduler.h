// ClusterScheduler: which node should run a lease request — the raylet's side of the cluster's
// one placement policy (scheduling::SchedulingPolicy, docs/scheduling.md). The raylet asks it
// before queueing a request locally; a request for another node is answered with spillback (the
// requester asks that node's raylet). It decides from the cluster view the GCS returns for each
// of this raylet's resource reports (so at least once a second, and 50 ms after a local change),
// with this node's own, always fresh, resources put in.
//
//   ClusterScheduler scheduler(local_node_id);
//   scheduler.UpdateView(cluster);                        // from the GCS
//   auto d = scheduler.Pick(asked, strategy, total, available, preferred_node);
//   if (!d.error.empty()) reject; else if (d.local) queue here; else spill to d.node
//
// A request no node can ever run stays here (an infeasible demand in this node's reports).
//
// Thread model: the raylet's event loop only.
#pragma once

#include <set>
#include <string>

#include "common/id.h"
#include "gcs.pb.h"
#include "scheduling/cluster_view.h"
#include "scheduling/policy.h"
#include "scheduling/resource_set.h"

namespace moray::raylet {

class ClusterScheduler {
 public:
  struct Decision {
    bool local = true;
    proto::NodeInfo node;  // when !local: where to send the request
    std::string error;     // non-empty: the request cannot be placed (hard affinity, labels)
    // Hard affinity to a node the view does not know yet (neither alive nor dead): it may have
    // just joined; decide again after the next view.
    bool wait_for_view = false;
    // `node` holds the task's arguments: its raylet decides whether it has room (the request
    // goes there unspilled, so it may still place it elsewhere).
    bool near_arguments = false;
  };

  explicit ClusterScheduler(NodeId local_node_id) : local_(local_node_id) {}

  void UpdateView(const proto::GetClusterStatusReply& view);
  // The GCS declared the node dead (NODE_DIED): no longer a candidate, ahead of the next view
  // and whatever a view sent before its death says.
  void ForgetNode(const NodeId& node_id);
  // Every node declared dead by NODE_DIED, which stays dead whatever a late view says.
  const std::set<NodeId>& declared_dead() const { return dead_; }
  // A request for `asked` was sent to remote node `node_id`: until the next view, its resources
  // count as taken there, so requests placed meanwhile do not all pick the same free node.
  void Charge(const NodeId& node_id, const scheduling::ResourceSet& asked);
  // `preferred_node` (may be nil): the node holding the task's arguments.
  Decision Pick(const scheduling::ResourceSet& asked, const proto::SchedulingStrategy& strategy,
                const scheduling::ResourceSet& local_total,
                const scheduling::ResourceSet& local_available,
                const NodeId& preferred_node = NodeId());
  // Alive nodes in the view other than this one (tests, status).
  size_t num_remote_nodes() const;

 private:
  const NodeId local_;
  scheduling::ClusterView view_;  // alive nodes; this one's resources are set at each Pick
  proto::NodeInfo local_info_;    // this node as the view has it (labels)
  std::set<NodeId> known_;        // every node id in the view, alive or dead
  std::set<NodeId> dead_;         // declared dead by NODE_DIED
  scheduling::SchedulingPolicy policy_;
};

}  // namespace moray::raylet
