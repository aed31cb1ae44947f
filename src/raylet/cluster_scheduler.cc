#include "raylet/cluster_scheduler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/id.h"

namespace moray::raylet {
namespace {

constexpr double kEpsilon = 1e-9;
constexpr double kStayLocalBelow = 0.5;  // load under which DEFAULT keeps work here

bool IsMemory(const std::string& name) {
  return name == "memory" || name == "object_store_memory";
}

double Load(const ClusterScheduler::Resources& total, const ClusterScheduler::Resources& available) {
  double load = 0;
  for (const auto& [name, amount] : total) {
    if (amount <= 0 || IsMemory(name)) continue;
    auto it = available.find(name);
    double free = it == available.end() ? amount : it->second;
    load = std::max(load, (amount - free) / amount);
  }
  return load;
}

}  // namespace

bool FitsIn(const ClusterScheduler::Resources& asked, const ClusterScheduler::Resources& have) {
  for (const auto& [name, amount] : asked) {
    if (amount <= 0) continue;
    auto it = have.find(name);
    if (it == have.end() || it->second + kEpsilon < amount) return false;
  }
  return true;
}

void ClusterScheduler::UpdateView(const proto::GetClusterStatusReply& view) {
  std::map<NodeId, const proto::NodeResourceReport*> reports;
  for (const auto& report : view.reports()) reports[NodeId::FromBinary(report.node_id())] = &report;
  std::map<NodeId, Remote> remote;
  known_.clear();
  for (const auto& node : view.nodes()) known_.insert(NodeId::FromBinary(node.node_id()));
  for (const auto& node : view.nodes()) {
    const NodeId node_id = NodeId::FromBinary(node.node_id());
    if (node.state() != proto::NODE_ALIVE || node_id == local_ || dead_.contains(node_id)) {
      continue;
    }
    Remote& r = remote[node_id];
    r.info = node;
    auto it = reports.find(node_id);
    if (it != reports.end() && !it->second->resources_total().empty()) {
      r.total.insert(it->second->resources_total().begin(), it->second->resources_total().end());
      r.available.insert(it->second->resources_available().begin(),
                         it->second->resources_available().end());
    } else {  // not reported yet: its registered totals, all free
      r.total.insert(node.resources_total().begin(), node.resources_total().end());
      r.available = r.total;
    }
  }
  remote_ = std::move(remote);
}

void ClusterScheduler::ForgetNode(const NodeId& node_id) {
  dead_.insert(node_id);
  remote_.erase(node_id);
}

void ClusterScheduler::Charge(const NodeId& node_id, const Resources& asked) {
  auto it = remote_.find(node_id);
  if (it == remote_.end()) return;
  for (const auto& [name, amount] : asked) {
    auto have = it->second.available.find(name);
    if (have != it->second.available.end()) have->second = std::max(0.0, have->second - amount);
  }
}

std::vector<ClusterScheduler::Candidate> ClusterScheduler::Candidates(
    const Resources& local_total, const Resources& local_available) const {
  std::vector<Candidate> nodes;
  nodes.push_back({local_, nullptr, &local_total, &local_available});
  for (const auto& [id, r] : remote_) nodes.push_back({id, &r.info, &r.total, &r.available});
  return nodes;
}

ClusterScheduler::Decision ClusterScheduler::To(const Candidate& c) const {
  Decision d;
  d.local = c.info == nullptr;
  if (c.info) d.node = *c.info;
  return d;
}

const ClusterScheduler::Candidate* ClusterScheduler::LeastLoaded(
    const std::vector<Candidate>& nodes, const Resources& asked, bool free_now) {
  const Candidate* best = nullptr;
  double best_load = 2;
  for (const auto& c : nodes) {
    if (!FitsIn(asked, free_now ? *c.available : *c.total)) continue;
    double load = Load(*c.total, *c.available);
    if (load + kEpsilon < best_load) {
      best = &c;
      best_load = load;
    }
  }
  return best;
}

ClusterScheduler::Decision ClusterScheduler::Default(const Resources& asked,
                                                     const std::vector<Candidate>& nodes,
                                                     const NodeId& preferred_node) const {
  // Where the arguments are, if that node has room: saves moving them. Whether another node
  // has room is its own raylet's call: this view of it may be a second old, so the request goes
  // there to be decided with its fresh resources (it runs it or places it as usual).
  for (const auto& c : nodes) {
    if (c.node_id != preferred_node || preferred_node.IsNil()) continue;
    if (c.info) {
      if (!FitsIn(asked, *c.total)) break;  // can never run it there
      Decision d = To(c);
      d.near_arguments = true;
      return d;
    }
    if (FitsIn(asked, *c.available) && Load(*c.total, *c.available) < kStayLocalBelow) {
      return To(c);
    }
  }
  const Candidate& local = nodes.front();
  const bool local_free = FitsIn(asked, *local.available);
  const double local_load = Load(*local.total, *local.available);
  if (local_free && local_load < kStayLocalBelow) return To(local);
  // The least-loaded node with the resources free (this one wins ties).
  if (const Candidate* best = LeastLoaded(nodes, asked, /*free_now=*/true)) return To(*best);
  // Nobody has them free now: wait where it can ever run, here first.
  if (FitsIn(asked, *local.total)) return To(local);
  const Candidate* best = LeastLoaded(nodes, asked, /*free_now=*/false);
  return To(best ? *best : local);  // infeasible everywhere: stays here, visible as a demand
}

ClusterScheduler::Decision ClusterScheduler::Pick(const Resources& asked,
                                                  const proto::SchedulingStrategy& strategy,
                                                  const Resources& local_total,
                                                  const Resources& local_available,
                                                  const NodeId& preferred_node) {
  std::vector<Candidate> nodes = Candidates(local_total, local_available);
  switch (strategy.kind()) {
    case proto::SchedulingStrategy::NODE_AFFINITY: {
      std::string problem = "is not alive (dead, or not part of this cluster)";
      const NodeId wanted = NodeId::FromBinary(strategy.node_id());
      for (const auto& c : nodes) {
        if (c.node_id != wanted) continue;
        if (FitsIn(asked, *c.total)) return To(c);
        problem = "can never provide the requested resources";
      }
      if (strategy.soft()) return Default(asked, nodes, preferred_node);
      Decision d;
      if (!known_.contains(wanted) && wanted != local_) {
        d.wait_for_view = true;
      }
      d.error = absl::StrCat("node affinity: node ", wanted.Hex(), " ", problem);
      return d;
    }
    case proto::SchedulingStrategy::SPREAD: {
      std::vector<const Candidate*> free, feasible;
      for (const auto& c : nodes) {
        if (FitsIn(asked, *c.available)) free.push_back(&c);
        if (FitsIn(asked, *c.total)) feasible.push_back(&c);
      }
      const auto& pool = !free.empty() ? free : feasible;
      if (pool.empty()) return To(nodes.front());
      return To(*pool[spread_next_++ % pool.size()]);
    }
    default:
      return Default(asked, nodes, preferred_node);
  }
}

}  // namespace moray::raylet
