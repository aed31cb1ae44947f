// The columns of a task record as the state API shows and filters them: one string per column,
// ids in hex, enums by name, unknown values empty. The GCS filters with these strings and the CLI
// prints them, so `--filter state=running` matches exactly what the table shows as RUNNING.
//
//   TaskColumnValue(record, "state")   // -> "RUNNING"
//   IsTaskColumn("worker_pid")         // -> true
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gcs.pb.h"
#include "gcs/column_filter.h"

namespace moray::gcs {

// Filterable task columns, in display order.
const std::vector<std::string>& TaskColumns();
bool IsTaskColumn(std::string_view key);

// The record's value of `key` (one of TaskColumns()), or nullopt for another key.
std::optional<std::string> TaskColumnValue(const proto::TaskRecord& record, std::string_view key);

// "RUNNING", "NORMAL_TASK", ...; "NIL" for a state nobody reported yet.
const std::string& TaskStateName(proto::TaskState state);
std::string TaskTypeName(proto::TaskType type);

// A filter checked once, then applied to many records.
class TaskFilter {
 public:
  // InvalidArgument for an unknown key (the message lists the valid ones) or operator.
  static absl::StatusOr<TaskFilter> Create(const proto::StateFilter& filter);
  bool Matches(const proto::TaskRecord& record) const;

 private:
  ColumnFilter filter_;
};

}  // namespace moray::gcs
