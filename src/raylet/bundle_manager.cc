#include "raylet/bundle_manager.h"

#include "absl/strings/str_cat.h"
#include "scheduling/group_resources.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {
namespace {

constexpr size_t kMaxRemoved = 10000;

absl::StatusOr<scheduling::ResourceSet> ResourcesOf(const proto::Bundle& bundle) {
  auto set = scheduling::ResourceSet::FromMap(
      std::map<std::string, double>(bundle.resources().begin(), bundle.resources().end()));
  if (!set.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bundle ", bundle.index(), ": ", set.status().message()));
  }
  return set;
}

}  // namespace

absl::Status BundleManager::Prepare(const PlacementGroupId& group,
                                    const std::vector<proto::Bundle>& bundles) {
  if (auto it = removed_.find(group); it != removed_.end()) {
    return absl::FailedPreconditionError(it->second);
  }
  scheduling::ResourceSet needed;
  std::vector<std::pair<Key, scheduling::ResourceSet>> fresh;
  for (const proto::Bundle& bundle : bundles) {
    const Key key{group, bundle.index()};
    if (bundles_.contains(key)) continue;  // a repeated prepare
    auto resources = ResourcesOf(bundle);
    if (!resources.ok()) return resources.status();
    needed.Add(*resources);
    fresh.emplace_back(key, *std::move(resources));
  }
  if (fresh.empty()) return absl::OkStatus();
  if (!leases_->Reserve(needed)) {
    // Bundles take plain resources only: other groups' names would bury what is free. The GCS
    // keeps this as the group's state message (`moray list placement-groups --detail`).
    return absl::ResourceExhaustedError(absl::StrCat(
        "no room for ", fresh.size(), " bundles of placement group ", group.Hex(),
        " here: they need ", needed.DebugString(), ", ",
        scheduling::WithoutGroupScoped(leases_->available()).DebugString(), " is free"));
  }
  for (auto& [key, resources] : fresh) bundles_[key] = Held{std::move(resources), false};
  spdlog::info("placement group {}: {} bundles prepared ({})", group.Hex(), fresh.size(),
               needed.DebugString());
  return absl::OkStatus();
}

absl::Status BundleManager::Commit(const PlacementGroupId& group,
                                   const std::vector<proto::Bundle>& bundles) {
  for (const proto::Bundle& bundle : bundles) {
    if (!bundles_.contains({group, bundle.index()})) {
      return absl::FailedPreconditionError(absl::StrCat("bundle ", bundle.index(),
                                                        " of placement group ", group.Hex(),
                                                        " is not prepared on this node"));
    }
  }
  for (const proto::Bundle& bundle : bundles) {
    Held& held = bundles_.at({group, bundle.index()});
    if (held.committed) continue;
    held.committed = true;
    leases_->AddCapacity(scheduling::CommittedBundle(held.resources, group, bundle.index()));
  }
  return absl::OkStatus();
}

void BundleManager::ReturnOne(const Key& key, const Held& held) {
  if (held.committed) {
    leases_->RemoveCapacity(scheduling::CommittedBundle(held.resources, key.first, key.second));
  }
  leases_->Unreserve(held.resources);
}

void BundleManager::Return(const PlacementGroupId& group, const std::vector<proto::Bundle>& bundles,
                           bool group_removed, const std::string& reason) {
  if (group_removed) {
    const std::string error =
        reason.empty() ? absl::StrCat("placement group ", group.Hex(), " was removed") : reason;
    if (removed_.emplace(group, error).second) {
      removed_order_.push_back(group);
      if (removed_order_.size() > kMaxRemoved) {
        removed_.erase(removed_order_.front());
        removed_order_.erase(removed_order_.begin());
      }
    }
    // The group's workers go first, so their leases' group-scoped resources are back before
    // the bundles leave the node.
    leases_->EndGroup(group, error);
    for (auto it = bundles_.lower_bound({group, INT32_MIN});
         it != bundles_.end() && it->first.first == group;) {
      ReturnOne(it->first, it->second);
      it = bundles_.erase(it);
    }
    return;
  }
  for (const proto::Bundle& bundle : bundles) {
    auto it = bundles_.find({group, bundle.index()});
    if (it == bundles_.end()) continue;
    if (it->second.committed) {
      leases_->EndGroup(group, absl::StrCat("bundle ", bundle.index(), " of placement group ",
                                            group.Hex(), " was returned"));
    }
    ReturnOne(it->first, it->second);
    bundles_.erase(it);
  }
}

std::string BundleManager::RejectionOf(const scheduling::ResourceSet& resources) const {
  if (removed_.empty()) return "";
  for (const auto& [name, units] : resources.units()) {
    auto group = scheduling::GroupOfResource(name);
    if (!group) continue;
    auto it = removed_.find(*group);
    if (it != removed_.end()) return it->second;
  }
  return "";
}

}  // namespace moray::raylet
