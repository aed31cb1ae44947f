// ReferenceCounter: every object this process can reach — the ones it owns and the ones it
// borrows — and what still reaches each one. The owner frees an object when nothing anywhere
// reaches it; a borrower tells the owner when it no longer does.
//
// What counts, per object:
//   local      ObjectRef handles in this process
//   submitted  pending tasks that take the object (as an argument, or nested in one), and the
//              task executing here that received it
//   contained  objects known here whose value holds a ref to it (a put, a return, a fetched copy)
//   borrowers  (owned objects) registrations of other processes, by address, with counts
//   held       (borrowed objects) registrations the owner keeps for this process
//
// Protocol (docs/object_store.md): whoever sends a ref to another process registers the
// receiver with the owner before sending (the owner itself just counts); an executor that
// receives a ref in a task argument registers itself before running the task, while the
// submitter still holds the ref. A borrower whose counts reach zero returns its `held`
// registrations to the owner.
//
// Thread model: thread-safe. Callbacks run outside the lock, on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common.pb.h"
#include "common/id.h"
#include "rpc/address.h"

namespace moray::core {

class ReferenceCounter {
 public:
  struct Callbacks {
    // An owned object that nothing reaches any more: free its value everywhere.
    std::function<void(const ObjectId& id)> on_free_owned;
    // A borrowed object this process no longer reaches: drop the cached copy and return
    // `held` registrations to `owner` (when held > 0).
    std::function<void(const ObjectId& id, const rpc::Address& owner, int64_t held)>
        on_release_borrowed;
  };

  explicit ReferenceCounter(Callbacks callbacks) : callbacks_(std::move(callbacks)) {}

  // Starts tracking an object this process owns (a put or a task return), with no references yet.
  void AddOwned(const ObjectId& id);
  bool IsOwned(const ObjectId& id) const;
  // Starts tracking a borrowed object (no counts) if it is not known yet.
  void AddBorrowed(const ObjectId& id, const rpc::Address& owner);
  // The owner of a borrowed object.
  std::optional<rpc::Address> OwnerOf(const ObjectId& id) const;
  // Whether this process tracks `id` at all (owned, or borrowed and still reachable here).
  bool Tracks(const ObjectId& id) const;

  void AddLocalReference(const ObjectId& id);
  void RemoveLocalReference(const ObjectId& id);
  void AddSubmittedTaskReference(const ObjectId& id);
  void RemoveSubmittedTaskReference(const ObjectId& id);

  // `container`'s value holds refs to `nested`: they stay reachable while `container` does.
  // Nested ids must be tracked already (owned or borrowed).
  void SetNested(const ObjectId& container, const std::vector<ObjectId>& nested);

  // Owned objects: registrations of `borrower`. Returns false if `id` is not owned
  // (or already freed).
  bool AddBorrower(const ObjectId& id, const rpc::Address& borrower, int64_t count);
  void RemoveBorrower(const ObjectId& id, const rpc::Address& borrower, int64_t count);
  // A borrower process died: drop all its registrations.
  void DropBorrower(const rpc::Address& borrower);

  // Borrowed objects: the owner now keeps `count` more registrations for this process.
  void AddHeld(const ObjectId& id, int64_t count);

  // This process received `nested` refs inside the value of `container`, each registered for it
  // (as `self`) by the sender. Borrowed refs gain a held registration; for refs owned here
  // the self-registration turns into containment. Refs stay while `container` is tracked.
  void AcceptNested(const ObjectId& container,
                    const google::protobuf::RepeatedPtrField<proto::NestedRef>& nested,
                    const rpc::Address& self);
  // As above, for a value split over several `containers` (the returns of one task, whose refs
  // are not told apart): each ref is registered once, and stays while any container is tracked.
  void AcceptNested(const std::vector<ObjectId>& containers,
                    const google::protobuf::RepeatedPtrField<proto::NestedRef>& nested,
                    const rpc::Address& self_key);

  // The executor holds `id` for the task it is about to run (submitted + 1). Returns true if
  // `id` was not tracked here before, i.e. this process has no registration at the owner yet.
  bool HoldForTask(const ObjectId& id, const rpc::Address& owner);

  // The refs inside `container`'s value, with their owners (`self` for refs owned here).
  std::vector<proto::NestedRef> NestedOf(const ObjectId& container,
                                         const proto::Address& self) const;

  size_t NumOwned() const;
  size_t NumTracked() const;

  // What reaches one tracked object, for the state API (`moray list objects`).
  struct Counts {
    ObjectId id;
    bool owned = false;
    int64_t local = 0;
    int64_t submitted = 0;
    int64_t contained = 0;
    int64_t num_borrowers = 0;  // owned: processes registered as borrowers
  };
  // The counts of at most `max` tracked objects (which ones is unspecified when there are more),
  // copied under the lock; `*total` gets how many are tracked.
  std::vector<Counts> Snapshot(size_t max, size_t* total) const;

 private:
  struct Entry {
    bool owned = false;
    rpc::Address owner;  // borrowed only
    int64_t local = 0;
    int64_t submitted = 0;
    int64_t contained = 0;
    int64_t held = 0;                                    // borrowed only
    absl::flat_hash_map<rpc::Address, int64_t> borrowers;  // owned only
    std::vector<ObjectId> nested;                          // refs inside this object's value
  };
  static bool InUse(const Entry& e) {
    return e.local > 0 || e.submitted > 0 || e.contained > 0 || !e.borrowers.empty();
  }
  struct Release {
    ObjectId id;
    bool owned;
    rpc::Address owner;
    int64_t held;
  };
  // Erases `id` if nothing reaches it, queueing callbacks and releasing what it contained.
  void MaybeRelease(const ObjectId& id, std::vector<Release>* out);
  void Run(const std::vector<Release>& releases);
  template <typename Fn>
  void Update(const ObjectId& id, Fn&& change);

  const Callbacks callbacks_;
  mutable std::mutex mutex_;
  std::unordered_map<ObjectId, Entry> entries_;  // guarded by mutex_
};

}  // namespace moray::core
