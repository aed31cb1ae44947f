// The public placement-group functions (include/ray/api/placement_group.h): their checks, then
// the runtime. The checks live here, once, so every runtime gets the same errors.
#include "ray/api/placement_group.h"

#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/id.h"
#include "ray/api/ray_exception.h"
#include "ray/api/ray_runtime.h"
#include "scheduling/group_resources.h"
#include "scheduling/resource_set.h"

namespace ray {
namespace {

using moray::PlacementGroupId;
using moray::scheduling::ResourceSet;

std::string Quantity(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// The quoted name of a group for messages: "placement group 1f00… ('trainers')".
std::string Describe(const PlacementGroup& group) {
  std::string out = absl::StrCat("placement group ", group.GetID());
  if (!group.GetName().empty()) absl::StrAppend(&out, " ('", group.GetName(), "')");
  return out;
}

// The canonical (lower-case) hex of a placement group id; RayException unless it is one.
std::string CheckedId(const std::string& id, const char* function) {
  const std::optional<PlacementGroupId> parsed = PlacementGroupId::FromHex(id);
  if (!parsed || parsed->IsNil()) {
    throw RayException(absl::StrCat(function, ": '", id, "' is not a placement group id (",
                                    2 * PlacementGroupId::kSize,
                                    " hex digits, as PlacementGroup::GetID() gives it)"));
  }
  return parsed->Hex();
}

void ValidateBundle(size_t index, const std::unordered_map<std::string, double>& bundle) {
  const std::string where = absl::StrCat("CreatePlacementGroup: bundle ", index);
  if (bundle.empty()) {
    throw RayException(absl::StrCat(where, " is empty: every bundle must ask for some resource"));
  }
  bool asks_something = false;
  std::map<std::string, double> sorted;
  for (const auto& [name, value] : bundle) {
    if (name.empty()) {
      throw RayException(
          absl::StrCat(where, ": a resource name is empty (quantity ", Quantity(value), ")"));
    }
    if (moray::scheduling::IsGroupScoped(name)) {
      throw RayException(absl::StrCat(
          where, ": ", name, " is a placement group's resource, not one a bundle may ask"));
    }
    if (!(value >= 0) || std::isinf(value)) {
      throw RayException(absl::StrCat(where, ": resource ", name,
                                      " must be a non-negative finite quantity, got ",
                                      Quantity(value)));
    }
    asks_something = asks_something || value > 0;
    sorted[name] = value;
  }
  if (!asks_something) {
    throw RayException(absl::StrCat(where, " asks for nothing (every quantity is 0)"));
  }
  if (auto parsed = ResourceSet::FromMap(sorted); !parsed.ok()) {
    throw RayException(absl::StrCat(where, ": ", parsed.status().message()));
  }
}

void ValidateCreationOptions(const PlacementGroupCreationOptions& options) {
  switch (options.strategy) {
    case PlacementStrategy::PACK:
    case PlacementStrategy::SPREAD:
    case PlacementStrategy::STRICT_PACK:
    case PlacementStrategy::STRICT_SPREAD:
      break;
    default:
      throw RayException(absl::StrCat(
          "CreatePlacementGroup: strategy ", static_cast<int>(options.strategy),
          " is not a placement strategy (PACK, SPREAD, STRICT_PACK or STRICT_SPREAD)"));
  }
  if (options.bundles.empty()) {
    throw RayException("CreatePlacementGroup: a placement group needs at least one bundle");
  }
  for (size_t i = 0; i < options.bundles.size(); ++i) ValidateBundle(i, options.bundles[i]);
}

std::optional<ResourceSet> ToResourceSet(const std::unordered_map<std::string, double>& map) {
  auto parsed = ResourceSet::FromMap(std::map<std::string, double>(map.begin(), map.end()));
  if (!parsed.ok()) return std::nullopt;
  return *std::move(parsed);
}

}  // namespace

bool PlacementGroup::Wait(int timeout_seconds) {
  if (Empty()) throw RayException("PlacementGroup::Wait: the placement group is empty");
  if (timeout_seconds < 0) {
    throw RayException(absl::StrCat("PlacementGroup::Wait: timeout_seconds must be 0 or more, got ",
                                    timeout_seconds));
  }
  const PlacementGroupState state = internal::GetRuntime().WaitPlacementGroup(id_, timeout_seconds);
  if (state != UNRECOGNIZED) state_ = state;
  return state == CREATED;
}

PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options) {
  ValidateCreationOptions(options);
  return internal::GetRuntime().CreatePlacementGroup(options);
}

void RemovePlacementGroup(const std::string& placement_group_id) {
  internal::GetRuntime().RemovePlacementGroup(
      CheckedId(placement_group_id, "RemovePlacementGroup"));
}

PlacementGroup GetPlacementGroupById(const std::string& placement_group_id) {
  return internal::GetRuntime().GetPlacementGroupById(
      CheckedId(placement_group_id, "GetPlacementGroupById"));
}

PlacementGroup GetPlacementGroup(const std::string& name) { return GetPlacementGroup(name, ""); }

PlacementGroup GetPlacementGroup(const std::string& name, const std::string& ray_namespace) {
  if (name.empty()) throw RayException("GetPlacementGroup: the name must not be empty");
  return internal::GetRuntime().GetPlacementGroup(name, ray_namespace);
}

std::vector<PlacementGroup> GetAllPlacementGroups() {
  return internal::GetRuntime().GetAllPlacementGroups();
}

namespace internal {

void CheckPlacementGroupUse(const PlacementGroup& group, int bundle_index) {
  if (group.Empty()) {
    throw RayException(
        "SetPlacementGroup: the placement group is empty (default-constructed, or a lookup that "
        "found nothing)");
  }
  const int bundles = static_cast<int>(group.GetBundles().size());
  if (bundle_index < -1 || bundle_index >= bundles) {
    throw RayException(absl::StrCat(
        "SetPlacementGroup: bundle index ", bundle_index, " is out of range for ", Describe(group),
        " with ", bundles, " bundle(s): use 0 to ", bundles - 1, ", or -1 for any bundle"));
  }
  RayRuntime* runtime = GetRuntimeOrNull();
  if (group.GetState() == REMOVED || (runtime && runtime->IsPlacementGroupRemoved(group.GetID()))) {
    throw RayException(absl::StrCat("SetPlacementGroup: ", Describe(group), " was removed"));
  }
}

void CheckFitsInBundle(const PlacementGroup& group, int bundle_index,
                       const std::unordered_map<std::string, double>& resources,
                       const std::string& who) {
  const std::optional<ResourceSet> asked = ToResourceSet(resources);
  if (!asked) return;  // not a valid request at all: the runtime says why
  const auto bundles = group.GetBundles();
  std::vector<std::string> held;
  for (size_t i = 0; i < bundles.size(); ++i) {
    if (bundle_index >= 0 && static_cast<size_t>(bundle_index) != i) continue;
    const std::optional<ResourceSet> bundle = ToResourceSet(bundles[i]);
    if (!bundle) continue;
    if (bundle->Contains(*asked)) return;
    held.push_back(bundle->DebugString());
  }
  if (bundle_index >= 0) {
    throw RayException(absl::StrCat(
        who, " asks ", asked->DebugString(), " but bundle ", bundle_index, " of ", Describe(group),
        " holds ", held.empty() ? "{}" : held.front(), ": it could never run there"));
  }
  throw RayException(absl::StrCat(who, " asks ", asked->DebugString(), " but no bundle of ",
                                  Describe(group), " holds that much (", absl::StrJoin(held, ", "),
                                  "): it could never run there"));
}

}  // namespace internal
}  // namespace ray
