// Group-scoped resources: how a placement group's committed bundles become resources only its
// own tasks and actors can use (docs/scheduling.md).
//
// Committing bundle i of group G (hex id) with {CPU: 2} on a node takes CPU: 2 from the node's
// available set and adds {CPU_group_i_G: 2, CPU_group_G: 2, bundle_group_i_G: 1000,
// bundle_group_G: 1000}. A request {CPU: 1} in bundle i asks {CPU_group_i_G: 1, CPU_group_G: 1,
// bundle_group_i_G: 0.001, bundle_group_G: 0.001}; in any bundle (index -1) only the _group_G
// names. So a zero-resource actor still needs one of the group's nodes, and the ordinary fit test
// and queues do the rest.
//
//   ResourceSet asked = GroupScoped(request, group_id, /*bundle_index=*/-1);
//   ResourceSet added = CommittedBundle(bundle, group_id, 0);
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/id.h"
#include "scheduling/resource_set.h"

namespace moray::scheduling {

inline constexpr char kBundleResource[] = "bundle";
inline constexpr int64_t kBundleMarkerUnits = 1000 * kResourceUnit;  // a bundle's marker: 10^6 requests
inline constexpr int64_t kBundleMarkerRequest = kResourceUnit / 1000;  // what one request takes

// The resources a request for `asked` in bundle `bundle_index` of `group` (-1: any bundle) asks.
ResourceSet GroupScoped(const ResourceSet& asked, const PlacementGroupId& group, int bundle_index);
// What committing bundle `index` (with `bundle` as asked) adds to its node's total and available.
ResourceSet CommittedBundle(const ResourceSet& bundle, const PlacementGroupId& group, int index);
// Whether a resource name is group-scoped (any group), and the group it belongs to.
bool IsGroupScoped(std::string_view name);
std::optional<PlacementGroupId> GroupOfResource(std::string_view name);

// A group-scoped name taken apart, for showing it to people: "CPU_group_2_<G>" is {"CPU", 2, G},
// "CPU_group_<G>" is {"CPU", -1, G}; the markers have resource kBundleResource.
struct GroupResourceName {
  std::string resource;
  int bundle_index = -1;  // -1: the wildcard name (any bundle of the group)
  PlacementGroupId group;
};
// nullopt for a name that is not group-scoped.
std::optional<GroupResourceName> ParseGroupResource(std::string_view name);
// The part of `set` that is not group-scoped, and the part that belongs to `group`.
ResourceSet WithoutGroupScoped(const ResourceSet& set);
ResourceSet OfGroup(const ResourceSet& set, const PlacementGroupId& group);

}  // namespace moray::scheduling
