// The placement-group methods of the GCS port (proto/gcs.proto 350–354): core workers create and
// remove groups; any member reads them and waits for one. The table calls run on the service
// loop (PlacementGroupManager is thread-safe); placement, removal and waits go to the actor loop,
// where the PlacementGroupScheduler and the pool to the raylets live.
#pragma once

#include "gcs/placement_group_manager.h"
#include "gcs/placement_group_scheduler.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"

namespace moray::gcs {

// Everything borrowed must outlive the service.
void AddPlacementGroupMethods(PlacementGroupManager* groups, PlacementGroupScheduler* scheduler,
                              rpc::EventLoop* actor_loop, rpc::Service* service);

// Removes the group (table, then every raylet, its actors, its waiters); already REMOVED: OK.
// NotFound for an unknown id. Any thread.
absl::Status RemovePlacementGroup(PlacementGroupManager* groups, PlacementGroupScheduler* scheduler,
                                  rpc::EventLoop* actor_loop, const PlacementGroupId& id,
                                  const std::string& why);

}  // namespace moray::gcs
