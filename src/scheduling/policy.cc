#include "scheduling/policy.h"

#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scheduling/label_selector.h"

namespace moray::scheduling {
namespace {

using Nodes = std::vector<const NodeView*>;

bool HasRoom(const NodeView& n, const ResourceSet& r) { return n.available.Contains(r); }
bool CanEverRun(const NodeView& n, const ResourceSet& r) { return n.total.Contains(r); }

// The least loaded of `nodes` passing `ok`; `first` (may be null) wins ties.
const NodeView* LeastLoaded(const Nodes& nodes, const NodeView* first,
                            const std::function<bool(const NodeView&)>& ok) {
  const NodeView* best = nullptr;
  double best_load = 0;
  auto consider = [&](const NodeView* n) {
    if (!n || !ok(*n)) return;
    const double load = Load(*n);
    if (!best || load < best_load) {
      best = n;
      best_load = load;
    }
  };
  consider(first);
  for (const NodeView* n : nodes) consider(n);
  return best;
}

const NodeView* In(const Nodes& nodes, const NodeId& id) {
  if (id.IsNil()) return nullptr;
  for (const NodeView* n : nodes) {
    if (n->id == id) return n;
  }
  return nullptr;
}

Placement At(const NodeView& n) {
  Placement p;
  p.node = n.id;
  return p;
}

Placement Infeasible(const SchedulingRequest& request) {
  Placement p;
  p.node = request.local;
  p.feasible = false;
  return p;
}

Placement Hybrid(const Nodes& nodes, const SchedulingRequest& request) {
  const ResourceSet& asked = request.resources;
  if (const NodeView* preferred = In(nodes, request.preferred)) {
    if (preferred->id != request.local) {
      if (CanEverRun(*preferred, asked)) {
        Placement p = At(*preferred);
        p.near_arguments = true;
        return p;
      }
    } else if (HasRoom(*preferred, asked) && Load(*preferred) < kStayLocalBelow) {
      return At(*preferred);
    }
  }
  const NodeView* local = In(nodes, request.local);
  if (local && HasRoom(*local, asked) && Load(*local) < kStayLocalBelow) return At(*local);
  if (const NodeView* n =
          LeastLoaded(nodes, local, [&](const NodeView& v) { return HasRoom(v, asked); })) {
    return At(*n);
  }
  // Nobody has room now: wait where it can ever run, the asking node first.
  if (local && CanEverRun(*local, asked)) return At(*local);
  if (const NodeView* n =
          LeastLoaded(nodes, nullptr, [&](const NodeView& v) { return CanEverRun(v, asked); })) {
    return At(*n);
  }
  return Infeasible(request);
}

Placement Spread(const Nodes& nodes, const SchedulingRequest& request, size_t* cursor) {
  Nodes room, feasible;
  for (const NodeView* n : nodes) {
    if (HasRoom(*n, request.resources)) room.push_back(n);
    if (CanEverRun(*n, request.resources)) feasible.push_back(n);
  }
  const Nodes& pool = !room.empty() ? room : feasible;
  if (pool.empty()) return Infeasible(request);
  return At(*pool[(*cursor)++ % pool.size()]);
}

}  // namespace

Placement SchedulingPolicy::Pick(const ClusterView& view, const SchedulingRequest& request) {
  const auto& strategy = request.strategy;
  Nodes nodes;
  for (const auto& [id, node] : view.nodes()) {
    if (MatchesLabels(node.info.labels(), strategy.label_selector())) nodes.push_back(&node);
  }
  if (nodes.empty() && !strategy.label_selector().empty()) {
    Placement p = Infeasible(request);
    p.error = absl::StrCat("no alive node has labels matching ",
                           DescribeSelector(strategy.label_selector()));
    return p;
  }
  switch (strategy.kind()) {
    case proto::SchedulingStrategy::NODE_AFFINITY: {
      const NodeId wanted = NodeId::FromBinary(strategy.node_id());
      std::string problem = "is not alive (dead, or not part of this cluster)";
      if (const NodeView* n = In(nodes, wanted)) {
        if (CanEverRun(*n, request.resources)) return At(*n);
        problem = "can never provide the requested resources";
      } else if (view.Find(wanted)) {
        problem = absl::StrCat("does not match the label selector ",
                               DescribeSelector(strategy.label_selector()));
      }
      if (strategy.soft()) return Hybrid(nodes, request);
      Placement p;
      p.feasible = false;
      p.wait_for_view = !view.Find(wanted) && request.known && !request.known->contains(wanted);
      p.error = absl::StrCat("node affinity: node ", wanted.Hex(), " ", problem);
      return p;
    }
    case proto::SchedulingStrategy::SPREAD:
      return Spread(nodes, request, &spread_next_);
    default:  // DEFAULT, PLACEMENT_GROUP (group-scoped resources)
      return Hybrid(nodes, request);
  }
}

}  // namespace moray::scheduling
