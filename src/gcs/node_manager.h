// The node table: raylets register here, report their resources, and leave (or are declared
// dead) with a reason. Keeps the latest resource report of each node for `moray status` and the
// worker list.
//
//   NodeManager nodes(&storage);
//   nodes.RegisterNode(info);                       // state ALIVE
//   nodes.ReportResources(report);                  // replaces the node's previous report
//   nodes.UnregisterNode(node_id, "moray stop");    // state DEAD, state_message = reason
//
// Thread model: thread-safe. Node records are written through to storage; reports live in memory
// only (the next report rebuilds them).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "gcs/gcs_table_storage.h"
#include "scheduling/cluster_view.h"

namespace moray::gcs {

class NodeManager {
 public:
  // `storage` must outlive the manager.
  explicit NodeManager(GcsTableStorage* storage) : storage_(storage) {}

  // Adds the node as ALIVE, or revives a known id (a restarted raylet keeps its place in the
  // list). InvalidArgument without a node id (16 bytes). Fills start_time_ms with now when unset.
  absl::Status RegisterNode(proto::NodeInfo node);
  // Marks the node DEAD with `reason` as its state message and its workers as not alive.
  // NotFound for an unknown node; a dead node stays dead (no-op).
  absl::Status UnregisterNode(const NodeId& node_id, std::string_view reason);
  // Replaces the node's latest report. NotFound for an unknown node, FailedPrecondition for a
  // node already declared dead (its raylet should stop).
  absl::Status ReportResources(proto::NodeResourceReport report);
  // The node's plain resources (no group-scoped names) as a reply of its raylet just told
  // (placement groups' bundles): the plain view is fresh before the node's next report, which
  // brings the rest. Nothing for an unknown or dead node.
  void UpdateResources(const NodeId& node_id,
                       const google::protobuf::Map<std::string, double>& total,
                       const google::protobuf::Map<std::string, double>& available);

  // All nodes, alive and dead, in registration order.
  std::vector<proto::NodeInfo> GetAllNodes() const;
  // All nodes and the latest report of each node that has reported.
  proto::GetClusterStatusReply GetClusterStatus() const;
  // The alive nodes as the placement policy sees them (src/scheduling), from resources parsed
  // once per report: with or without the group-scoped names of placement-group bundles (placing
  // bundles needs only the plain ones; an actor in a group needs its bundle's).
  scheduling::ClusterView ResourceView(bool with_group_scoped) const;
  // The node's record if it is alive.
  std::optional<proto::NodeInfo> GetAliveNode(const NodeId& node_id) const;

 private:
  GcsTableStorage* storage_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<NodeId, proto::NodeInfo> nodes_ ABSL_GUARDED_BY(mu_);
  std::vector<NodeId> registration_order_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<NodeId, proto::NodeResourceReport> reports_ ABSL_GUARDED_BY(mu_);
  struct Parsed {
    scheduling::ResourceSet total, available;              // every name
    scheduling::ResourceSet plain_total, plain_available;  // without group-scoped names
  };
  // Alive nodes' resources: the last report's (or the registered totals, all free).
  void ParseLocked(const NodeId& node_id, const google::protobuf::Map<std::string, double>& total,
                   const google::protobuf::Map<std::string, double>& available)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::flat_hash_map<NodeId, Parsed> parsed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moray::gcs
