// `moray timeline` / `moray.timeline()`: the cluster's task records as a Chrome trace (the JSON
// that Perfetto and chrome://tracing open).
//
//   {"traceEvents": [
//     {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "Node 10.0.0.1 (3fa2…)"}},
//     {"ph": "M", "name": "thread_name", "pid": 1, "tid": 4242, "args": {"name": "worker 4242"}},
//     {"ph": "X", "name": "f", "cat": "NORMAL_TASK", "pid": 1, "tid": 4242, "ts": 1.7e15,
//      "dur": 1200.5, "args": {"task_id": "…", "attempt_number": 0, "job_id": "01000000",
//      "state": "FINISHED", "func_or_class_name": "f", ...}}, ...],
//    "displayTimeUnit": "ms"}
//
// One process (pid) per node, numbered from 1 in the GCS's node order; one thread (tid) per
// worker process, its OS pid. One complete event per attempt that ran: from RUNNING to FINISHED
// or FAILED (a failed attempt has state FAILED, its error type in args and cname "terrible"); an
// attempt still running ends at `now`. Attempts that never ran (pending, or failed before a
// worker took them) have no span. Times are microseconds since the epoch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gcs.pb.h"
#include "gcs/gcs_client.h"
#include "nlohmann/json.hpp"

namespace moray::cli {

// The trace of `records` (any order) on `nodes`: {"traceEvents": [...], "displayTimeUnit": "ms"}.
nlohmann::json TimelineTrace(const std::vector<proto::TaskRecord>& records,
                             const std::vector<proto::NodeInfo>& nodes, absl::Time now);

// Every task record the GCS keeps, read `page_size` at a time (GetTasks with an offset); a
// record seen twice (records evicted while reading shift later pages) is kept once. `last_page`
// (if given) receives the last reply without its tasks: its drop counts.
absl::StatusOr<std::vector<proto::TaskRecord>> ReadAllTaskRecords(
    gcs::GcsClient& client, int64_t page_size = 10000, proto::GetTasksReply* last_page = nullptr);

// The trace of the cluster `client` is connected to, now; `last_page` as above.
absl::StatusOr<nlohmann::json> ClusterTimeline(gcs::GcsClient& client,
                                               proto::GetTasksReply* last_page = nullptr);

// Ray's default name: "timeline-YYYY-MM-DD_HH-MM-SS.json" (local time).
std::string DefaultTimelineFileName(absl::Time now);

}  // namespace moray::cli
