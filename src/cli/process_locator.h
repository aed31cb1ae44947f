// Where a worker process runs: the node (its raylet's address), the worker and its pid, for an
// actor id, a task id or a pid (docs/observability.md, "Logs" and "Debugging"). Used by
// `moray logs` and `moray stack`, which then ask that node's raylet.
//
//   auto where = LocateActor(gcs, actor_id);   // NotFound: "no actor ..." / "... has no worker"
//   RayletCall(where->node_ip, where->raylet_port, ...);
//
// The GCS is the source: the actor table (the actor's current worker), task records (the last
// attempt that reached a worker) and the node table's worker reports (pids).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/id.h"
#include "gcs/gcs_client.h"

namespace moray::cli {

struct ProcessLocation {
  NodeId node_id;
  std::string node_ip;
  int raylet_port = 0;
  WorkerId worker_id;  // nil when only the pid is known
  int pid = 0;
};

// NotFound if the GCS has no such actor, or it has no worker (never placed, or restarting).
absl::StatusOr<ProcessLocation> LocateActor(gcs::GcsClient& gcs, const ActorId& actor_id);
// NotFound if no record of the task names a worker (unknown, or not started yet).
absl::StatusOr<ProcessLocation> LocateTask(gcs::GcsClient& gcs, const TaskId& task_id);
// The node running (or that ran) a worker or driver with `pid`, among every alive node, or on
// `node_id` only. NotFound if none does; FailedPrecondition if several nodes have that pid and
// no node was named.
absl::StatusOr<ProcessLocation> LocatePid(gcs::GcsClient& gcs, int pid,
                                          std::optional<NodeId> node_id);
// The node's raylet address. NotFound for a node the GCS does not know; FailedPrecondition for a
// dead one.
absl::StatusOr<ProcessLocation> LocateNode(gcs::GcsClient& gcs, const NodeId& node_id);

}  // namespace moray::cli
