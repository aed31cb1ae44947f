#include "api/cluster_placement_groups.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ray/api/ray_exception.h"

namespace moray::api {
namespace {

using ray::internal::RayException;

PlacementGroupId IdOf(const std::string& hex) {
  return PlacementGroupId::FromHex(hex).value_or(PlacementGroupId());
}

ray::PlacementGroupState StateOf(proto::PlacementGroupState state) {
  switch (state) {
    case proto::PG_PENDING:
      return ray::PENDING;
    case proto::PG_PREPARED:
      return ray::PREPARED;
    case proto::PG_CREATED:
      return ray::CREATED;
    case proto::PG_REMOVED:
      return ray::REMOVED;
    case proto::PG_RESCHEDULING:
      return ray::RESCHEDULING;
    default:
      return ray::UNRECOGNIZED;
  }
}

ray::PlacementStrategy StrategyOf(proto::PlacementStrategy strategy) {
  switch (strategy) {
    case proto::PACK:
      return ray::PlacementStrategy::PACK;
    case proto::SPREAD:
      return ray::PlacementStrategy::SPREAD;
    case proto::STRICT_PACK:
      return ray::PlacementStrategy::STRICT_PACK;
    case proto::STRICT_SPREAD:
      return ray::PlacementStrategy::STRICT_SPREAD;
    default:
      return ray::PlacementStrategy::UNRECOGNIZED;
  }
}

proto::PlacementStrategy ToProto(ray::PlacementStrategy strategy) {
  switch (strategy) {
    case ray::PlacementStrategy::SPREAD:
      return proto::SPREAD;
    case ray::PlacementStrategy::STRICT_PACK:
      return proto::STRICT_PACK;
    case ray::PlacementStrategy::STRICT_SPREAD:
      return proto::STRICT_SPREAD;
    default:  // PACK (the public function refused UNRECOGNIZED)
      return proto::PACK;
  }
}

}  // namespace

ray::PlacementGroup PlacementGroupFromProto(const proto::PlacementGroupInfo& info) {
  ray::PlacementGroupCreationOptions options;
  options.name = info.name();
  options.ray_namespace = info.ray_namespace();
  options.strategy = StrategyOf(info.strategy());
  options.detached = info.is_detached();
  options.bundles.resize(info.bundles_size());
  for (int i = 0; i < info.bundles_size(); ++i) {
    const proto::Bundle& bundle = info.bundles(i);
    // By their index; a GCS that sent none (or nonsense) has them in order.
    const int at = bundle.index() >= 0 && bundle.index() < info.bundles_size() ? bundle.index() : i;
    for (const auto& [name, amount] : bundle.resources()) options.bundles[at][name] = amount;
  }
  return ray::PlacementGroup(PlacementGroupId::FromBinary(info.placement_group_id()).Hex(),
                             std::move(options), StateOf(info.state()));
}

ray::PlacementGroup ClusterPlacementGroups::Create(
    const ray::PlacementGroupCreationOptions& options) {
  proto::PlacementGroupInfo info;
  info.set_placement_group_id(NewPlacementGroupId(job_id_).Binary());
  info.set_name(options.name);
  info.set_ray_namespace(options.ray_namespace.empty() ? job_namespace_ : options.ray_namespace);
  info.set_strategy(ToProto(options.strategy));
  for (size_t i = 0; i < options.bundles.size(); ++i) {
    proto::Bundle* bundle = info.add_bundles();
    bundle->set_index(static_cast<int32_t>(i));
    bundle->mutable_resources()->insert(options.bundles[i].begin(), options.bundles[i].end());
  }
  info.set_state(proto::PG_PENDING);
  info.set_creator_job_id(job_id_.Binary());
  info.set_is_detached(options.detached);
  info.set_create_time_ms(absl::ToUnixMillis(absl::Now()));
  auto created = gcs_().CreatePlacementGroup(info);
  if (!created.ok()) {
    if (absl::IsAlreadyExists(created.status())) {
      throw RayException(absl::StrCat("CreatePlacementGroup: the name '", options.name,
                                      "' is already taken in namespace '", info.ray_namespace(),
                                      "' (", created.status().message(), ")"));
    }
    throw RayException(absl::StrCat("CreatePlacementGroup: could not create the placement group: ",
                                    created.status().message()));
  }
  // The group as the GCS recorded it; what was sent, if the reply left it out.
  return PlacementGroupFromProto(created->placement_group_id().empty() ? info : *created);
}

void ClusterPlacementGroups::Remove(const std::string& id) {
  absl::Status removed = gcs_().RemovePlacementGroup(IdOf(id));
  if (!removed.ok() && !absl::IsNotFound(removed)) {
    throw RayException(absl::StrCat("RemovePlacementGroup(", id, "): ", removed.message()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  removed_.insert(id);
}

ray::PlacementGroup ClusterPlacementGroups::GetById(const std::string& id) {
  auto found = gcs_().GetPlacementGroup(IdOf(id));
  if (absl::IsNotFound(found.status())) return ray::PlacementGroup();
  if (!found.ok()) {
    throw RayException(absl::StrCat("GetPlacementGroupById(", id, "): ", found.status().message()));
  }
  return PlacementGroupFromProto(*found);
}

ray::PlacementGroup ClusterPlacementGroups::GetByName(const std::string& name,
                                                      const std::string& ray_namespace) {
  auto found =
      gcs_().GetNamedPlacementGroup(name, ray_namespace.empty() ? job_namespace_ : ray_namespace);
  if (absl::IsNotFound(found.status())) return ray::PlacementGroup();
  if (!found.ok()) {
    throw RayException(absl::StrCat("GetPlacementGroup('", name, "'): ", found.status().message()));
  }
  return PlacementGroupFromProto(*found);
}

std::vector<ray::PlacementGroup> ClusterPlacementGroups::GetAll() {
  auto all = gcs_().GetPlacementGroups({}, /*limit=*/0);
  if (!all.ok()) {
    throw RayException(absl::StrCat("GetAllPlacementGroups: ", all.status().message()));
  }
  std::vector<ray::PlacementGroup> groups;
  groups.reserve(all->groups_size());
  for (const auto& info : all->groups()) groups.push_back(PlacementGroupFromProto(info));
  return groups;
}

ray::PlacementGroupState ClusterPlacementGroups::Wait(const std::string& id, int timeout_seconds) {
  auto waited = gcs_().WaitPlacementGroup(IdOf(id), absl::Seconds(timeout_seconds));
  if (absl::IsDeadlineExceeded(waited.status())) return ray::UNRECOGNIZED;
  if (absl::IsNotFound(waited.status())) {
    throw RayException(absl::StrCat("PlacementGroup::Wait: there is no placement group ", id));
  }
  if (!waited.ok()) {
    throw RayException(absl::StrCat("PlacementGroup::Wait(", id, "): ", waited.status().message()));
  }
  if (waited->group().placement_group_id().empty()) {
    return waited->ready() ? ray::CREATED : ray::UNRECOGNIZED;
  }
  const ray::PlacementGroupState state = StateOf(waited->group().state());
  return waited->ready() ? ray::CREATED : state;
}

bool ClusterPlacementGroups::IsRemoved(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return removed_.count(id) > 0;
}

}  // namespace moray::api
