// Moray-only introspection of this process's objects (beyond Ray's C++ API): how many objects it
// owns, how many it borrows from other processes, and how many values it holds in memory. Handy
// to check that references are released.
//
//   #include <moray/objects.h>
//   auto before = moray::GetLocalObjectStats();
//   { auto ref = ray::Put(1); }
//   // GetLocalObjectStats().owned == before.owned again
#pragma once

#include <cstddef>

#include "ray/api/ray_runtime.h"

namespace moray {

struct LocalObjectStats {
  size_t owned = 0;     // objects this process created (puts, task returns) still reachable
  size_t borrowed = 0;  // objects owned elsewhere that this process still reaches
  size_t in_memory = 0; // values (or errors) held in this process's memory store
  size_t store_used = 0;  // bytes in use in this node's shared-memory object store (all owners)
  // Memory those in_memory values take here (their bytes plus a per-entry estimate). Small
  // values stay in memory only up to the node's --inline-object-memory; past it they go to the
  // shared-memory store.
  size_t in_memory_bytes = 0;
};

// Where this process maps its node's shared-memory object store (large objects live there).
struct ObjectStoreMapping {
  const char* base = nullptr;
  size_t size = 0;
  bool Contains(const void* p) const {
    auto* c = static_cast<const char*>(p);
    return base != nullptr && c >= base && c < base + size;
  }
};
inline ObjectStoreMapping GetObjectStoreMapping() {
  auto [base, size] = ray::internal::GetRuntime().ObjectStoreMapping();
  return {base, size};
}

// Throws ray::internal::RayException if ray::Init has not been called.
inline LocalObjectStats GetLocalObjectStats() {
  auto counts = ray::internal::GetRuntime().LocalObjectCounts();
  return {counts.at(0), counts.at(1), counts.at(2), counts.at(3), counts.at(4)};
}

}  // namespace moray
