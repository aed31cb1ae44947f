// `moray summary tasks`: task counts grouped by function or class name, in the layout of
// `ray summary tasks`:
//
//   ======== Tasks Summary: 2024-05-01 12:00:00.123456 ========
//   Stats:
//   ------------------------------------
//   total_actor_scheduled: 0
//   total_actor_tasks: 0
//   total_tasks: 12
//
//
//   Table (group by func_name):
//   ------------------------------------
//       FUNC_OR_CLASS_NAME  STATE_COUNTS  TYPE
//   0   f                   RUNNING: 2    NORMAL_TASK
//                           FINISHED: 10
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cli/format_util.h"
#include "gcs.pb.h"

namespace moray::cli {

struct TaskSummary {
  int64_t total_actor_scheduled = 0;  // actor creation tasks
  int64_t total_actor_tasks = 0;      // actor method calls
  int64_t total_tasks = 0;            // normal (and driver) tasks
  // One row per (func_or_class_name, type): func_or_class_name, state_counts, type. Largest
  // groups first.
  std::vector<Row> groups;
};

TaskSummary SummarizeTasks(const std::vector<proto::TaskRecord>& tasks);
std::string FormatTaskSummary(const TaskSummary& summary, absl::Time now);

}  // namespace moray::cli
