// `moray status`: node health, resource usage and pending demands, in the look of `ray status`:
//
//   ======== Cluster status: 2024-05-01 12:00:00.123456 ========
//   Node status
//   ---------------------------------------------------------------
//   Healthy:
//    1 node_5f6e...
//   Pending:
//    (no pending nodes)
//   Recent failures:
//    (no failures)
//
//   Resources
//   ---------------------------------------------------------------
//   Usage:
//    1.0/2.0 CPU
//    0B/4.05GiB object_store_memory
//
//   Demands:
//    {'CPU': 1.0}: 3+ pending tasks/actors
//    {'CPU': 64.0}: 1+ pending tasks/actors (infeasible: no node can ever satisfy it)
//
// Usage is total - available over ALIVE nodes, from each node's latest report; object store
// usage is the bytes the raylets report as used, plus " (X spilled)" when objects are on disk.
#pragma once

#include <map>
#include <string>

#include "absl/time/time.h"
#include "gcs.pb.h"

namespace moray::cli {

// `verbose` (`moray status -v`) adds a "Node usage" section: each ALIVE node's usage, headed
// "Node: <id> (<name>, <ip>[, head])".
std::string FormatClusterStatus(const proto::GetClusterStatusReply& status, absl::Time now,
                                bool verbose = false);

// {'CPU': 1.0, 'GPU': 2.0}: keys sorted, values as Python floats.
std::string FormatResourceShape(const std::map<std::string, double>& shape);

}  // namespace moray::cli
