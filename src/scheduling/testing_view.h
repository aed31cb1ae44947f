// Views for the scheduling tests: nodes named "A", "B", ... with given resources.
#pragma once

#include <map>
#include <string>

#include "common/testing/named_ids.h"
#include "scheduling/cluster_view.h"

namespace moray::scheduling::testing {

inline NodeId Node(std::string_view name) { return moray::testing::NamedId<NodeId>(name); }

inline ResourceSet Res(const std::map<std::string, double>& map) {
  return *ResourceSet::FromMap(map);
}

// Adds node `name` with `total`, of which `used` is taken, and `labels`.
inline void AddNode(ClusterView* view, std::string_view name,
                    const std::map<std::string, double>& total,
                    const std::map<std::string, double>& used = {},
                    const std::map<std::string, std::string>& labels = {}) {
  NodeView node;
  node.id = Node(name);
  node.info.set_node_id(node.id.Binary());
  node.info.set_node_name(std::string(name));
  for (const auto& [k, v] : labels) (*node.info.mutable_labels())[k] = v;
  node.total = Res(total);
  node.available = node.total;
  node.available.Subtract(Res(used));
  view->Upsert(std::move(node));
}

}  // namespace moray::scheduling::testing
