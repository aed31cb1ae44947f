#include "cli/state_rows.h"

#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_join.h"
#include "common/id.h"
#include "gcs/actor_columns.h"
#include "gcs/placement_group_columns.h"
#include "gcs/task_columns.h"

namespace moray::cli {
namespace {

Row HexOrNull(const std::string& bytes) { return bytes.empty() ? Row() : Row(ToHex(bytes)); }
Row NonZeroOrNull(int64_t value) { return value == 0 ? Row() : Row(value); }

template <typename Map>
Row MapObject(const Map& map) {
  // Sorted: protobuf maps iterate in no particular order.
  std::map<std::string, typename Map::mapped_type> sorted(map.begin(), map.end());
  Row out = Row::object();
  for (const auto& [key, value] : sorted) out[key] = value;
  return out;
}

}  // namespace

Row TaskRow(const proto::TaskRecord& t) {
  Row row = Row::object();
  row["task_id"] = ToHex(t.task_id());
  row["attempt_number"] = t.attempt_number();
  row["name"] = t.name();
  row["state"] = gcs::TaskStateName(t.state());
  row["job_id"] = HexOrNull(t.job_id());
  row["actor_id"] = HexOrNull(t.actor_id());
  row["type"] = gcs::TaskTypeName(t.type());
  row["func_or_class_name"] = t.func_or_class_name();
  row["parent_task_id"] = HexOrNull(t.parent_task_id());
  row["node_id"] = HexOrNull(t.node_id());
  row["worker_id"] = HexOrNull(t.worker_id());
  row["worker_pid"] = NonZeroOrNull(t.worker_pid());
  row["error_type"] = t.error_type().empty() ? Row() : Row(t.error_type());
  // --detail
  row["error_message"] = t.error_message().empty() ? Row() : Row(t.error_message());
  row["required_resources"] = MapObject(t.required_resources());
  row["state_times_ns"] = MapObject(t.state_times_ns());
  return row;
}

Row NodeRow(const proto::NodeInfo& n) {
  Row row = Row::object();
  row["node_id"] = ToHex(n.node_id());
  row["node_ip"] = n.node_ip();
  row["is_head_node"] = n.is_head_node();
  row["state"] = n.state() == proto::NODE_ALIVE ? "ALIVE" : "DEAD";
  row["state_message"] = n.state_message().empty() ? Row() : Row(n.state_message());
  row["node_name"] = n.node_name();
  row["resources_total"] = MapObject(n.resources_total());
  row["labels"] = MapObject(n.labels());
  // --detail
  row["raylet_port"] = n.raylet_port();
  row["raylet_pid"] = NonZeroOrNull(n.raylet_pid());
  row["object_store_memory"] = n.object_store_memory();
  row["start_time_ms"] = NonZeroOrNull(n.start_time_ms());
  row["end_time_ms"] = NonZeroOrNull(n.end_time_ms());
  row["session_dir"] = n.session_dir();
  return row;
}

Row JobRow(const proto::JobInfo& j) {
  Row row = Row::object();
  row["job_id"] = ToHex(j.job_id());
  row["status"] = j.is_dead() ? "FINISHED" : "RUNNING";
  // Drivers that do not name an entrypoint are shown by their command line.
  row["entrypoint"] = !j.entrypoint().empty() ? j.entrypoint() : absl::StrJoin(j.driver_argv(), " ");
  row["driver_ip"] = j.driver_ip();
  row["driver_pid"] = NonZeroOrNull(j.driver_pid());
  row["ray_namespace"] = j.ray_namespace();
  row["start_time_ms"] = NonZeroOrNull(j.start_time_ms());
  row["end_time_ms"] = NonZeroOrNull(j.end_time_ms());
  // --detail
  row["driver_binary"] = j.driver_binary();
  Row argv = Row::array(), paths = Row::array();
  for (const auto& arg : j.driver_argv()) argv.push_back(arg);
  for (const auto& path : j.code_search_path()) paths.push_back(path);
  row["driver_argv"] = std::move(argv);
  row["code_search_path"] = std::move(paths);
  return row;
}

Row ObjectRow(const proto::ObjectRecord& o) {
  Row row = Row::object();
  row["object_id"] = ToHex(o.object_id());
  row["object_size"] = o.object_size();  // bytes; -1: no value in that process yet
  row["task_status"] = o.task_status();
  row["reference_type"] = o.reference_type();
  row["call_site"] = o.call_site();
  row["type"] = o.type();
  row["pid"] = NonZeroOrNull(o.pid());
  row["ip"] = o.ip();
  // --detail
  row["node_id"] = HexOrNull(o.node_id());
  row["worker_id"] = HexOrNull(o.worker_id());
  row["job_id"] = HexOrNull(o.job_id());
  row["is_owner"] = o.is_owner();
  row["local_refs"] = o.local_refs();
  row["submitted_task_refs"] = o.submitted_task_refs();
  row["contained_in_refs"] = o.contained_in_refs();
  row["num_borrowers"] = o.num_borrowers();
  return row;
}

Row ActorRow(const proto::ActorInfo& a) {
  Row row = Row::object();
  row["actor_id"] = ToHex(a.actor_id());
  row["class_name"] = a.class_name();
  row["state"] = gcs::ActorStateName(a.state());
  row["job_id"] = HexOrNull(a.job_id());
  row["name"] = a.name();
  row["node_id"] = HexOrNull(a.node_id());
  row["pid"] = NonZeroOrNull(a.pid());
  row["ray_namespace"] = a.ray_namespace();
  // --detail
  row["is_detached"] = a.is_detached();
  row["max_restarts"] = a.max_restarts();
  row["num_restarts"] = a.num_restarts();
  const std::string reason = gcs::ActorDeathReasonName(a.death_cause().reason());
  row["death_reason"] = reason.empty() ? Row() : Row(reason);
  row["death_message"] =
      a.death_cause().message().empty() ? Row() : Row(a.death_cause().message());
  row["worker_id"] = HexOrNull(a.address().worker_id());
  row["ip"] = a.address().ip().empty() ? Row() : Row(a.address().ip());
  row["required_resources"] = MapObject(a.required_resources());
  row["register_time_ms"] = NonZeroOrNull(a.register_time_ms());
  row["start_time_ms"] = NonZeroOrNull(a.start_time_ms());
  row["end_time_ms"] = NonZeroOrNull(a.end_time_ms());
  return row;
}

Row PlacementGroupRow(const proto::PlacementGroupInfo& g) {
  Row row = Row::object();
  row["placement_group_id"] = ToHex(g.placement_group_id());
  row["name"] = g.name();
  row["creator_job_id"] = HexOrNull(g.creator_job_id());
  row["state"] = gcs::PlacementGroupStateName(g.state());
  // --detail
  row["strategy"] = gcs::PlacementStrategyName(g.strategy());
  row["ray_namespace"] = g.ray_namespace();
  row["is_detached"] = g.is_detached();
  Row bundles = Row::array();
  for (const auto& b : g.bundles()) {
    Row bundle = Row::object();
    bundle["bundle_index"] = b.index();
    bundle["node_id"] = HexOrNull(b.node_id());
    bundle["unit_resources"] = MapObject(b.resources());
    bundles.push_back(std::move(bundle));
  }
  row["bundles"] = std::move(bundles);
  row["state_message"] = g.state_message().empty() ? Row() : Row(g.state_message());
  row["scheduling_attempts"] = g.scheduling_attempts();
  auto latency = gcs::CreationLatencyMs(g);
  row["creation_latency_ms"] = latency ? Row(*latency) : Row();
  row["create_time_ms"] = NonZeroOrNull(g.create_time_ms());
  row["removed_time_ms"] = NonZeroOrNull(g.removed_time_ms());
  return row;
}

std::vector<Row> WorkerRows(const proto::GetClusterStatusReply& status) {
  absl::flat_hash_map<std::string, std::string> node_ips;
  for (const auto& node : status.nodes()) node_ips[node.node_id()] = node.node_ip();
  std::vector<Row> rows;
  for (const auto& report : status.reports()) {
    for (const auto& w : report.workers()) {
      Row row = Row::object();
      row["worker_id"] = ToHex(w.worker_id());
      row["is_alive"] = w.is_alive();
      row["worker_type"] = w.worker_type();
      row["exit_type"] = w.exit_type().empty() ? Row() : Row(w.exit_type());
      row["node_id"] = ToHex(report.node_id());
      row["ip"] = node_ips[report.node_id()];
      row["pid"] = w.pid();
      // --detail
      row["job_id"] = HexOrNull(w.job_id());
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace moray::cli
