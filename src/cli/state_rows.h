// GCS records as state-CLI rows: ids in hex, enums by name, unknown values null. Each row holds
// every column of its resource (default and --detail ones); the resource table picks which to show.
//
//   Row row = TaskRow(record);   // {"task_id": "...", "attempt_number": 0, "name": "f", ...}
#pragma once

#include <vector>

#include "cli/format_util.h"
#include "gcs.pb.h"

namespace moray::cli {

Row TaskRow(const proto::TaskRecord& task);
Row NodeRow(const proto::NodeInfo& node);
Row JobRow(const proto::JobInfo& job);
Row ObjectRow(const proto::ObjectRecord& object);
Row ActorRow(const proto::ActorInfo& actor);
// bundles: a list of {bundle_index, node_id (null while not reserved), unit_resources}.
Row PlacementGroupRow(const proto::PlacementGroupInfo& group);
// One row per worker of every reported node; node_id and ip come from the node table.
std::vector<Row> WorkerRows(const proto::GetClusterStatusReply& status);

}  // namespace moray::cli
