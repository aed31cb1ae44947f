// Placement groups on the submitting side (docs/scheduling.md): what a lease for a task in a
// group asks, and how a task or actor started with capture_child_tasks passes its group on to
// the work it submits.
//
//   auto asked = LeaseResources(spec);        // {CPU_group_0_<G>: 1, CPU_group_<G>: 1, ...}
//   proto::SchedulingStrategy captured = CapturedStrategy(parent.scheduling_strategy());
//   InheritPlacementGroup(captured, child.mutable_scheduling_strategy());
//
// Pure functions; no threads.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "common.pb.h"
#include "worker.pb.h"

namespace moray::core {

// The resources a worker lease for `spec` asks: its own (a normal task with none asks 1 CPU, as
// everywhere), turned into the group-scoped names of its bundle when its strategy is
// PLACEMENT_GROUP. InvalidArgument when they are not a valid resource set.
absl::StatusOr<std::map<std::string, double>> LeaseResources(const proto::TaskSpec& spec);

// What a running task or actor started with `running` gives the work it submits without a
// strategy of its own: its group, in any bundle (-1), capturing in turn, when `running` is a
// PLACEMENT_GROUP strategy with capture_child_tasks; otherwise the DEFAULT strategy (nothing to
// give).
proto::SchedulingStrategy CapturedStrategy(const proto::SchedulingStrategy& running);

// Puts `child` (a task's or actor's strategy as submitted) in the `captured` group when it is
// the DEFAULT strategy and `captured` is a group; its label selector stays.
void InheritPlacementGroup(const proto::SchedulingStrategy& captured,
                           proto::SchedulingStrategy* child);

}  // namespace moray::core
