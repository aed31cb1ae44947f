#include "raylet/cluster_scheduler.h"

namespace moray::raylet {

void ClusterScheduler::UpdateView(const proto::GetClusterStatusReply& view) {
  view_ = scheduling::ClusterView::FromStatus(view, dead_);
  known_.clear();
  for (const auto& node : view.nodes()) {
    const NodeId id = NodeId::FromBinary(node.node_id());
    known_.insert(id);
    if (id == local_) local_info_ = node;
  }
}

void ClusterScheduler::ForgetNode(const NodeId& node_id) {
  dead_.insert(node_id);
  view_.Remove(node_id);
}

void ClusterScheduler::Charge(const NodeId& node_id, const scheduling::ResourceSet& asked) {
  if (node_id != local_) view_.Charge(node_id, asked);
}

size_t ClusterScheduler::num_remote_nodes() const {
  return view_.nodes().size() - (view_.Find(local_) ? 1 : 0);
}

ClusterScheduler::Decision ClusterScheduler::Pick(const scheduling::ResourceSet& asked,
                                                  const proto::SchedulingStrategy& strategy,
                                                  const scheduling::ResourceSet& local_total,
                                                  const scheduling::ResourceSet& local_available,
                                                  const NodeId& preferred_node) {
  scheduling::NodeView local;
  local.id = local_;
  local.info = local_info_;
  local.total = local_total;
  local.available = local_available;
  view_.Upsert(std::move(local));
  const scheduling::Placement p = policy_.Pick(view_, {.resources = asked,
                                                       .strategy = strategy,
                                                       .local = local_,
                                                       .preferred = preferred_node,
                                                       .known = &known_});
  Decision d;
  d.error = p.error;
  d.wait_for_view = p.wait_for_view;
  d.near_arguments = p.near_arguments;
  if (p.error.empty() && !p.node.IsNil() && p.node != local_) {
    d.local = false;
    d.node = view_.Find(p.node)->info;
  }
  return d;
}

}  // namespace moray::raylet
