#include "cli/process_locator.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace moray::cli {
namespace {

constexpr size_t kIdHexDigits = 2 * ActorId::kSize;
static_assert(ActorId::kSize == TaskId::kSize, "ids are told apart by lookup, not length");
constexpr size_t kMaxPidDigits = 10;

bool AllOf(std::string_view text, int (*predicate)(int)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [predicate](char c) {
    return predicate(static_cast<unsigned char>(c)) != 0;
  });
}

// The node's address, or why it cannot be asked: unknown, or not alive.
absl::Status FillNode(gcs::GcsClient& client, const NodeId& node_id, const std::string& what,
                      ProcessLocation* location) {
  auto nodes = client.GetAllNodes();
  if (!nodes.ok()) return nodes.status();
  for (const auto& node : *nodes) {
    if (NodeId::FromBinary(node.node_id()) != node_id) continue;
    if (node.state() != proto::NODE_ALIVE) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, " is on node ", node_id.Hex(), " (", node.node_ip(), "), which is DEAD",
          node.state_message().empty() ? "" : absl::StrCat(": ", node.state_message())));
    }
    location->node_id = node_id;
    location->node_ip = node.node_ip();
    location->raylet_port = node.raylet_port();
    return absl::OkStatus();
  }
  return absl::NotFoundError(
      absl::StrCat(what, " is on node ", node_id.Hex(), ", which the GCS does not know"));
}

}  // namespace

absl::StatusOr<ProcessLocation> LocateActor(gcs::GcsClient& client, const ActorId& actor_id) {
  auto actor = client.GetActor(actor_id);
  if (!actor.ok()) return actor.status();
  const std::string what = absl::StrCat("actor ", actor_id.Hex());
  const NodeId node_id = NodeId::FromBinary(actor->node_id());
  if (actor->pid() == 0 || node_id.IsNil()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " is ", proto::ActorState_Name(actor->state()), ": it has no worker process yet"));
  }
  ProcessLocation location;
  location.worker_id = WorkerId::FromBinary(actor->address().worker_id());
  location.pid = actor->pid();
  if (auto s = FillNode(client, node_id, what, &location); !s.ok()) return s;
  return location;
}

absl::StatusOr<ProcessLocation> LocateTask(gcs::GcsClient& client, const TaskId& task_id) {
  proto::StateFilter filter;
  filter.set_key("task_id");
  filter.set_op("=");
  filter.set_value(task_id.Hex());
  auto reply = client.GetTasks({filter}, /*limit=*/0);
  if (!reply.ok()) return reply.status();
  const proto::TaskRecord* latest = nullptr;
  for (const auto& record : reply->tasks()) {
    if (latest == nullptr || record.attempt_number() > latest->attempt_number()) latest = &record;
  }
  if (latest == nullptr) {
    return absl::NotFoundError(absl::StrCat("no task with id ", task_id.Hex()));
  }
  const std::string what =
      absl::StrCat("task ", task_id.Hex(), " (attempt ", latest->attempt_number(), ")");
  const NodeId node_id = NodeId::FromBinary(latest->node_id());
  if (latest->worker_pid() == 0 || node_id.IsNil()) {
    return absl::FailedPreconditionError(absl::StrCat(what, " is ",
                                                      proto::TaskState_Name(latest->state()),
                                                      ": it is not running on a worker yet"));
  }
  ProcessLocation location;
  location.worker_id = WorkerId::FromBinary(latest->worker_id());
  location.pid = latest->worker_pid();
  if (auto s = FillNode(client, node_id, what, &location); !s.ok()) return s;
  return location;
}

absl::StatusOr<ProcessLocation> LocatePid(gcs::GcsClient& client, int pid,
                                          std::optional<NodeId> node) {
  auto status = client.GetClusterStatus();
  if (!status.ok()) return status.status();
  std::vector<const proto::NodeInfo*> alive;
  for (const auto& info : status->nodes()) {
    if (info.state() == proto::NODE_ALIVE) alive.push_back(&info);
  }
  if (node.has_value()) {
    bool found = false;
    for (const auto& info : status->nodes()) {
      if (NodeId::FromBinary(info.node_id()) != *node) continue;
      found = true;
      if (info.state() != proto::NODE_ALIVE) {
        return absl::FailedPreconditionError(
            absl::StrCat("node ", node->Hex(), " (", info.node_ip(), ") is DEAD"));
      }
    }
    if (!found) return absl::NotFoundError(absl::StrCat("no node with id ", node->Hex()));
  }
  struct Match {
    const proto::NodeInfo* node;
    const proto::WorkerInfo* worker;
  };
  std::vector<Match> live, exited;
  for (const auto& report : status->reports()) {
    const NodeId report_node = NodeId::FromBinary(report.node_id());
    if (node.has_value() && report_node != *node) continue;
    auto info = std::find_if(alive.begin(), alive.end(), [&](const proto::NodeInfo* n) {
      return NodeId::FromBinary(n->node_id()) == report_node;
    });
    if (info == alive.end()) continue;
    for (const auto& worker : report.workers()) {
      if (worker.pid() != pid) continue;
      (worker.is_alive() ? live : exited).push_back({*info, &worker});
    }
  }
  const std::vector<Match>& matches = live.empty() ? exited : live;
  if (matches.empty()) {
    return absl::NotFoundError(absl::StrCat("no worker or driver with pid ", pid,
                                            node.has_value()
                                                ? absl::StrCat(" on node ", node->Hex())
                                                : std::string(" on any alive node of the cluster"),
                                            " (`moray list workers` shows them)"));
  }
  std::vector<std::string> nodes;
  for (const auto& match : matches) {
    std::string hex = ToHex(match.node->node_id());
    if (std::find(nodes.begin(), nodes.end(), hex) == nodes.end()) nodes.push_back(hex);
  }
  if (nodes.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("pid ", pid, " is a worker on several nodes (", absl::StrJoin(nodes, ", "),
                     "); choose one with --node-id"));
  }
  ProcessLocation location;
  location.node_id = NodeId::FromBinary(matches.front().node->node_id());
  location.node_ip = matches.front().node->node_ip();
  location.raylet_port = matches.front().node->raylet_port();
  location.worker_id = WorkerId::FromBinary(matches.front().worker->worker_id());
  location.pid = pid;
  return location;
}

absl::StatusOr<ProcessTarget> ParseProcessTarget(std::string_view view) {
  const std::string text(view);
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  if (AllOf(trimmed, &isdigit) && trimmed.size() <= kMaxPidDigits) {
    int pid = 0;
    if (absl::SimpleAtoi(trimmed, &pid) && pid > 0) return ProcessTarget(pid);
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a pid: a pid is a whole number from 1 to 2147483647"));
  }
  if (trimmed.size() == kIdHexDigits && AllOf(trimmed, &isxdigit)) {
    return ProcessTarget(ActorOrTaskId{absl::AsciiStrToLower(trimmed)});
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is neither a pid (decimal digits) nor an actor or task id (",
                   kIdHexDigits, " hex digits)"));
}

absl::StatusOr<NodeId> ParseNodeId(std::string_view view) {
  const std::string text(view);
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  auto id = NodeId::FromHex(trimmed);
  if (!id.has_value() || id->IsNil()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--node-id must be a node id (", 2 * NodeId::kSize, " hex digits), not '", text, "'"));
  }
  return *id;
}

absl::StatusOr<ProcessLocation> Locate(gcs::GcsClient& client, const ProcessTarget& target,
                                       std::optional<NodeId> node) {
  if (const int* pid = std::get_if<int>(&target)) return LocatePid(client, *pid, node);
  const std::string& hex = std::get<ActorOrTaskId>(target).hex;
  absl::StatusOr<ProcessLocation> location = LocateActor(client, *ActorId::FromHex(hex));
  if (absl::IsNotFound(location.status()) &&
      absl::StrContains(location.status().message(), "no actor with id")) {
    location = LocateTask(client, *TaskId::FromHex(hex));
    if (absl::IsNotFound(location.status()) &&
        absl::StrContains(location.status().message(), "no task with id")) {
      return absl::NotFoundError(absl::StrCat("no actor or task with id ", hex));
    }
  }
  if (location.ok() && node.has_value() && location->node_id != *node) {
    return absl::FailedPreconditionError(absl::StrCat(
        hex, " runs on node ", location->node_id.Hex(), ", not on ", node->Hex(), " (--node-id)"));
  }
  return location;
}

}  // namespace moray::cli
