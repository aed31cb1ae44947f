#include "dashboard/log_api.h"

#include <charconv>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cli/process_locator.h"
#include "cli/raylet_client.h"
#include "common/id.h"
#include "dashboard/http_params.h"
#include "nlohmann/json.hpp"
#include "raylet.pb.h"

namespace moray::dashboard {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(10);

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return 404;
    default:
      return 503;
  }
}

void Fail(httplib::Response& res, const absl::Status& status) {
  Answer(res, HttpStatusOf(status), {{"error", std::string(status.message())}});
}

template <typename Id>
absl::StatusOr<Id> IdParam(const httplib::Request& req, const char* name) {
  const std::string text = req.get_param_value(name);
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat("'", name, "' is missing"));
  std::optional<Id> id = Id::FromHex(text);
  if (!id) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' \"", text, "\" is not an id (", 2 * Id::kSize, " hex digits)"));
  }
  return *id;
}

// The node's raylet: NotFound for a node the GCS does not know, FailedPrecondition for a dead one.
absl::StatusOr<cli::ProcessLocation> LocateNode(gcs::GcsClient& gcs, const NodeId& node_id) {
  auto nodes = gcs.GetAllNodes();
  if (!nodes.ok()) return nodes.status();
  for (const auto& node : *nodes) {
    if (node.node_id() != node_id.Binary()) continue;
    if (node.state() != proto::NODE_ALIVE) {
      return absl::FailedPreconditionError(
          absl::StrCat("node ", node_id.Hex(), " is dead: its logs cannot be read"));
    }
    return cli::ProcessLocation{
        .node_id = node_id, .node_ip = node.node_ip(), .raylet_port = node.raylet_port()};
  }
  return absl::NotFoundError(absl::StrCat("the cluster has no node ", node_id.Hex()));
}

absl::StatusOr<proto::ListLogsReply> ListNode(const proto::NodeInfo& node) {
  auto raylet = cli::RayletClient::Connect(node.node_ip(), node.raylet_port());
  if (!raylet.ok()) return raylet.status();
  proto::ListLogsReply reply;
  if (auto s =
          (*raylet)->Call(proto::RAYLET_LIST_LOGS, proto::ListLogsRequest{}, &reply, kCallTimeout);
      !s.ok()) {
    return s;
  }
  return reply;
}

nlohmann::ordered_json FilesJson(const proto::ListLogsReply& reply) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& file : reply.files()) {
    nlohmann::ordered_json entry = {
        {"name", file.name()}, {"size", file.size()}, {"mtime_ms", file.mtime_ms()}};
    if (file.pid() != 0) {
      entry["pid"] = file.pid();
      entry["worker_id"] = ToHex(file.worker_id());
      entry["job_id"] = ToHex(file.job_id());
      entry["alive"] = file.alive();
    }
    files.push_back(std::move(entry));
  }
  return files;
}

// The range the request asks for: offset, else the last `tail` lines (default 1000).
absl::Status SetRange(const httplib::Request& req, proto::ReadLogRequest* read) {
  auto max_bytes = WholeParam(req, "max_bytes", kMaxLogRead, 1, kMaxLogRead);
  if (!max_bytes.ok()) return max_bytes.status();
  read->set_max_bytes(*max_bytes);
  read->set_err(req.get_param_value("err") == "1" || req.get_param_value("err") == "true");
  if (req.has_param("offset")) {
    auto offset = WholeParam(req, "offset", 0, 0, int64_t{1} << 50);
    if (!offset.ok()) return offset.status();
    read->set_offset(*offset);
    return absl::OkStatus();
  }
  auto tail = WholeParam(req, "tail", 1000, 1, 100000);
  if (!tail.ok()) return tail.status();
  read->set_tail_lines(static_cast<int32_t>(*tail));
  return absl::OkStatus();
}

std::string Dump(const nlohmann::ordered_json& body) {
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void Read(httplib::Response& res, const cli::ProcessLocation& where,
          const proto::ReadLogRequest& read) {
  auto raylet = cli::RayletClient::Connect(where.node_ip, where.raylet_port);
  if (!raylet.ok()) return Fail(res, raylet.status());
  proto::ReadLogReply reply;
  if (auto s = (*raylet)->Call(proto::RAYLET_READ_LOG, read, &reply, kCallTimeout); !s.ok()) {
    return Fail(res, s);
  }
  res.set_content(
      Dump({{"node_id", where.node_id.Hex()},
            {"node_ip", where.node_ip},
            {"file_name", reply.file_name()},
            {"offset", reply.offset()},
            {"size", reply.size()},
            // Log bytes are not always UTF-8: invalid sequences become U+FFFD, not an error.
            {"data", nlohmann::ordered_json(reply.data())},
            {"worker_alive", reply.worker_alive()},
            {"next_offset", reply.offset() + static_cast<int64_t>(reply.data().size())}}),
      "application/json");
}

// The log of the worker an actor or task ran on (by worker id, else pid), in the request's range.
void ReadWorkerLog(const httplib::Request& req, httplib::Response& res,
                   const absl::StatusOr<cli::ProcessLocation>& where) {
  if (!where.ok()) return Fail(res, where.status());
  proto::ReadLogRequest read;
  if (!where->worker_id.IsNil()) {
    read.set_worker_id(where->worker_id.Binary());
  } else {
    read.set_pid(where->pid);
  }
  if (auto s = SetRange(req, &read); !s.ok()) return Fail(res, s);
  Read(res, *where, read);
}

}  // namespace

void AddLogRoutes(httplib::Server& server, gcs::GcsClient& gcs) {
  server.Get("/api/v0/logs", [&gcs](const httplib::Request& req, httplib::Response& res) {
    std::optional<NodeId> only;
    if (req.has_param("node_id")) {
      auto id = IdParam<NodeId>(req, "node_id");
      if (!id.ok()) return Fail(res, id.status());
      if (auto known = LocateNode(gcs, *id); !known.ok()) return Fail(res, known.status());
      only = *id;
    }
    auto nodes = gcs.GetAllNodes();
    if (!nodes.ok()) return Fail(res, nodes.status());
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& node : *nodes) {
      if (node.state() != proto::NODE_ALIVE) continue;
      if (only && node.node_id() != only->Binary()) continue;
      nlohmann::ordered_json entry = {{"node_id", ToHex(node.node_id())},
                                      {"node_ip", node.node_ip()},
                                      {"is_head_node", node.is_head_node()}};
      auto files = ListNode(node);
      if (files.ok()) {
        entry["files"] = FilesJson(*files);
      } else {
        entry["error"] = std::string(files.status().message());
      }
      out.push_back(std::move(entry));
    }
    res.set_content(Dump({{"nodes", std::move(out)}}), "application/json");
  });
  server.Get("/api/v0/logs/file", [&gcs](const httplib::Request& req, httplib::Response& res) {
    auto node_id = IdParam<NodeId>(req, "node_id");
    if (!node_id.ok()) return Fail(res, node_id.status());
    auto where = LocateNode(gcs, *node_id);
    if (!where.ok()) return Fail(res, where.status());
    proto::ReadLogRequest read;
    if (req.has_param("name")) {
      read.set_file_name(req.get_param_value("name"));
    } else if (req.has_param("pid")) {
      auto pid = WholeParam(req, "pid", 0, 1, INT32_MAX);
      if (!pid.ok()) return Fail(res, pid.status());
      read.set_pid(static_cast<int32_t>(*pid));
    } else if (req.has_param("worker_id")) {
      auto worker = IdParam<WorkerId>(req, "worker_id");
      if (!worker.ok()) return Fail(res, worker.status());
      read.set_worker_id(worker->Binary());
    } else {
      return Fail(res, absl::InvalidArgumentError("name the file: 'name', 'pid' or 'worker_id'"));
    }
    if (auto s = SetRange(req, &read); !s.ok()) return Fail(res, s);
    Read(res, *where, read);
  });
  server.Get("/api/v0/logs/actor", [&gcs](const httplib::Request& req, httplib::Response& res) {
    auto id = IdParam<ActorId>(req, "actor_id");
    if (!id.ok()) return Fail(res, id.status());
    ReadWorkerLog(req, res, cli::LocateActor(gcs, *id));
  });
  server.Get("/api/v0/logs/task", [&gcs](const httplib::Request& req, httplib::Response& res) {
    auto id = IdParam<TaskId>(req, "task_id");
    if (!id.ok()) return Fail(res, id.status());
    ReadWorkerLog(req, res, cli::LocateTask(gcs, *id));
  });
}

}  // namespace moray::dashboard
