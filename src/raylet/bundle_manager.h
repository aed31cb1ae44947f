// BundleManager: this node's share of placement groups — the raylet's side of their two-phase
// commit (docs/scheduling.md). Prepare reserves a group's bundles from the node's available
// resources (all of them or none); Commit turns them into group-scoped resources only the group's
// tasks and actors can use; Return gives them back. Every step is idempotent: preparing a bundle
// held already, committing a committed one, returning an unknown one change nothing, so the GCS
// may repeat any message.
//
//   BundleManager bundles(&leases);
//   auto s = bundles.Prepare(group, {bundle0, bundle1});   // ResourceExhausted: no room here
//   bundles.Commit(group, {bundle0, bundle1});
//   bundles.Return(group, {}, /*group_removed=*/true, "placement group ... was removed");
//
// Thread model: the raylet's event loop only.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "raylet/lease_manager.h"
#include "scheduling/resource_set.h"

namespace moray::raylet {

class BundleManager {
 public:
  explicit BundleManager(LeaseManager* leases) : leases_(leases) {}

  // Reserves every bundle not held yet; ResourceExhausted (nothing reserved) if they do not all
  // fit what is free now; FailedPrecondition for a removed group; InvalidArgument for bad
  // resources.
  absl::Status Prepare(const PlacementGroupId& group, const std::vector<proto::Bundle>& bundles);
  // Commits prepared bundles (committed ones: nothing to do). FailedPrecondition for a bundle
  // that was never prepared here (or was returned since).
  absl::Status Commit(const PlacementGroupId& group, const std::vector<proto::Bundle>& bundles);
  // Gives back the bundles named (prepared or committed; unknown ones are fine). With
  // `group_removed`: also every other bundle of the group here, the group's queued requests fail
  // with `reason`, the workers leased under its resources are killed, and its requests are
  // refused from now on (RejectionOf).
  void Return(const PlacementGroupId& group, const std::vector<proto::Bundle>& bundles,
              bool group_removed, const std::string& reason);
  // Why a lease request asking `resources` must be refused (its group was removed), or "".
  std::string RejectionOf(const scheduling::ResourceSet& resources) const;

  size_t num_bundles() const { return bundles_.size(); }

 private:
  struct Held {
    scheduling::ResourceSet resources;  // as asked
    bool committed = false;
  };
  using Key = std::pair<PlacementGroupId, int>;  // (group, bundle index)

  void ReturnOne(const Key& key, const Held& held);

  LeaseManager* const leases_;
  std::map<Key, Held> bundles_;
  // Groups removed, with the error their requests get; the oldest are forgotten past kMaxRemoved.
  std::map<PlacementGroupId, std::string> removed_;
  std::vector<PlacementGroupId> removed_order_;
};

}  // namespace moray::raylet
