// ClusterView: what a placement decision looks at — per alive node its address and labels, and
// its total and available resources. The GCS builds one from its tables for each decision; a
// raylet keeps one from the view the GCS answers its reports with, and puts its own fresh
// resources in before deciding.
//
//   ClusterView view = ClusterView::FromStatus(gcs_status);
//   view.Upsert(local_node);                    // a raylet's own resources, always fresh
//   view.Charge(node_id, request);              // sent there: taken until the next view
//
// Thread model: a value type.
#pragma once

#include <map>
#include <set>

#include "common/id.h"
#include "gcs.pb.h"
#include "scheduling/resource_set.h"

namespace moray::scheduling {

struct NodeView {
  NodeId id;
  proto::NodeInfo info;  // address, labels
  ResourceSet total;
  ResourceSet available;
};

class ClusterView {
 public:
  // The alive nodes of `status` that are not in `dead`, each with its last report's resources
  // (or, not reported yet, its registered totals, all free).
  static ClusterView FromStatus(const proto::GetClusterStatusReply& status,
                                const std::set<NodeId>& dead = {});

  void Upsert(NodeView node);
  void Remove(const NodeId& id) { nodes_.erase(id); }
  // Counts `request` as taken on `id` (until the next view), never below zero.
  void Charge(const NodeId& id, const ResourceSet& request);

  const NodeView* Find(const NodeId& id) const;
  NodeView* FindMutable(const NodeId& id);
  // Alive nodes by id (a stable order for ties).
  const std::map<NodeId, NodeView>& nodes() const { return nodes_; }
  bool empty() const { return nodes_.empty(); }

 private:
  std::map<NodeId, NodeView> nodes_;
};

// The quantities of a message's resource map (entries that are negative, NaN or not a multiple of
// 0.0001 are left out: a view is advisory, the node's raylet checks again); without the
// group-scoped names of placement-group bundles unless `with_group_scoped`.
ResourceSet ParseResourceMap(const google::protobuf::Map<std::string, double>& map,
                             bool with_group_scoped = true);

// How busy a node is: the largest used share of any resource it has (CPU, GPU, custom), leaving
// out memory, object store memory and group-scoped resources. 0 idle, 1 full.
double Load(const NodeView& node);

}  // namespace moray::scheduling
