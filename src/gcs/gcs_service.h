// The GCS's methods (proto/gcs.proto, GcsMethod) as typed handlers of one rpc::Service, served on
// the GCS's one port. Each handler delegates to the manager that owns the concept; nothing here
// but request plumbing, the role each method admits, and statuses (an error is an error reply
// with its canonical code, never a field of the reply).
//
//   GcsManagers managers{&nodes, &jobs, &kv, &task_events, &objects, &actors};
//   rpc::Service service("GCS");
//   AddGcsMethods(managers, &service);  // nodes, jobs, KV, task events, state queries
//   actor_service.Register(&service);           // the actor methods (actor_service.h)
//
// Roles (docs/wire.md): a raylet registers its node, reports resources and object snapshots, and
// adds and finishes jobs (a driver's job is registered by its raylet); core workers and raylets
// report task events (a raylet relays those its core workers sent it); reads and the KV are open
// to every member, the CLI included.
//
// Thread model: the handlers run on the loop of the GCS port's connections (the service loop);
// the managers are thread-safe. A state query over a large table (GetTasks, GetObjects,
// GetActors) therefore delays other calls to the GCS port but never the actor loop, which runs
// the health checks of every node (gcs_server.h).
#pragma once

#include <functional>

#include "gcs/actor_manager.h"
#include "gcs/job_manager.h"
#include "gcs/kv_store.h"
#include "gcs/node_manager.h"
#include "gcs/object_snapshot_store.h"
#include "gcs/task_event_store.h"
#include "rpc/service.h"

namespace moray::gcs {

// The managers the handlers delegate to (borrowed; they outlive the service).
struct GcsManagers {
  NodeManager* nodes;
  JobManager* jobs;
  KvStore* kv;
  TaskEventStore* task_events;
  ObjectSnapshotStore* objects;
  ActorManager* actors;
  // What else follows these events (the placement-group scheduler); may be empty. They run on
  // the service loop and must only post work elsewhere.
  std::function<void(const JobId&)> on_job_finished;
  std::function<void(const NodeId&)> on_node_gone;  // unregistered
  std::function<void()> on_membership_changed;      // a node registered or unregistered
  std::function<void()> on_resources_changed;       // a node registered or reported
  // A client deleted a package ref (namespace "packages", key "refs/..."): a collection is due.
  std::function<void()> on_package_ref_dropped;
};

// Adds every GCS method except the actor methods of ActorService to `service`.
void AddGcsMethods(const GcsManagers& managers, rpc::Service* service);

}  // namespace moray::gcs
