// The state API's half in C++ (`moray.util.state`): the rows, filters and summaries of the `moray
// list` / `moray summary` commands (src/cli/state_resources.h, format_summary.h, in libmoray),
// read from the GCS. Results cross as JSON text that the Python side loads into dicts.
//
//   _moray_core.state_list("tasks", [("state", "=", "RUNNING")], 100, False, "")
//     -> {"rows": "[{...}, ...]", "total": 3, "num_truncated": 0, "num_dropped": 0}
//   _moray_core.state_summary("actors", "") -> '{"total_actors": 1, "groups": [...]}'
//   _moray_core.state_timeline("") -> '{"traceEvents": [...], ...}' (moray.timeline)

#include <pybind11/stl.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/cluster_runtime.h"
#include "bindings.h"
#include "cli/format_summary.h"
#include "cli/state_filter.h"
#include "cli/state_resources.h"
#include "cli/timeline.h"
#include "common/session.h"
#include "gcs/gcs_client.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"

namespace moray::python {
namespace {

namespace py = pybind11;
using Filter = std::tuple<std::string, std::string, std::string>;

// A status as the Python exception the state API raises: ValueError for what the caller asked
// wrong (a filter key the GCS does not know), RuntimeError (RayStateApiException in Python)
// otherwise.
[[noreturn]] void Throw(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    throw py::value_error(std::string(status.message()));
  }
  throw std::runtime_error(std::string(status.message()));
}

// The GCS to read: the connected cluster's; without one, `address` (else $RAY_ADDRESS, else the
// cluster last started on this machine) through a client of its own, kept per address.
gcs::GcsClient& Client(const std::string& address) {
  if (address.empty() && api::InstalledCoreWorker() != nullptr) return api::InstalledGcsClient();
  std::string given = address;
  const char* env = std::getenv("RAY_ADDRESS");
  if (given.empty()) given = (env != nullptr && *env != '\0') ? env : "auto";
  auto resolved = ResolveGcsAddress(given);
  if (!resolved.ok()) Throw(resolved.status());
  if (api::InstalledCoreWorker() != nullptr &&
      *resolved == api::InstalledCoreWorker()->gcs_address()) {
    return api::InstalledGcsClient();
  }
  static std::mutex mu;
  static auto* clients = new std::map<std::string, std::unique_ptr<gcs::GcsClient>>();
  std::lock_guard<std::mutex> lock(mu);
  auto& client = (*clients)[*resolved];
  if (client == nullptr) {
    if (api::InstalledCoreWorker() == nullptr) {
      // Like the CLI: present the cluster's token (the connected driver already does).
      auto auth = rpc::LoadAuthConfig();
      if (!auth.ok()) Throw(auth.status());
      rpc::SetProcessAuth(*std::move(auth));
      rpc::SetProcessRole(proto::ROLE_CLI);
    }
    auto connected = gcs::GcsClient::Connect(*resolved, absl::Seconds(5));
    if (!connected.ok()) Throw(connected.status());
    client = *std::move(connected);
  }
  return *client;
}

const cli::StateResource& Resource(const std::string& name) {
  const cli::StateResource* resource = cli::FindStateResource(name);
  if (resource == nullptr || !resource->list) {
    throw py::value_error(
        absl::StrCat("unknown resource '", name, "'; choose one of: ", cli::StateResourceNames()));
  }
  return *resource;
}

std::vector<proto::StateFilter> Filters(const cli::StateResource& resource,
                                        const std::vector<Filter>& given) {
  std::vector<proto::StateFilter> filters;
  for (const auto& [key, op, value] : given) {
    if (op != "=" && op != "!=") {
      throw py::value_error(absl::StrCat("unsupported filter predicate '", op, "' in (", key, ", ",
                                         op, ", ", value, "); use '=' or '!='"));
    }
    proto::StateFilter filter;
    filter.set_key(key);
    filter.set_op(op);
    filter.set_value(value);
    filters.push_back(std::move(filter));
  }
  // The same keys for every resource, whether the GCS or FilterAndLimit applies them.
  auto checked = cli::CheckFilterKeys(filters, resource.Columns(/*detail=*/true), resource.name);
  if (!checked.ok()) Throw(checked);
  return filters;
}

py::dict List(const std::string& name, const std::vector<Filter>& given, int64_t limit, bool detail,
              const std::string& address) {
  const cli::StateResource& resource = Resource(name);
  std::vector<proto::StateFilter> filters = Filters(resource, given);
  std::string rows;
  cli::ListResult result;
  {
    py::gil_scoped_release release;
    auto listed = resource.list(Client(address), filters, limit);
    if (!listed.ok()) Throw(listed.status());  // translated once the GIL is back
    result = *std::move(listed);
    cli::Row projected = cli::Row::array();
    const auto columns = resource.Columns(detail);
    for (const auto& row : result.rows) projected.push_back(cli::Project(row, columns));
    rows = projected.dump();
  }
  py::dict out;
  out["rows"] = rows;
  out["total"] = result.total;
  out["num_truncated"] = result.num_truncated;
  out["num_dropped"] = result.num_dropped;
  out["num_evicted"] = result.num_evicted;
  return out;
}

std::string Summary(const std::string& name, const std::string& address) {
  cli::Row out = cli::Row::object();
  absl::Status status;
  {
    py::gil_scoped_release release;
    gcs::GcsClient& client = Client(address);
    if (name == "tasks") {
      auto reply = client.SummarizeTasks();  // counted at the GCS over every record
      status = reply.status();
      if (reply.ok()) {
        cli::TaskSummary summary = cli::TaskSummaryFromReply(*reply);
        out["total_tasks"] = summary.total_tasks;
        out["total_actor_tasks"] = summary.total_actor_tasks;
        out["total_actor_scheduled"] = summary.total_actor_scheduled;
        out["groups"] = summary.groups;
        out["num_dropped"] = reply->num_dropped();
        out["num_evicted"] = reply->num_evicted();
        out["num_events_dropped"] = reply->num_events_dropped();
      }
    } else if (name == "actors") {
      auto reply = client.GetActors({}, /*limit=*/0);
      status = reply.status();
      if (reply.ok()) {
        std::vector<proto::ActorInfo> actors(reply->actors().begin(), reply->actors().end());
        cli::ActorSummary summary = cli::SummarizeActors(actors);
        out["total_actors"] = summary.total_actors;
        out["groups"] = summary.groups;
      }
    } else if (name == "objects") {
      auto reply = client.GetObjects({}, /*limit=*/0);
      status = reply.status();
      if (reply.ok()) {
        std::vector<proto::ObjectRecord> objects(reply->objects().begin(), reply->objects().end());
        cli::ObjectSummary summary = cli::SummarizeObjects(objects);
        out["total_objects"] = summary.total_objects;
        out["total_size_bytes"] = summary.total_size_bytes;
        out["groups"] = summary.groups;
        out["num_dropped"] = reply->num_dropped();
      }
    } else {
      status = absl::InvalidArgumentError(absl::StrCat("unknown resource '", name,
                                                       "' to summarize; choose one of: tasks, "
                                                       "actors, objects"));
    }
  }
  if (!status.ok()) Throw(status);
  return out.dump();
}

// The Chrome trace of every task record (cli/timeline.h), as JSON text.
std::string Timeline(const std::string& address) {
  std::string out;
  absl::Status status;
  {
    py::gil_scoped_release release;
    auto trace = cli::ClusterTimeline(Client(address));
    status = trace.status();
    if (trace.ok()) out = trace->dump();
  }
  if (!status.ok()) Throw(status);
  return out;
}

}  // namespace

void BindState(py::module_& m) {
  m.def("state_list", &List, py::arg("resource"), py::arg("filters"), py::arg("limit"),
        py::arg("detail"), py::arg("address"));
  m.def("state_columns",
        [](const std::string& name, bool detail) { return Resource(name).Columns(detail); });
  m.def("state_summary", &Summary, py::arg("resource"), py::arg("address"));
  m.def("state_timeline", &Timeline, py::arg("address"));
}

}  // namespace moray::python
