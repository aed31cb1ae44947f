// ClusterScheduler: which node should run a lease request (issue 5). The raylet asks it before
// queueing a request locally; a request for another node is answered with spillback (the
// requester asks that node's raylet). It decides from a cluster view the GCS returns for each of
// this raylet's resource reports (so at least once a second, and 50 ms after a local change) and
// from this node's own, always fresh, resources.
//
// Policies (proto::SchedulingStrategy):
// - DEFAULT: on the preferred node (the one holding the task's largest arguments) while it is
//   less than half busy and has the resources free — for another node that is decided there:
//   the request is sent to its raylet as a first placement (`near_arguments`), which runs it or
//   places it by these same rules with its own fresh resources; else stay local while this node
//   is less than half busy and has the resources free; else
//   the least-loaded node that has them free (this one on a tie); else, if none has them free,
//   wait here if this node can ever run it, or on the least-loaded node that can; if no node can
//   ever run it, here (where it shows as an infeasible demand).
// - SPREAD: round-robin over the nodes that have the resources free (else that can ever run it).
// - NODE_AFFINITY: on the given node if it is alive and can ever run it; otherwise an error
//   (hard) or DEFAULT (soft).
// Load is the busiest resource's used share (CPU, GPU, custom; memory excluded).
//
//   ClusterScheduler scheduler(local_node_id);
//   scheduler.UpdateView(cluster);                        // from the GCS
//   auto d = scheduler.Pick(asked, strategy, total, available, preferred_node);
//   if (!d.error.empty()) reject; else if (d.local) queue here; else spill to d.node
//
// Thread model: the raylet's event loop only.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/id.h"
#include "gcs.pb.h"

namespace moray::raylet {

class ClusterScheduler {
 public:
  using Resources = std::map<std::string, double>;
  struct Decision {
    bool local = true;
    proto::NodeInfo node;  // when !local: where to send the request
    std::string error;     // non-empty: the request cannot be placed (hard affinity)
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
  void Charge(const NodeId& node_id, const Resources& asked);
  // `preferred_node` (may be nil): DEFAULT's choice when it has room (see above).
  Decision Pick(const Resources& asked, const proto::SchedulingStrategy& strategy,
                const Resources& local_total, const Resources& local_available,
                const NodeId& preferred_node = NodeId());
  // Alive nodes in the view other than this one (tests, status).
  size_t num_remote_nodes() const { return remote_.size(); }

 private:
  struct Candidate {
    NodeId node_id;
    const proto::NodeInfo* info = nullptr;  // null for the local node
    const Resources* total = nullptr;
    const Resources* available = nullptr;
  };
  std::vector<Candidate> Candidates(const Resources& local_total,
                                    const Resources& local_available) const;
  Decision Default(const Resources& asked, const std::vector<Candidate>& nodes,
                   const NodeId& preferred_node) const;
  Decision To(const Candidate& c) const;
  // The least-loaded of `nodes` that has `asked` free now (or, !free_now, in total); the first
  // wins ties; nullptr if none.
  static const Candidate* LeastLoaded(const std::vector<Candidate>& nodes, const Resources& asked,
                                      bool free_now);

  const NodeId local_;
  struct Remote {
    proto::NodeInfo info;
    Resources total;
    Resources available;
  };
  std::map<NodeId, Remote> remote_;  // alive nodes other than this one
  std::set<NodeId> known_;           // every node id in the view, alive or dead
  std::set<NodeId> dead_;            // declared dead by NODE_DIED
  size_t spread_next_ = 0;
};

// Whether `have` holds at least `asked` of every resource.
bool FitsIn(const ClusterScheduler::Resources& asked, const ClusterScheduler::Resources& have);

}  // namespace moray::raylet
