#include "api/local_placement_groups.h"

#include "absl/strings/str_cat.h"
#include "ray/api/ray_exception.h"

namespace moray::api {

ray::PlacementGroup LocalPlacementGroups::Create(
    const ray::PlacementGroupCreationOptions& options) {
  ray::PlacementGroupCreationOptions stored = options;
  if (stored.ray_namespace.empty()) stored.ray_namespace = job_namespace_;
  std::lock_guard<std::mutex> lock(mu_);
  if (!stored.name.empty()) {
    auto [it, added] = by_name_.try_emplace({stored.ray_namespace, stored.name}, groups_.size());
    if (!added) {
      throw ray::internal::RayException(absl::StrCat(
          "CreatePlacementGroup: the name '", stored.name, "' is already taken in namespace '",
          stored.ray_namespace, "' by placement group ", groups_[it->second].GetID()));
    }
  }
  const std::string id = NewPlacementGroupId(job_id_).Hex();
  by_id_[id] = groups_.size();
  groups_.emplace_back(id, std::move(stored), ray::CREATED);
  return groups_.back();
}

void LocalPlacementGroups::Remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  ray::PlacementGroup& group = groups_[it->second];
  if (group.GetState() == ray::REMOVED) return;
  by_name_.erase({group.GetNamespace(), group.GetName()});
  group = ray::PlacementGroup(group.GetID(), group.GetOptions(), ray::REMOVED);
}

ray::PlacementGroup LocalPlacementGroups::GetById(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? ray::PlacementGroup() : groups_[it->second];
}

ray::PlacementGroup LocalPlacementGroups::GetByName(const std::string& name,
                                                    const std::string& ray_namespace) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find({ray_namespace.empty() ? job_namespace_ : ray_namespace, name});
  return it == by_name_.end() ? ray::PlacementGroup() : groups_[it->second];
}

std::vector<ray::PlacementGroup> LocalPlacementGroups::GetAll() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_;
}

ray::PlacementGroupState LocalPlacementGroups::Wait(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    throw ray::internal::RayException(
        absl::StrCat("PlacementGroup::Wait: there is no placement group ", id));
  }
  return groups_[it->second].GetState();
}

bool LocalPlacementGroups::IsRemoved(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  return it != by_id_.end() && groups_[it->second].GetState() == ray::REMOVED;
}

}  // namespace moray::api
