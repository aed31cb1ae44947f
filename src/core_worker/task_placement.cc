#include "core_worker/task_placement.h"

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "scheduling/group_resources.h"
#include "scheduling/resource_set.h"

namespace moray::core {

absl::StatusOr<std::map<std::string, double>> LeaseResources(const proto::TaskSpec& spec) {
  std::map<std::string, double> asked(spec.resources().begin(), spec.resources().end());
  if (asked.empty() && spec.type() == proto::NORMAL_TASK) asked[scheduling::kCPU] = 1;
  const proto::SchedulingStrategy& strategy = spec.scheduling_strategy();
  if (strategy.kind() != proto::SchedulingStrategy::PLACEMENT_GROUP) return asked;
  const PlacementGroupId group = PlacementGroupId::FromBinary(strategy.placement_group_id());
  if (group.IsNil()) {
    return absl::InvalidArgumentError(
        "the task's placement group strategy names no placement group");
  }
  auto set = scheduling::ResourceSet::FromMap(asked);
  if (!set.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the task's resources are not valid: ", set.status().message()));
  }
  return scheduling::GroupScoped(*set, group, strategy.bundle_index()).ToMap();
}

proto::SchedulingStrategy CapturedStrategy(const proto::SchedulingStrategy& running) {
  proto::SchedulingStrategy captured;
  if (running.kind() != proto::SchedulingStrategy::PLACEMENT_GROUP ||
      !running.capture_child_tasks()) {
    return captured;
  }
  captured.set_kind(proto::SchedulingStrategy::PLACEMENT_GROUP);
  captured.set_placement_group_id(running.placement_group_id());
  captured.set_bundle_index(-1);
  captured.set_capture_child_tasks(true);
  return captured;
}

void InheritPlacementGroup(const proto::SchedulingStrategy& captured,
                           proto::SchedulingStrategy* child) {
  if (captured.kind() != proto::SchedulingStrategy::PLACEMENT_GROUP ||
      child->kind() != proto::SchedulingStrategy::DEFAULT) {
    return;
  }
  child->set_kind(proto::SchedulingStrategy::PLACEMENT_GROUP);
  child->set_placement_group_id(captured.placement_group_id());
  child->set_bundle_index(captured.bundle_index());
  child->set_capture_child_tasks(captured.capture_child_tasks());
}

}  // namespace moray::core
