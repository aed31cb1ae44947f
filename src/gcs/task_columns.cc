#include "gcs/task_columns.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/id.h"

namespace moray::gcs {

const std::vector<std::string>& TaskColumns() {
  static const auto* columns = new std::vector<std::string>{
      "task_id",        "attempt_number", "name",      "state",     "job_id",
      "actor_id",       "type",           "func_or_class_name",     "parent_task_id",
      "node_id",        "worker_id",      "worker_pid",             "error_type"};
  return *columns;
}

bool IsTaskColumn(std::string_view key) {
  const auto& columns = TaskColumns();
  return std::find(columns.begin(), columns.end(), key) != columns.end();
}

const std::string& TaskStateName(proto::TaskState state) {
  static const std::string kNil = "NIL";
  if (state == proto::TASK_STATE_NIL) return kNil;
  return proto::TaskState_Name(state);  // a reference to a static name
}

std::string TaskTypeName(proto::TaskType type) { return proto::TaskType_Name(type); }

std::optional<std::string> TaskColumnValue(const proto::TaskRecord& r, std::string_view key) {
  if (key == "task_id") return ToHex(r.task_id());
  if (key == "attempt_number") return absl::StrCat(r.attempt_number());
  if (key == "name") return r.name();
  if (key == "state") return TaskStateName(r.state());
  if (key == "job_id") return ToHex(r.job_id());
  if (key == "actor_id") return ToHex(r.actor_id());
  if (key == "type") return TaskTypeName(r.type());
  if (key == "func_or_class_name") return r.func_or_class_name();
  if (key == "parent_task_id") return ToHex(r.parent_task_id());
  if (key == "node_id") return ToHex(r.node_id());
  if (key == "worker_id") return ToHex(r.worker_id());
  if (key == "worker_pid") return r.worker_pid() == 0 ? "" : absl::StrCat(r.worker_pid());
  if (key == "error_type") return r.error_type();
  return std::nullopt;
}

absl::StatusOr<TaskFilter> TaskFilter::Create(const proto::StateFilter& filter) {
  auto parsed = ColumnFilter::Create(filter, TaskColumns(), "tasks");
  if (!parsed.ok()) return parsed.status();
  TaskFilter out;
  out.filter_ = std::move(*parsed);
  return out;
}

bool TaskFilter::Matches(const proto::TaskRecord& record) const {
  return filter_.Accepts(TaskColumnValue(record, filter_.key()));
}

}  // namespace moray::gcs
