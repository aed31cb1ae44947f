#include "cli/state_resources.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/state_filter.h"
#include "cli/state_rows.h"

namespace moray::cli {
namespace {

absl::StatusOr<ListResult> ListTasks(gcs::GcsClient& client,
                                     const std::vector<proto::StateFilter>& filters,
                                     int64_t limit) {
  // Filtered by the GCS, before the limit: `--limit 10 --filter state=FAILED` finds failures
  // among all tasks, not among the first ten.
  auto reply = client.GetTasks(filters, limit);
  if (!reply.ok()) return reply.status();
  ListResult result{.resource = "tasks"};
  for (const auto& task : reply->tasks()) result.rows.push_back(TaskRow(task));
  result.total = reply->total();
  result.num_truncated = reply->num_truncated();
  result.num_dropped = reply->num_dropped();
  result.num_evicted = reply->num_evicted();
  result.num_events_dropped = reply->num_events_dropped();
  return result;
}

absl::StatusOr<ListResult> ListObjects(gcs::GcsClient& client,
                                       const std::vector<proto::StateFilter>& filters,
                                       int64_t limit) {
  // Filtered by the GCS over every worker's snapshot, then limited.
  auto reply = client.GetObjects(filters, limit);
  if (!reply.ok()) return reply.status();
  ListResult result{.resource = "objects"};
  for (const auto& object : reply->objects()) result.rows.push_back(ObjectRow(object));
  result.total = reply->total();
  result.num_truncated = reply->num_truncated();
  result.num_dropped = reply->num_dropped();
  return result;
}

absl::StatusOr<ListResult> ListActors(gcs::GcsClient& client,
                                      const std::vector<proto::StateFilter>& filters,
                                      int64_t limit) {
  // Filtered by the GCS over the whole actor table, then limited.
  auto reply = client.GetActors(filters, limit);
  if (!reply.ok()) return reply.status();
  ListResult result{.resource = "actors"};
  for (const auto& actor : reply->actors()) result.rows.push_back(ActorRow(actor));
  result.total = reply->total();
  result.num_truncated = reply->num_truncated();
  return result;
}

absl::StatusOr<ListResult> ListPlacementGroups(gcs::GcsClient& client,
                                               const std::vector<proto::StateFilter>& filters,
                                               int64_t limit) {
  // Filtered by the GCS over every group (removed ones included), then limited.
  auto reply = client.GetPlacementGroups(filters, limit);
  if (!reply.ok()) return reply.status();
  ListResult result{.resource = "placement-groups"};
  for (const auto& group : reply->groups()) result.rows.push_back(PlacementGroupRow(group));
  result.total = reply->total();
  result.num_truncated = reply->num_truncated();
  return result;
}

std::vector<StateResource> MakeResources() {
  std::vector<StateResource> resources;
  resources.push_back({
      .name = "actors",
      .id_column = "actor_id",
      .default_columns = {"actor_id", "class_name", "state", "job_id", "name", "node_id", "pid",
                          "ray_namespace"},
      .detail_columns = {"is_detached", "max_restarts", "num_restarts", "death_reason",
                         "death_message", "worker_id", "ip", "required_resources",
                         "register_time_ms", "start_time_ms", "end_time_ms"},
      .list = ListActors,
  });
  resources.push_back({
      .name = "tasks",
      .id_column = "task_id",
      .default_columns = {"task_id", "attempt_number", "name", "state", "job_id", "actor_id",
                          "type", "func_or_class_name", "parent_task_id", "node_id", "worker_id",
                          "worker_pid", "error_type"},
      .detail_columns = {"error_message", "required_resources", "state_times_ns"},
      .list = ListTasks,
  });
  resources.push_back({
      .name = "objects",
      .id_column = "object_id",
      .default_columns = {"object_id", "object_size", "task_status", "reference_type",
                          "call_site", "type", "pid", "ip"},
      .detail_columns = {"node_id", "worker_id", "job_id", "is_owner", "local_refs",
                         "submitted_task_refs", "contained_in_refs", "num_borrowers"},
      .list = ListObjects,
  });
  resources.push_back({
      .name = "nodes",
      .id_column = "node_id",
      .default_columns = {"node_id", "node_ip", "is_head_node", "state", "state_message",
                          "node_name", "resources_total", "labels"},
      .detail_columns = {"raylet_port", "raylet_pid", "object_store_memory", "start_time_ms",
                         "end_time_ms", "session_dir"},
  });
  resources.back().list = [r = resources.back()](gcs::GcsClient& client,
                                                 const std::vector<proto::StateFilter>& filters,
                                                 int64_t limit) -> absl::StatusOr<ListResult> {
    auto nodes = client.GetAllNodes();
    if (!nodes.ok()) return nodes.status();
    std::vector<Row> rows;
    for (const auto& node : *nodes) rows.push_back(NodeRow(node));
    return FilterAndLimit(r, std::move(rows), filters, limit);
  };
  resources.push_back({
      .name = "placement-groups",
      .id_column = "placement_group_id",
      .default_columns = {"placement_group_id", "name", "creator_job_id", "state"},
      .detail_columns = {"strategy", "ray_namespace", "is_detached", "bundles", "state_message",
                         "scheduling_attempts", "creation_latency_ms", "create_time_ms",
                         "removed_time_ms"},
      .list = ListPlacementGroups,
  });
  resources.push_back({
      .name = "workers",
      .id_column = "worker_id",
      .default_columns = {"worker_id", "is_alive", "worker_type", "exit_type", "node_id", "ip",
                          "pid"},
      .detail_columns = {"job_id"},
  });
  resources.back().list = [r = resources.back()](gcs::GcsClient& client,
                                                 const std::vector<proto::StateFilter>& filters,
                                                 int64_t limit) -> absl::StatusOr<ListResult> {
    auto status = client.GetClusterStatus();
    if (!status.ok()) return status.status();
    return FilterAndLimit(r, WorkerRows(*status), filters, limit);
  };
  resources.push_back({
      .name = "jobs",
      .id_column = "job_id",
      .default_columns = {"job_id", "status", "entrypoint", "driver_ip", "driver_pid",
                          "ray_namespace", "start_time_ms", "end_time_ms"},
      .detail_columns = {"driver_binary", "driver_argv", "code_search_path"},
  });
  resources.back().list = [r = resources.back()](gcs::GcsClient& client,
                                                 const std::vector<proto::StateFilter>& filters,
                                                 int64_t limit) -> absl::StatusOr<ListResult> {
    auto jobs = client.GetAllJobs();
    if (!jobs.ok()) return jobs.status();
    std::vector<Row> rows;
    for (const auto& job : *jobs) rows.push_back(JobRow(job));
    return FilterAndLimit(r, std::move(rows), filters, limit);
  };
  return resources;
}

}  // namespace

std::vector<std::string> StateResource::Columns(bool detail) const {
  std::vector<std::string> columns = default_columns;
  if (detail) columns.insert(columns.end(), detail_columns.begin(), detail_columns.end());
  return columns;
}

const std::vector<StateResource>& StateResources() {
  static const auto* resources = new std::vector<StateResource>(MakeResources());
  return *resources;
}

const StateResource* FindStateResource(std::string_view name) {
  for (const auto& resource : StateResources()) {
    if (resource.name == name) return &resource;
  }
  return nullptr;
}

std::string StateResourceNames() {
  std::vector<std::string> names;
  for (const auto& resource : StateResources()) names.push_back(resource.name);
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<ListResult> FilterAndLimit(const StateResource& resource, std::vector<Row> rows,
                                          const std::vector<proto::StateFilter>& filters,
                                          int64_t limit) {
  if (auto s = CheckFilterKeys(filters, resource.Columns(/*detail=*/true), resource.name); !s.ok()) {
    return s;
  }
  ListResult result{.resource = resource.name};
  for (auto& row : rows) {
    if (!RowMatches(row, filters)) continue;
    ++result.total;
    if (limit <= 0 || static_cast<int64_t>(result.rows.size()) < limit) {
      result.rows.push_back(std::move(row));
    }
  }
  result.num_truncated = result.total - static_cast<int64_t>(result.rows.size());
  return result;
}

}  // namespace moray::cli
