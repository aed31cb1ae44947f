// GpuPool: which of the node's GPUs each lease holds. The lease manager's resource sets count
// GPUs; this pool names them, so two leases of one GPU each get different devices and a worker
// can be told which ones are its own (CUDA_VISIBLE_DEVICES).
//
//   GpuPool pool({0, 1});
//   std::optional<GpuAssignment> a = pool.Assign(kResourceUnit);      // {0}
//   std::optional<GpuAssignment> b = pool.Assign(kResourceUnit / 2);  // {1}, half of it
//   pool.Release(*a);
//
// Whole GPUs go to devices nobody uses; a fraction goes to the device with the least room that
// still holds it (so fractions fill one device before taking the next, as in Ray). The node's
// fit test (ResourceSet) can pass while no single device has the room a fraction needs (0.6 and
// 0.6 on two devices, then 0.8): CanAssign says so, and the request waits for a release.
//
// Plain and group-scoped GPU leases share the one pool: a committed bundle takes its GPU count
// out of the node's available set, so together they never ask for more than the node has.
//
// Thread model: a value type, no internal synchronisation (the raylet's loop owns it).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "scheduling/resource_set.h"

namespace moray::raylet {

// The devices one lease holds, with how much of each (kResourceUnit: the whole device).
struct GpuAssignment {
  std::vector<std::pair<int, int64_t>> shares;  // (device id, units), in the pool's order

  std::vector<int> ids() const;
  bool empty() const { return shares.empty(); }
};

class GpuPool {
 public:
  explicit GpuPool(std::vector<int> ids);

  // Whether Assign(units) would succeed now.
  bool CanAssign(int64_t units) const;
  // Devices for `units` GPU units (whole units: that many free devices; the rest: a share of
  // one more), or nullopt if they are not free now. 0 units: an empty assignment.
  std::optional<GpuAssignment> Assign(int64_t units);
  // Gives an assignment's shares back. Releasing what was not assigned is logged and ignored.
  void Release(const GpuAssignment& assignment);

  size_t size() const { return free_.size(); }

 private:
  std::optional<GpuAssignment> Plan(int64_t units) const;

  std::vector<std::pair<int, int64_t>> free_;  // (device id, free units), in the node's order
};

// The GPU units a lease's resources ask: plain GPU plus group-scoped GPU (GPU_group_<hex> and
// GPU_group_<i>_<hex> ask the same amount; it is counted once).
int64_t GpuUnitsOf(const scheduling::ResourceSet& resources);

}  // namespace moray::raylet
