// The dashboard's log viewer endpoints: every node's log files and their contents, read through
// that node's raylet (RAYLET_LIST_LOGS, RAYLET_READ_LOG — the methods `moray logs` uses), never
// from this machine's disk, so a file of any node of the cluster opens the same way. Actor and
// task ids resolve to a node and a worker as for `moray logs` (src/cli/process_locator.h).
//
//   GET /api/v0/logs?node_id=HEX            {"nodes": [{"node_id", "node_ip", "is_head_node",
//                                             "files": [{"name", "size", "mtime_ms", "pid",
//                                             "worker_id", "job_id", "alive"}]}]} (every alive
//                                             node without node_id)
//   GET /api/v0/logs/file?node_id=HEX&name=F | &pid=N | &worker_id=HEX  [&err=1]
//        [&offset=N | &tail=LINES]  [&max_bytes=N (<= 1 MiB)]
//   GET /api/v0/logs/actor?actor_id=HEX  [&err=1] [&offset | &tail]
//   GET /api/v0/logs/task?task_id=HEX    [&err=1] [&offset | &tail]
//        -> {"node_id", "node_ip", "file_name", "offset", "size", "data", "worker_alive",
//            "next_offset"}
//
// Bad parameters answer 400, an unknown id, file or node 404, an unreachable raylet 503; every
// error names the cause. Reads are ranges: a page follows a growing file by asking again from
// next_offset.
#pragma once

#include "gcs/gcs_client.h"
#include "httplib.h"

namespace moray::dashboard {

inline constexpr int64_t kMaxLogRead = 1 << 20;

void AddLogRoutes(httplib::Server& server, gcs::GcsClient& gcs);

}  // namespace moray::dashboard
