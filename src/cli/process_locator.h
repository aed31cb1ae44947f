// Which node and process runs an actor, a task or a pid: one lookup in the GCS, shared by the
// commands that act on a worker through its node's raylet (`moray logs`, `moray stack`) and the
// dashboard (docs/observability.md, "Principles").
//
//   auto target = ParseProcessTarget("9f1c...e2");          // a pid, or a 32-hex-digit id
//   auto where = Locate(client, *target, /*node=*/std::nullopt);
//   if (!where.ok()) { ...where.status().message() says why, naming the id and its state... }
//   // where->node_ip:where->raylet_port is the raylet to ask about where->pid
//
// Ids: an actor id and a task id are both 16 bytes (32 hex digits), so an id is looked up as an
// actor first, then as a task. A pid is decimal digits only (at most 10).
//
// Thread model: free functions; they block on GCS calls (never call them on an event loop).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "common/id.h"
#include "gcs/gcs_client.h"

namespace moray::cli {

struct ProcessLocation {
  NodeId node_id;
  std::string node_ip;
  int raylet_port = 0;
  WorkerId worker_id;
  int pid = 0;
};

// The actor's worker: where it runs (ALIVE), or ran last (DEAD, for its logs). NotFound for an
// unknown actor; FailedPrecondition naming the state for one that has no worker yet
// (DEPENDENCIES_UNREADY, PENDING_CREATION, RESTARTING) or whose node is no longer alive.
absl::StatusOr<ProcessLocation> LocateActor(gcs::GcsClient& client, const ActorId& actor_id);

// The worker of the task's latest attempt (RUNNING, or finished there). NotFound for a task the
// GCS has no record of; FailedPrecondition naming the state for an attempt not running yet
// (PENDING_ARGS_AVAIL, PENDING_NODE_ASSIGNMENT, ...) or whose node is no longer alive.
absl::StatusOr<ProcessLocation> LocateTask(gcs::GcsClient& client, const TaskId& task_id);

// The worker (or driver) with this pid among the ones the nodes report; live ones win over
// exited ones. `node` restricts the search to one node. NotFound when no node reports the pid;
// FailedPrecondition when several nodes do and `node` is not given (the message lists them, and
// says to pass --node-id), or when `node` is not an alive node.
absl::StatusOr<ProcessLocation> LocatePid(gcs::GcsClient& client, int pid,
                                          std::optional<NodeId> node);

// One command-line argument naming a process: a pid (decimal), or an actor or task id (32 hex
// digits, either case). InvalidArgument naming the text for anything else.
struct ActorOrTaskId {
  std::string hex;  // lower case
};
using ProcessTarget = std::variant<int, ActorOrTaskId>;
absl::StatusOr<ProcessTarget> ParseProcessTarget(std::string_view text);

// A --node-id value: 32 hex digits. InvalidArgument naming the text otherwise.
absl::StatusOr<NodeId> ParseNodeId(std::string_view text);

// Locates a parsed target: a pid with LocatePid (`node` applies), an id as an actor, else as a
// task (NotFound naming the id when it is neither). For ids, a `node` that does not match where
// the process runs is FailedPrecondition.
absl::StatusOr<ProcessLocation> Locate(gcs::GcsClient& client, const ProcessTarget& target,
                                       std::optional<NodeId> node);

}  // namespace moray::cli
