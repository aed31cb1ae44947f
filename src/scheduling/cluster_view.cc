#include "scheduling/cluster_view.h"

#include <algorithm>
#include <cmath>

#include "scheduling/group_resources.h"

namespace moray::scheduling {
ClusterView ClusterView::FromStatus(const proto::GetClusterStatusReply& status,
                                    const std::set<NodeId>& dead) {
  std::map<NodeId, const proto::NodeResourceReport*> reports;
  for (const auto& report : status.reports()) {
    reports[NodeId::FromBinary(report.node_id())] = &report;
  }
  ClusterView view;
  for (const auto& node : status.nodes()) {
    const NodeId id = NodeId::FromBinary(node.node_id());
    if (id.IsNil() || node.state() != proto::NODE_ALIVE || dead.contains(id)) continue;
    NodeView& v = view.nodes_[id];
    v.id = id;
    v.info = node;
    auto it = reports.find(id);
    if (it != reports.end() && !it->second->resources_total().empty()) {
      v.total = ParseResourceMap(it->second->resources_total());
      v.available = ParseResourceMap(it->second->resources_available());
    } else {
      v.total = ParseResourceMap(node.resources_total());
      v.available = v.total;
    }
  }
  return view;
}

void ClusterView::Upsert(NodeView node) {
  const NodeId id = node.id;
  nodes_[id] = std::move(node);
}

void ClusterView::Charge(const NodeId& id, const ResourceSet& request) {
  NodeView* node = FindMutable(id);
  if (!node) return;
  for (const auto& [name, units] : request.units()) {
    node->available.SetUnits(name, std::max<int64_t>(0, node->available.GetUnits(name) - units));
  }
}

const NodeView* ClusterView::Find(const NodeId& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

NodeView* ClusterView::FindMutable(const NodeId& id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

ResourceSet ParseResourceMap(const google::protobuf::Map<std::string, double>& map,
                             bool with_group_scoped) {
  ResourceSet set;
  for (const auto& [name, value] : map) {
    if (!(value > 0) || !std::isfinite(value)) continue;
    if (!with_group_scoped && IsGroupScoped(name)) continue;
    const double scaled = value * kResourceUnit;
    if (scaled > 9.0e18) continue;
    set.SetUnits(name, static_cast<int64_t>(std::llround(scaled)));
  }
  return set;
}

double Load(const NodeView& node) {
  double load = 0;
  for (const auto& [name, total] : node.total.units()) {
    if (total <= 0 || name == kMemory || name == "object_store_memory" || IsGroupScoped(name)) {
      continue;
    }
    const int64_t free = node.available.GetUnits(name);
    load = std::max(load, static_cast<double>(total - free) / static_cast<double>(total));
  }
  return load;
}

}  // namespace moray::scheduling
