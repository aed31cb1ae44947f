#include "scheduling/group_resources.h"

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace moray::scheduling {
namespace {

constexpr std::string_view kInfix = "_group_";
constexpr char kInfixText[] = "_group_";

std::string Wildcard(const std::string& name, const PlacementGroupId& group) {
  return absl::StrCat(name, kInfixText, group.Hex());
}
std::string Indexed(const std::string& name, const PlacementGroupId& group, int index) {
  return absl::StrCat(name, kInfixText, index, "_", group.Hex());
}

}  // namespace

ResourceSet GroupScoped(const ResourceSet& asked, const PlacementGroupId& group,
                        int bundle_index) {
  ResourceSet scoped;
  auto add = [&](const std::string& name, int64_t units) {
    scoped.SetUnits(Wildcard(name, group), units);
    if (bundle_index >= 0) scoped.SetUnits(Indexed(name, group, bundle_index), units);
  };
  for (const auto& [name, units] : asked.units()) add(name, units);
  add(kBundleResource, kBundleMarkerRequest);
  return scoped;
}

ResourceSet CommittedBundle(const ResourceSet& bundle, const PlacementGroupId& group, int index) {
  ResourceSet added;
  for (const auto& [name, units] : bundle.units()) {
    added.SetUnits(Wildcard(name, group), units);
    added.SetUnits(Indexed(name, group, index), units);
  }
  added.SetUnits(Wildcard(kBundleResource, group), kBundleMarkerUnits);
  added.SetUnits(Indexed(kBundleResource, group, index), kBundleMarkerUnits);
  return added;
}

std::optional<PlacementGroupId> GroupOfResource(std::string_view name) {
  const size_t at = name.rfind(kInfix);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = name.substr(at + kInfix.size());  // "G" or "i_G"
  if (rest.size() > 2 * PlacementGroupId::kSize) {
    rest = rest.substr(rest.size() - 2 * PlacementGroupId::kSize);
  }
  auto id = PlacementGroupId::FromHex(rest);
  if (!id || id->IsNil()) return std::nullopt;
  return id;
}

// Without allocating (it runs for every resource name in Load and in every parsed report): the
// infix, then 2*kSize hex digits at the end, not all zero.
bool IsGroupScoped(std::string_view name) {
  constexpr size_t kHex = 2 * PlacementGroupId::kSize;
  const size_t at = name.rfind(kInfix);
  if (at == std::string_view::npos || name.size() < at + kInfix.size() + kHex) return false;
  bool nonzero = false;
  for (char c : name.substr(name.size() - kHex)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    nonzero = nonzero || c != '0';
  }
  return nonzero;
}

std::optional<GroupResourceName> ParseGroupResource(std::string_view name) {
  auto group = GroupOfResource(name);
  if (!group) return std::nullopt;
  const size_t at = name.rfind(kInfix);
  GroupResourceName parsed{.resource = std::string(name.substr(0, at)), .group = *group};
  // Between the infix and the id: nothing (wildcard) or "<index>_".
  std::string_view index = name.substr(at + kInfix.size());
  index.remove_suffix(2 * PlacementGroupId::kSize);
  if (!index.empty()) {
    if (index.back() != '_' ||
        !absl::SimpleAtoi(absl::string_view(index.data(), index.size() - 1),
                          &parsed.bundle_index) ||
        parsed.bundle_index < 0) {
      return std::nullopt;
    }
  }
  return parsed;
}

ResourceSet WithoutGroupScoped(const ResourceSet& set) {
  ResourceSet plain;
  for (const auto& [name, units] : set.units()) {
    if (!IsGroupScoped(name)) plain.SetUnits(name, units);
  }
  return plain;
}

ResourceSet OfGroup(const ResourceSet& set, const PlacementGroupId& group) {
  ResourceSet of;
  for (const auto& [name, units] : set.units()) {
    if (GroupOfResource(name) == group) of.SetUnits(name, units);
  }
  return of;
}

}  // namespace moray::scheduling
