#include "cli/process_locator.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace moray::cli {
namespace {

absl::StatusOr<ProcessLocation> WithNode(gcs::GcsClient& gcs, ProcessLocation where) {
  auto node = LocateNode(gcs, where.node_id);
  if (!node.ok()) return node.status();
  where.node_ip = node->node_ip;
  where.raylet_port = node->raylet_port;
  return where;
}

}  // namespace

absl::StatusOr<ProcessLocation> LocateNode(gcs::GcsClient& gcs, const NodeId& node_id) {
  auto nodes = gcs.GetAllNodes();
  if (!nodes.ok()) return nodes.status();
  for (const proto::NodeInfo& node : *nodes) {
    if (node.node_id() != node_id.Binary()) continue;
    if (node.state() != proto::NODE_ALIVE) {
      return absl::FailedPreconditionError(
          absl::StrCat("node ", node_id.Hex(), " is dead (", node.state_message(), ")"));
    }
    ProcessLocation where;
    where.node_id = node_id;
    where.node_ip = node.node_ip();
    where.raylet_port = node.raylet_port();
    return where;
  }
  return absl::NotFoundError(absl::StrCat("no node ", node_id.Hex(), " in the cluster"));
}

absl::StatusOr<ProcessLocation> LocateActor(gcs::GcsClient& gcs, const ActorId& actor_id) {
  auto actor = gcs.GetActor(actor_id);
  if (!actor.ok()) {
    if (actor.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("no actor ", actor_id.Hex(), " in the cluster"));
    }
    return actor.status();
  }
  if (actor->node_id().empty() || actor->pid() == 0) {
    return absl::NotFoundError(absl::StrCat("actor ", actor_id.Hex(),
                                            " has no worker (it was never placed, or is "
                                            "restarting)"));
  }
  ProcessLocation where;
  where.node_id = NodeId::FromBinary(actor->node_id());
  where.worker_id = WorkerId::FromBinary(actor->address().worker_id());
  where.pid = actor->pid();
  return WithNode(gcs, where);
}

absl::StatusOr<ProcessLocation> LocateTask(gcs::GcsClient& gcs, const TaskId& task_id) {
  proto::StateFilter filter;
  filter.set_key("task_id");
  filter.set_op("=");
  filter.set_value(task_id.Hex());
  auto tasks = gcs.GetTasks({filter}, 0);
  if (!tasks.ok()) return tasks.status();
  const proto::TaskRecord* last = nullptr;
  for (const proto::TaskRecord& record : tasks->tasks()) {
    if (record.worker_pid() == 0 || record.node_id().empty()) continue;
    if (last == nullptr || record.attempt_number() > last->attempt_number()) last = &record;
  }
  if (last == nullptr) {
    return absl::NotFoundError(
        tasks->tasks().empty()
            ? absl::StrCat("no task ", task_id.Hex(), " in the cluster's task records")
            : absl::StrCat("task ", task_id.Hex(), " has not started on a worker yet"));
  }
  ProcessLocation where;
  where.node_id = NodeId::FromBinary(last->node_id());
  where.worker_id = WorkerId::FromBinary(last->worker_id());
  where.pid = last->worker_pid();
  return WithNode(gcs, where);
}

absl::StatusOr<ProcessLocation> LocatePid(gcs::GcsClient& gcs, int pid,
                                          std::optional<NodeId> node_id) {
  if (pid <= 0) return absl::InvalidArgumentError(absl::StrCat("pid must be positive, not ", pid));
  auto status = gcs.GetClusterStatus();
  if (!status.ok()) return status.status();
  std::vector<ProcessLocation> found;
  for (const proto::NodeResourceReport& report : status->reports()) {
    const NodeId reporter = NodeId::FromBinary(report.node_id());
    if (node_id && reporter != *node_id) continue;
    for (const proto::WorkerInfo& worker : report.workers()) {
      if (worker.pid() != pid) continue;
      ProcessLocation where;
      where.node_id = reporter;
      where.worker_id = WorkerId::FromBinary(worker.worker_id());
      where.pid = pid;
      found.push_back(where);
      break;
    }
  }
  if (found.empty()) {
    return absl::NotFoundError(
        node_id ? absl::StrCat("no worker with pid ", pid, " on node ", node_id->Hex())
                : absl::StrCat("no worker with pid ", pid, " on any node of the cluster"));
  }
  if (found.size() > 1) {
    return absl::FailedPreconditionError(absl::StrCat("pid ", pid, " is a worker on ", found.size(),
                                                      " nodes; name one with --node-id"));
  }
  return WithNode(gcs, found[0]);
}

}  // namespace moray::cli
