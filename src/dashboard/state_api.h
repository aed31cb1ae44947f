// The dashboard's JSON endpoints over the cluster's state, the same code `moray list` and
// Python's moray.util.state use (src/cli/state_resources.h: rows, filters, limits at the GCS):
//
//   GET /api/v0/nodes              node rows joined with the raylets' last reports (resources
//                                  available, object store used and spilled, worker count)
//   GET /api/v0/{jobs,actors,tasks,placement_groups,workers,objects}
//        ?limit=N (1..10000, default 100) &offset=N (default 0)
//        &filter=KEY=VALUE | KEY!=VALUE (repeatable, ANDed; `moray list --filter`'s rules)
//
// Every list answers {"result": [rows], "total": matching rows, "offset", "limit",
// "num_truncated": matching rows not in this page (before or after it), "num_dropped": records the
// cluster lost}. Tasks are filtered and paged by the GCS (GetTasksRequest.offset); the other
// resources are filtered at the GCS (actors, placement groups, objects) or here (nodes, jobs,
// workers), then the page is cut. Bad parameters answer 400 with {"error": "..."} naming the
// parameter; an unreachable GCS 503.
#pragma once

#include "gcs/gcs_client.h"
#include "httplib.h"

namespace moray::dashboard {

inline constexpr int64_t kMaxPageSize = 10000;

void AddStateRoutes(httplib::Server& server, gcs::GcsClient& gcs);

}  // namespace moray::dashboard
