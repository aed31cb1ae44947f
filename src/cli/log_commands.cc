// `moray logs` (Ray's `ray logs`): list the log files of the cluster's nodes, or print one — a
// file by name, a worker's by pid, an actor's or a task's worker by id — with --tail and
// --follow. Every node is asked through its own raylet (RAYLET_LIST_LOGS, RAYLET_READ_LOG), so
// this works for any node of the cluster, not just this machine's; ids are resolved to nodes and
// workers by process_locator.h.
#include <fnmatch.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/process_locator.h"
#include "cli/raylet_client.h"
#include "common/session.h"
#include "gcs/gcs_client.h"
#include "raylet.pb.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"

namespace moray::cli {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(10);
constexpr int kFollowWaitMs = 10000;

struct LogOptions {
  std::string address;
  std::string node_id;
  std::string file;  // a name or a glob
  int pid = 0;
  std::string id;  // actor or task id
  bool err = false;
  bool follow = false;
  int tail = 1000;  // lines; -1: the whole file
};

[[noreturn]] void Fail(const absl::Status& status) {
  std::cerr << "Error: " << status.message() << std::endl;
  throw CLI::RuntimeError(1);
}

template <typename T>
T OrFail(absl::StatusOr<T> value) {
  if (!value.ok()) Fail(value.status());
  return *std::move(value);
}

std::unique_ptr<gcs::GcsClient> ConnectGcs(const std::string& flag) {
  std::string given = flag;
  const char* env = std::getenv("RAY_ADDRESS");
  if (given.empty() && (env == nullptr || *env == '\0')) given = "auto";
  const std::string address = OrFail(ResolveGcsAddress(given));
  rpc::SetProcessAuth(OrFail(rpc::LoadAuthConfig()));
  rpc::SetProcessRole(proto::ROLE_CLI);
  return OrFail(gcs::GcsClient::Connect(address, absl::Seconds(5)));
}

// The node's raylet address. NotFound for a node the GCS does not know; FailedPrecondition for
// a dead one.
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

std::optional<NodeId> NodeIdOrFail(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::optional<NodeId> id = NodeId::FromHex(text);
  if (!id) {
    Fail(absl::InvalidArgumentError(absl::StrCat("--node-id \"", text, "\" is not a node id (",
                                                 2 * NodeId::kSize, " hex digits)")));
  }
  return id;
}

std::vector<proto::NodeInfo> AliveNodes(gcs::GcsClient& gcs, const std::optional<NodeId>& only) {
  std::vector<proto::NodeInfo> alive;
  for (proto::NodeInfo& node : OrFail(gcs.GetAllNodes())) {
    if (node.state() != proto::NODE_ALIVE) continue;
    if (only && node.node_id() != only->Binary()) continue;
    alive.push_back(std::move(node));
  }
  if (only && alive.empty()) (void)OrFail(LocateNode(gcs, *only));  // says dead or unknown
  return alive;
}

proto::ListLogsReply ListNode(const proto::NodeInfo& node) {
  auto raylet = OrFail(RayletClient::Connect(node.node_ip(), node.raylet_port()));
  proto::ListLogsReply reply;
  if (auto s =
          raylet->Call(proto::RAYLET_LIST_LOGS, proto::ListLogsRequest{}, &reply, kCallTimeout);
      !s.ok()) {
    Fail(s);
  }
  return reply;
}

void List(gcs::GcsClient& gcs, const LogOptions& o) {
  for (const proto::NodeInfo& node : AliveNodes(gcs, NodeIdOrFail(o.node_id))) {
    proto::ListLogsReply files = ListNode(node);
    std::cout << "Node " << NodeId::FromBinary(node.node_id()).Hex() << " (" << node.node_ip()
              << (node.is_head_node() ? ", head" : "") << ")\n";
    for (const proto::LogFileInfo& file : files.files()) {
      if (!o.file.empty() && fnmatch(o.file.c_str(), file.name().c_str(), 0) != 0) continue;
      std::cout << "  " << file.name() << "  " << file.size() << " bytes";
      if (file.pid() != 0) std::cout << "  pid " << file.pid() << (file.alive() ? "" : " (exited)");
      std::cout << "\n";
    }
  }
}

// Prints the file the request names on `where`'s raylet: the last o.tail lines (or all), then,
// with --follow, what is written later, until the worker's streams close (a worker's file) or
// the command is interrupted.
void Show(const ProcessLocation& where, proto::ReadLogRequest request, const LogOptions& o) {
  auto raylet = OrFail(RayletClient::Connect(where.node_ip, where.raylet_port));
  if (o.tail >= 0) request.set_tail_lines(o.tail == 0 ? 0 : o.tail);
  bool first = true;
  int64_t next = 0;
  while (true) {
    proto::ReadLogReply reply;
    if (first && o.tail == 0) {  // nothing of the past: start at the end
      proto::ReadLogRequest probe = request;
      probe.set_tail_lines(0);
      probe.set_offset(0);
      probe.set_max_bytes(1);
      if (auto s = raylet->Call(proto::RAYLET_READ_LOG, probe, &reply, kCallTimeout); !s.ok()) {
        Fail(s);
      }
      next = reply.size();
      first = false;
      if (!o.follow) return;
      continue;
    }
    const bool waiting = !first && o.follow;
    proto::ReadLogRequest call = request;
    if (!first) {
      call.set_tail_lines(0);
      call.set_offset(next);
    }
    if (waiting) call.set_wait_ms(kFollowWaitMs);
    absl::Status s =
        raylet->Call(proto::RAYLET_READ_LOG, call, &reply,
                     waiting ? kCallTimeout + absl::Milliseconds(kFollowWaitMs) : kCallTimeout);
    if (!s.ok()) Fail(s);
    if (first) request.set_file_name(reply.file_name());  // a worker's file: keep to it
    first = false;
    std::cout.write(reply.data().data(), static_cast<std::streamsize>(reply.data().size()));
    std::cout.flush();
    next = reply.offset() + static_cast<int64_t>(reply.data().size());
    if (next < reply.size()) continue;  // more than one reply's worth
    if (!o.follow) return;
    const bool worker_file = reply.file_name().rfind("worker-", 0) == 0;
    if (worker_file && !reply.worker_alive() && reply.data().empty()) return;
  }
}

ProcessLocation HeadNode(gcs::GcsClient& gcs) {
  for (const proto::NodeInfo& node : AliveNodes(gcs, std::nullopt)) {
    if (node.is_head_node()) {
      return OrFail(LocateNode(gcs, NodeId::FromBinary(node.node_id())));
    }
  }
  Fail(
      absl::FailedPreconditionError("the cluster has no alive head node; name one with --node-id"));
}

// A worker's pid: the GCS's reports first (live and recently exited workers); else any node
// whose log directory still has a file of that pid.
ProcessLocation LocateWorkerPid(gcs::GcsClient& gcs, const LogOptions& o) {
  const std::optional<NodeId> node = NodeIdOrFail(o.node_id);
  auto located = LocatePid(gcs, o.pid, node);
  if (located.ok() || located.status().code() != absl::StatusCode::kNotFound) {
    return OrFail(std::move(located));
  }
  std::vector<ProcessLocation> found;
  for (const proto::NodeInfo& info : AliveNodes(gcs, node)) {
    const proto::ListLogsReply listing = ListNode(info);
    for (const proto::LogFileInfo& file : listing.files()) {
      if (file.pid() != o.pid) continue;
      found.push_back(OrFail(LocateNode(gcs, NodeId::FromBinary(info.node_id()))));
      found.back().pid = o.pid;
      break;
    }
  }
  if (found.size() == 1) return found[0];
  if (found.size() > 1) {
    Fail(absl::FailedPreconditionError(absl::StrCat(
        "pid ", o.pid, " has log files on ", found.size(), " nodes; name one with --node-id")));
  }
  Fail(located.status());
}

void RunLogs(const LogOptions& o, const std::string& kind) {
  auto gcs = ConnectGcs(o.address);
  proto::ReadLogRequest request;
  request.set_err(o.err);
  ProcessLocation where;
  if (kind == "worker") {
    if (o.pid <= 0) Fail(absl::InvalidArgumentError("moray logs worker needs --pid N"));
    where = LocateWorkerPid(*gcs, o);
    request.set_pid(o.pid);
  } else if (kind == "actor" || kind == "task") {
    if (o.id.empty())
      Fail(absl::InvalidArgumentError(absl::StrCat("moray logs ", kind, " needs --id")));
    if (kind == "actor") {
      std::optional<ActorId> id = ActorId::FromHex(o.id);
      if (!id) {
        Fail(absl::InvalidArgumentError(absl::StrCat("--id \"", o.id, "\" is not an actor id (",
                                                     2 * ActorId::kSize, " hex digits)")));
      }
      where = OrFail(LocateActor(*gcs, *id));
    } else {
      std::optional<TaskId> id = TaskId::FromHex(o.id);
      if (!id) {
        Fail(absl::InvalidArgumentError(absl::StrCat("--id \"", o.id, "\" is not a task id (",
                                                     2 * TaskId::kSize, " hex digits)")));
      }
      where = OrFail(LocateTask(*gcs, *id));
    }
    if (!where.worker_id.IsNil()) {
      request.set_worker_id(where.worker_id.Binary());
    } else {
      request.set_pid(where.pid);
    }
  } else if (!o.file.empty() && o.file.find_first_of("*?[") == std::string::npos) {
    const std::optional<NodeId> node = NodeIdOrFail(o.node_id);
    where = node ? OrFail(LocateNode(*gcs, *node)) : HeadNode(*gcs);
    request.set_file_name(o.file);
  } else {
    List(*gcs, o);
    return;
  }
  Show(where, request, o);
}

void AddShowOptions(CLI::App* command, LogOptions* o, bool file_positional) {
  command->add_option("--address", o->address,
                      "GCS address HOST:PORT (default: $RAY_ADDRESS, else the cluster started "
                      "last on this machine)");
  command->add_option("--node-id", o->node_id,
                      "The node (default: every node, or the head for a "
                      "file)");
  command->add_flag("-f,--follow", o->follow, "Keep printing what is written");
  command->add_option("--tail", o->tail, "Print the last N lines first (-1: the whole file)")
      ->capture_default_str();
  if (file_positional) {
    command->add_option("glob", o->file, "A log file's name (printed) or a glob (listed)");
  }
}

}  // namespace

void AddLogCommands(CLI::App& app) {
  auto* logs = app.add_subcommand(
      "logs", "List the cluster's log files, or print a file, a worker's, an actor's or a task's");
  logs->require_subcommand(0, 1);
  auto top = std::make_shared<LogOptions>();
  AddShowOptions(logs, top.get(), /*file_positional=*/true);
  logs->callback([logs, top] {
    if (logs->get_subcommands().empty()) RunLogs(*top, "cluster");
  });

  auto* cluster = logs->add_subcommand("cluster", "List every node's log files, or print one");
  auto cluster_options = std::make_shared<LogOptions>();
  AddShowOptions(cluster, cluster_options.get(), /*file_positional=*/true);
  cluster->callback([cluster_options] { RunLogs(*cluster_options, "cluster"); });

  auto* worker = logs->add_subcommand("worker", "Print a worker's stdout (--err: stderr) by pid");
  auto worker_options = std::make_shared<LogOptions>();
  AddShowOptions(worker, worker_options.get(), false);
  worker->add_option("--pid", worker_options->pid, "The worker's pid")->required();
  worker->add_flag("--err", worker_options->err, "Its stderr instead of its stdout");
  worker->callback([worker_options] { RunLogs(*worker_options, "worker"); });

  for (const char* kind : {"actor", "task"}) {
    auto* command = logs->add_subcommand(
        kind, absl::StrCat("Print the stdout (--err: stderr) of the worker that runs the ", kind));
    auto options = std::make_shared<LogOptions>();
    AddShowOptions(command, options.get(), false);
    command->add_option("--id", options->id, absl::StrCat("The ", kind, " id (hex)"))->required();
    command->add_flag("--err", options->err, "Its stderr instead of its stdout");
    command->callback([options, kind = std::string(kind)] { RunLogs(*options, kind); });
  }
}

}  // namespace moray::cli
