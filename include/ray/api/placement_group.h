// Placement groups: bundles of resources reserved together across the cluster, for tasks and
// actors that must run side by side (PACK) or apart (SPREAD), or on one node (STRICT_PACK) or one
// node per bundle (STRICT_SPREAD).
//
//   ray::PlacementGroupCreationOptions options{
//       "trainers", {{{"CPU", 2}}, {{"CPU", 2}}}, ray::PlacementStrategy::STRICT_SPREAD};
//   ray::PlacementGroup pg = ray::CreatePlacementGroup(options);  // does not block
//   if (!pg.Wait(60)) { ... not placed within a minute ... }
//   auto ref = ray::Task(Train).SetPlacementGroup(pg, 0).Remote();       // in bundle 0
//   auto actor = ray::Actor(Make).SetPlacementGroup(pg, -1).Remote();    // any bundle with room
//   ray::RemovePlacementGroup(pg.GetID());
//
// A task or actor in a group uses the bundle's reservation, never the rest of the node; it waits
// until the bundle has room. Beyond Ray's C++ API: SetPlacementGroup(pg, index,
// /*capture_child_tasks=*/true) makes the group the default of every task and actor that this
// one submits without a placement group or scheduling strategy of its own (in any bundle, -1).
//
// Errors (RayException, message naming the problem): creating with no bundles, an empty or
// all-zero bundle, a negative, NaN or infinite quantity, an UNRECOGNIZED strategy, or a name
// already taken in the namespace; SetPlacementGroup with an empty or removed group or a bundle
// index out of range (-1 .. bundles-1); Remote() asking more than the bundle holds (for -1: more
// than every bundle holds). Ids are hex (32 digits); a malformed id throws. Lookups of a group
// that does not exist return an empty PlacementGroup (Empty(), GetID() == ""). Groups removed
// stay readable by id in the REMOVED state; removing twice is harmless. Thread-safe once Init
// has returned.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ray {

enum class PlacementStrategy {
  PACK = 0,           // as few nodes as possible
  SPREAD = 1,         // as many nodes as possible
  STRICT_PACK = 2,    // all on one node, or not placed
  STRICT_SPREAD = 3,  // each bundle on a node of its own, or not placed
  UNRECOGNIZED = -1
};

// Unscoped, as in Ray: the enumerators are ray::PENDING, ray::CREATED, ...
enum PlacementGroupState {
  PENDING = 0,       // not placed yet (no room now, or infeasible)
  PREPARED = 1,      // every bundle reserved, not yet usable
  CREATED = 2,       // usable
  REMOVED = 3,       // removed; still readable by id
  RESCHEDULING = 4,  // bundles lost with a dead node are being placed again
  UNRECOGNIZED = -1
};

// What CreatePlacementGroup takes; aggregate-initialised as {name, bundles, strategy}.
struct PlacementGroupCreationOptions {
  std::string name;  // "": unnamed; otherwise unique in its namespace
  std::vector<std::unordered_map<std::string, double>> bundles;  // e.g. {{{"CPU", 1}, {"GPU", 1}}}
  PlacementStrategy strategy = PlacementStrategy::PACK;
  // Beyond Ray's C++ API (brace-initialised members, so the 3-field form stays warning-free):
  bool detached = false;        // outlives the job that created it (else removed when it ends)
  std::string ray_namespace{};  // where the name is looked up; "": the job's namespace
};

// A handle on a group, as of when it was created or read (GetState does not refresh itself;
// Wait does, and ray::GetPlacementGroupById reads it again). Copies are cheap enough to pass by
// value; a default-constructed one is empty.
class PlacementGroup {
 public:
  PlacementGroup() = default;
  PlacementGroup(std::string id, PlacementGroupCreationOptions options,
                 PlacementGroupState state = PENDING)
      : id_(std::move(id)), options_(std::move(options)), state_(state) {}

  std::string GetID() const { return id_; }  // hex; "" when empty
  std::string GetName() const { return options_.name; }
  std::vector<std::unordered_map<std::string, double>> GetBundles() const {
    return options_.bundles;
  }
  PlacementGroupState GetState() const { return state_; }
  PlacementStrategy GetStrategy() const { return options_.strategy; }
  bool Empty() const { return id_.empty(); }

  // Blocks until the group is CREATED (true) or removed, or `timeout_seconds` (>= 0) passed
  // (false); never longer than the timeout. Updates GetState(). Throws RayException for an empty
  // group, a negative timeout, or when the cluster cannot be asked.
  bool Wait(int timeout_seconds);

  // Beyond Ray's C++ API.
  const std::string& GetNamespace() const { return options_.ray_namespace; }
  bool IsDetached() const { return options_.detached; }
  const PlacementGroupCreationOptions& GetOptions() const { return options_; }

 private:
  std::string id_;
  PlacementGroupCreationOptions options_;
  PlacementGroupState state_ = UNRECOGNIZED;
};

// Creates a group (PENDING until placed; Wait for it). Throws RayException for invalid options
// and for a name already taken in the namespace.
PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options);
// Removes the group: its reservations are released, its tasks fail and its actors die. Removing
// a removed (or unknown) group does nothing.
void RemovePlacementGroup(const std::string& placement_group_id);
// The group with this id (hex), or an empty group.
PlacementGroup GetPlacementGroupById(const std::string& placement_group_id);
// The group named `name` in the job's namespace, or an empty group. Beyond Ray: in
// `ray_namespace`.
PlacementGroup GetPlacementGroup(const std::string& name);
PlacementGroup GetPlacementGroup(const std::string& name, const std::string& ray_namespace);
// Every group known to the cluster (removed ones included), in creation order.
std::vector<PlacementGroup> GetAllPlacementGroups();

namespace internal {

// The checks behind SetPlacementGroup (the group is usable and the index in range) and Remote()
// (`resources` fit in bundle `bundle_index`, for -1 in some bundle). `who` names the caller in
// messages ("task f", "actor Counter"). Throw RayException.
void CheckPlacementGroupUse(const PlacementGroup& group, int bundle_index);
void CheckFitsInBundle(const PlacementGroup& group, int bundle_index,
                       const std::unordered_map<std::string, double>& resources,
                       const std::string& who);

}  // namespace internal
}  // namespace ray
