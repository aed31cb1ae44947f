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
//    2.0/4.0 CPU (1.0 used of 2.0 reserved in placement groups)
//    0B/4.05GiB object_store_memory
//
//   Demands:
//    {'CPU': 1.0}: 3+ pending tasks/actors
//    {'CPU': 64.0}: 1+ pending tasks/actors (infeasible: no node can ever satisfy it)
//    {'CPU': 1.0} (placement group 5a0b..., bundle 0): 1+ pending tasks/actors
//    {'CPU': 1.0} * 2 (PACK): 1+ pending placement groups
//    {'GPU': 8.0} * 1 (STRICT_PACK): 1+ pending placement groups (infeasible: ...)
//
// Usage is total - available over ALIVE nodes, from each node's latest report; object store
// usage is the bytes the raylets report as used, plus " (X spilled)" when objects are on disk.
// A committed bundle's resources count as used of the plain resource (as in `ray status`); the
// group-scoped names that commit adds (CPU_group_<id>, ...) are not listed, only summed into the
// "reserved in placement groups" note. Requests asking group-scoped names are shown by the plain
// resources they ask of their group.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gcs.pb.h"

namespace moray::cli {

// `verbose` (`moray status -v`) adds a "Node usage" section: each ALIVE node's usage, headed
// "Node: <id> (<name>, <ip>[, head])". `groups`: placement groups; the PENDING and RESCHEDULING
// ones are demands (the bundles they still need, their strategy, whether infeasible).
std::string FormatClusterStatus(const proto::GetClusterStatusReply& status, absl::Time now,
                                bool verbose = false,
                                const std::vector<proto::PlacementGroupInfo>& groups = {});

// {'CPU': 1.0, 'GPU': 2.0}: keys sorted, values as Python floats.
std::string FormatResourceShape(const std::map<std::string, double>& shape);

}  // namespace moray::cli
