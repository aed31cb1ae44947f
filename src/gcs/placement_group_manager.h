// The placement-group table (docs/scheduling.md): registration with validation, the
// per-namespace name index, records by id (kept after removal, as Ray does) and the job's groups.
// Placement is not here: the placement-group scheduler (placement_group_scheduler.h) drives the
// states with Update and follows changes through the listener.
//
// States: PENDING -> PREPARED -> CREATED -> RESCHEDULING -> PREPARED -> CREATED ...; any state
// -> REMOVED, which is final. A name is unique per namespace among groups not REMOVED.
//
//   PlacementGroupManager groups(&storage);
//   groups.Register(info);                       // validated, stored as PENDING
//   groups.Update(placed);                       // the scheduler's transitions
//   groups.MarkRemoved(id, "removed by ray::RemovePlacementGroup");
//
// Records are written through to storage (Table::kPlacementGroups) and served from memory.
// Thread model: thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "gcs/gcs_table_storage.h"

namespace moray::gcs {

// InvalidArgument naming the problem: no bundles, an empty or all-zero bundle, a negative, NaN
// or non-multiple-of-0.0001 quantity, an unknown strategy.
absl::Status ValidatePlacementGroup(const proto::PlacementGroupInfo& group);

class PlacementGroupManager {
 public:
  // `storage` must outlive the manager. Groups already in storage are loaded.
  explicit PlacementGroupManager(GcsTableStorage* storage);

  // Called with the new record after every change, outside the lock, on the changing thread.
  using Listener = std::function<void(const proto::PlacementGroupInfo&)>;
  void SetListener(Listener listener) { listener_ = std::move(listener); }

  // Validates and stores `group` as PENDING (create time now, bundle indexes 0..n-1, no nodes).
  // InvalidArgument (ValidatePlacementGroup, or no id); AlreadyExists for a known id or a name
  // its namespace gives to a group that is not REMOVED.
  absl::StatusOr<proto::PlacementGroupInfo> Register(proto::PlacementGroupInfo group);
  // Replaces a record that is not REMOVED (the scheduler's transitions). NotFound for an unknown
  // id, FailedPrecondition for a REMOVED one (removal is final).
  absl::Status Update(const proto::PlacementGroupInfo& group);
  // REMOVED with `message`; the record after. NotFound for an unknown id; an already REMOVED
  // group is returned as it is (removal is idempotent).
  absl::StatusOr<proto::PlacementGroupInfo> MarkRemoved(const PlacementGroupId& id,
                                                        const std::string& message);

  absl::StatusOr<proto::PlacementGroupInfo> Get(const PlacementGroupId& id) const;
  // The group called `name` in `ray_namespace` that is not REMOVED; NotFound otherwise.
  absl::StatusOr<proto::PlacementGroupInfo> GetNamed(std::string_view name,
                                                     std::string_view ray_namespace) const;
  // Groups matching every filter in creation order, at most request.limit() (<= 0: all).
  absl::StatusOr<proto::GetPlacementGroupsReply> List(
      const proto::GetPlacementGroupsRequest& request) const;
  // Groups not REMOVED: all, or those of `job_id` that are not detached.
  std::vector<proto::PlacementGroupInfo> Live() const;
  std::vector<PlacementGroupId> OfFinishedJob(const JobId& job_id) const;

 private:
  struct Entry {
    uint64_t seq = 0;  // creation order
    proto::PlacementGroupInfo info;
  };
  using NameKey = std::pair<std::string, std::string>;  // (namespace, name)

  absl::Status Store(const proto::PlacementGroupInfo& info);
  void Notify(const proto::PlacementGroupInfo& info) {
    if (listener_) listener_(info);
  }

  GcsTableStorage* const storage_;
  Listener listener_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<PlacementGroupId, Entry> groups_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, PlacementGroupId> by_seq_ ABSL_GUARDED_BY(mu_);
  std::map<NameKey, PlacementGroupId> names_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace moray::gcs
