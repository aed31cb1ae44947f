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

// Counted here from records (tests; the GCS's SummarizeTasks counts the same way)...
TaskSummary SummarizeTasks(const std::vector<proto::TaskRecord>& tasks);
// ... or as the GCS counted them (SUMMARIZE_TASKS), which is what `moray summary tasks` shows.
TaskSummary TaskSummaryFromReply(const proto::SummarizeTasksReply& reply);
std::string FormatTaskSummary(const TaskSummary& summary, absl::Time now);

// `moray summary objects`: object entries grouped by call site, in the layout of
// `ray summary objects`:
//
//   ======== Object Summary: 2024-05-01 12:00:00.123456 ========
//   Stats:
//   ------------------------------------
//   callsite_enabled: false
//   total_objects: 3
//   total_size_mb: 5.00001
//
//
//   Table (group by callsite):
//   ------------------------------------
//       CALL_SITE    TOTAL_OBJECTS    TOTAL_SIZE_MB    TOTAL_NUM_WORKERS    TOTAL_NUM_NODES    ...
//   0   disabled     3                5.00001          1                    1                  ...
//
// An entry is an object as one process tracks it (what `moray list objects` shows as a row), so
// total_objects equals the list's Total. Sizes (MiB, rounded to 6 decimals) count each object id
// once, at the largest size any process reports; unknown sizes (-1) count as 0.
// TASK_STATE_COUNTS and REF_TYPE_COUNTS are "NAME: count" lines.
struct ObjectSummary {
  int64_t total_objects = 0;
  int64_t total_size_bytes = 0;
  // One row per call site: call_site, total_objects, total_size_mb, total_num_workers,
  // total_num_nodes, task_state_counts, ref_type_counts. Largest groups first.
  std::vector<Row> groups;
};

// `moray summary actors`: actors grouped by class, in the layout of `ray summary actors`:
//
//   ======== Actors Summary: 2024-05-01 12:00:00.123456 ========
//   Stats:
//   ------------------------------------
//   total_actors: 3
//
//
//   Table (group by class):
//   ------------------------------------
//       CLASS_NAME    STATE_COUNTS
//   0   Counter       ALIVE: 2
//                     DEAD: 1
//
// STATE_COUNTS lists states in lifecycle order; the largest groups come first.
struct ActorSummary {
  int64_t total_actors = 0;
  std::vector<Row> groups;  // class_name, state_counts
};

ActorSummary SummarizeActors(const std::vector<proto::ActorInfo>& actors);
std::string FormatActorSummary(const ActorSummary& summary, absl::Time now);

ObjectSummary SummarizeObjects(const std::vector<proto::ObjectRecord>& objects);
std::string FormatObjectSummary(const ObjectSummary& summary, absl::Time now);

}  // namespace moray::cli
