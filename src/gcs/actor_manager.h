// The actor table (docs/actors.md): registration, the per-namespace name index, the state machine
// and what happens to actors when their job finishes. Scheduling is not here: the actor
// scheduler (actor_scheduler.h) drives transitions with Update and follows changes through the
// listener.
//
// States: DEPENDENCIES_UNREADY -> PENDING_CREATION -> ALIVE -> RESTARTING -> ALIVE ... -> DEAD.
// Every state but DEAD may go to DEAD; RESTARTING needs a restart left under max_restarts (-1:
// unlimited) and counts one. Anything else is FailedPrecondition, so is leaving DEAD.
// A name is unique per namespace among actors that are not DEAD; it is free again once its actor
// is DEAD, detached or not.
//
//   ActorManager actors(&storage);
//   actors.Register(info);                                   // stored as PENDING_CREATION
//   actors.Update(alive_request);                            // -> ALIVE at an address
//   actors.GetNamed("counter", "ns");
//   actors.OnJobFinished(job_id);   // its non-detached actors -> DEAD ("owner job finished")
//
// Records are written through to storage (Table::kActors) and served from memory; a manager built
// on non-empty storage reloads them and the name index.
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

class ActorManager {
 public:
  // `storage` must outlive the manager. Actors already in storage are loaded.
  explicit ActorManager(GcsTableStorage* storage);

  // Called with the new record after every change (registration, transition, job finish),
  // outside the manager's lock, on the thread that made the change. Set once, before use.
  using Listener = std::function<void(const proto::ActorInfo&)>;
  void SetListener(Listener listener) { listener_ = std::move(listener); }

  // Stores `actor` as PENDING_CREATION with register_time_ms now. InvalidArgument without an
  // actor_id; AlreadyExists for a known id, or a name its namespace already gives to an actor
  // that is not DEAD (the message names both).
  absl::Status Register(proto::ActorInfo actor);
  // Applies one transition and returns the updated record. NotFound for an unknown id,
  // FailedPrecondition for a transition the state machine refuses.
  absl::StatusOr<proto::ActorInfo> Update(const proto::UpdateActorRequest& request);
  // NotFound when unknown.
  absl::StatusOr<proto::ActorInfo> Get(const ActorId& actor_id) const;
  // The live (not DEAD) actor called `name` in `ray_namespace`; NotFound otherwise.
  absl::StatusOr<proto::ActorInfo> GetNamed(std::string_view name,
                                            std::string_view ray_namespace) const;
  // Actors matching every filter in registration order, at most request.limit() (<= 0: all).
  // InvalidArgument for an unknown filter key or operator.
  absl::StatusOr<proto::GetActorsReply> GetActors(const proto::GetActorsRequest& request) const;
  // The job's non-detached actors that are not DEAD become DEAD (OWNER_DIED, "owner job
  // finished"). Returns how many.
  absl::StatusOr<int64_t> OnJobFinished(const JobId& job_id);

 private:
  struct Entry {
    uint64_t seq = 0;  // registration order
    proto::ActorInfo info;
  };
  using NameKey = std::pair<std::string, std::string>;  // (namespace, name)

  absl::Status RegisterLocked(proto::ActorInfo* actor) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<proto::ActorInfo> UpdateLocked(const proto::UpdateActorRequest& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status JobFinishedLocked(const JobId& job_id, std::vector<proto::ActorInfo>* changed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Notify(const proto::ActorInfo& info) const {
    if (listener_) listener_(info);
  }
  absl::Status Store(const proto::ActorInfo& info) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Frees the actor's name in the index (it is DEAD).
  void ReleaseName(const proto::ActorInfo& info) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  GcsTableStorage* storage_;
  Listener listener_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ActorId, Entry> actors_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, ActorId> by_seq_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<NameKey, ActorId> names_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
};

// Whether the state machine allows `from` -> `to` (restart budget aside).
bool IsValidActorTransition(proto::ActorState from, proto::ActorState to);

}  // namespace moray::gcs
