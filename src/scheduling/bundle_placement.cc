#include "scheduling/bundle_placement.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace moray::scheduling {
namespace {

// The nodes as the placement sees them while it assigns: room left and the group's bundles.
struct Slot {
  NodeView node;  // `available` is the room left (free now, or the total when testing feasibility)
  int group_bundles = 0;
};
using Slots = std::map<NodeId, Slot>;

int64_t Size(const ResourceSet& r) {
  int64_t size = 0;
  for (const auto& [name, units] : r.units()) size += units;
  return size;
}

// `bundles` largest first (then by index), so big ones are placed while there is most room.
std::vector<const BundleToPlace*> LargestFirst(const std::vector<BundleToPlace>& bundles) {
  std::vector<const BundleToPlace*> order;
  for (const auto& b : bundles) order.push_back(&b);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return Size(a->resources) > Size(b->resources);
  });
  return order;
}

// The slot passing `ok` that `better` ranks first (ties: node id order).
Slot* Best(Slots& slots, const std::function<bool(const Slot&)>& ok,
           const std::function<bool(const Slot&, const Slot&)>& better) {
  Slot* best = nullptr;
  for (auto& [id, slot] : slots) {
    if (ok(slot) && (!best || better(slot, *best))) best = &slot;
  }
  return best;
}

bool LessLoaded(const Slot& a, const Slot& b) { return Load(a.node) < Load(b.node); }

void Take(Slot& slot, const BundleToPlace& b, BundleNodes* out) {
  slot.node.available.Subtract(b.resources);
  ++slot.group_bundles;
  (*out)[b.index] = slot.node.id;
}

std::optional<BundleNodes> StrictPack(Slots& slots, const std::vector<BundleToPlace>& bundles,
                                      const BundleNodes& fixed) {
  ResourceSet all;
  for (const auto& b : bundles) all.Add(b.resources);
  Slot* slot = Best(
      slots,
      [&](const Slot& s) {
        return s.node.available.Contains(all) && (fixed.empty() || s.group_bundles > 0);
      },
      LessLoaded);
  if (!slot) return std::nullopt;
  BundleNodes out;
  for (const auto& b : bundles) Take(*slot, b, &out);
  return out;
}

std::optional<BundleNodes> Pack(Slots& slots, const std::vector<BundleToPlace>& bundles,
                                const BundleNodes& fixed) {
  if (auto together = StrictPack(slots, bundles, fixed)) return together;
  BundleNodes out;
  for (const BundleToPlace* b : LargestFirst(bundles)) {
    Slot* slot = Best(
        slots, [&](const Slot& s) { return s.node.available.Contains(b->resources); },
        [](const Slot& a, const Slot& c) {
          if (a.group_bundles != c.group_bundles) return a.group_bundles > c.group_bundles;
          return LessLoaded(a, c);
        });
    if (!slot) return std::nullopt;
    Take(*slot, *b, &out);
  }
  return out;
}

std::optional<BundleNodes> Spread(Slots& slots, const std::vector<BundleToPlace>& bundles) {
  BundleNodes out;
  for (const BundleToPlace* b : LargestFirst(bundles)) {
    Slot* slot = Best(
        slots, [&](const Slot& s) { return s.node.available.Contains(b->resources); },
        [](const Slot& a, const Slot& c) {
          if (a.group_bundles != c.group_bundles) return a.group_bundles < c.group_bundles;
          return LessLoaded(a, c);
        });
    if (!slot) return std::nullopt;
    Take(*slot, *b, &out);
  }
  return out;
}

// A distinct node per bundle: bipartite matching by augmenting paths (groups are small), nodes
// tried least loaded first.
std::optional<BundleNodes> StrictSpread(Slots& slots, const std::vector<BundleToPlace>& bundles) {
  std::vector<Slot*> order;
  for (auto& [id, slot] : slots) {
    if (slot.group_bundles == 0) order.push_back(&slot);  // not holding a fixed bundle
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Slot* a, const Slot* b) { return LessLoaded(*a, *b); });
  std::vector<int> holder(order.size(), -1);  // node position -> bundle position
  std::function<bool(size_t, std::vector<bool>&)> assign = [&](size_t bundle,
                                                               std::vector<bool>& seen) {
    for (size_t n = 0; n < order.size(); ++n) {
      if (seen[n] || !order[n]->node.available.Contains(bundles[bundle].resources)) continue;
      seen[n] = true;
      if (holder[n] < 0 || assign(static_cast<size_t>(holder[n]), seen)) {
        holder[n] = static_cast<int>(bundle);
        return true;
      }
    }
    return false;
  };
  for (size_t b = 0; b < bundles.size(); ++b) {
    std::vector<bool> seen(order.size(), false);
    if (!assign(b, seen)) return std::nullopt;
  }
  BundleNodes out;
  for (size_t n = 0; n < order.size(); ++n) {
    if (holder[n] >= 0) Take(*order[n], bundles[holder[n]], &out);
  }
  return out;
}

std::optional<BundleNodes> Assign(const ClusterView& view,
                                  const std::vector<BundleToPlace>& bundles,
                                  proto::PlacementStrategy strategy, const BundleNodes& fixed,
                                  bool idle) {
  Slots slots;
  for (const auto& [id, node] : view.nodes()) {
    Slot& slot = slots[id];
    slot.node = node;
    if (idle) slot.node.available = node.total;
  }
  for (const auto& [index, node_id] : fixed) {
    auto it = slots.find(node_id);
    if (it != slots.end()) ++it->second.group_bundles;
  }
  switch (strategy) {
    case proto::STRICT_PACK:
      return StrictPack(slots, bundles, fixed);
    case proto::SPREAD:
      return Spread(slots, bundles);
    case proto::STRICT_SPREAD:
      return StrictSpread(slots, bundles);
    default:
      return Pack(slots, bundles, fixed);
  }
}

std::string Describe(const std::vector<BundleToPlace>& bundles, proto::PlacementStrategy strategy) {
  return absl::StrCat(proto::PlacementStrategy_Name(strategy), " of ", bundles.size(),
                      bundles.size() == 1 ? " bundle " : " bundles ",
                      absl::StrJoin(bundles, ", ", [](std::string* out, const BundleToPlace& b) {
                        absl::StrAppend(out, b.resources.DebugString());
                      }));
}

}  // namespace

absl::StatusOr<BundleNodes> PlaceBundles(const ClusterView& view,
                                         const std::vector<BundleToPlace>& bundles,
                                         proto::PlacementStrategy strategy,
                                         const BundleNodes& fixed) {
  if (bundles.empty()) return absl::InvalidArgumentError("no bundles to place");
  if (auto now = Assign(view, bundles, strategy, fixed, /*idle=*/false)) return *now;
  if (Assign(view, bundles, strategy, fixed, /*idle=*/true)) {
    return absl::UnavailableError(absl::StrCat("no room now for ", Describe(bundles, strategy),
                                               " on ", view.nodes().size(),
                                               view.nodes().size() == 1 ? " node" : " nodes"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "infeasible: ", Describe(bundles, strategy), " do not fit the ", view.nodes().size(),
      view.nodes().size() == 1 ? " alive node" : " alive nodes", " even when idle"));
}

}  // namespace moray::scheduling
