// Allocator: hands out byte ranges of a fixed-size region (the store's shared memory). Best fit
// over a free list, ties to the lowest address, so hot allocations reuse low (pre-faulted) pages;
// freed blocks coalesce with free neighbours. Every block is a multiple of kAlignment bytes and
// starts at a multiple of kAlignment.
//
//   Allocator allocator(64 << 20);
//   std::optional<uint64_t> offset = allocator.Allocate(1000);  // 1024 bytes reserved
//   allocator.Free(*offset);
//
// Thread model: not thread-safe; the store calls it from its loop thread. Objects in the store are
// mostly large (> 100 KiB), so the free list stays short.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace moray::object_store {

class Allocator {
 public:
  static constexpr uint64_t kAlignment = 64;

  // Manages [0, capacity rounded down to kAlignment).
  explicit Allocator(uint64_t capacity);

  // The offset of a new block of at least `size` bytes (0 counts as kAlignment), or nullopt if no
  // free block is large enough.
  std::optional<uint64_t> Allocate(uint64_t size);
  // Frees the block that Allocate returned at `offset`. CHECK-fails on an unknown offset.
  void Free(uint64_t offset);

  // The bytes reserved for a request of `size` bytes.
  static uint64_t Rounded(uint64_t size);
  uint64_t capacity() const { return capacity_; }
  uint64_t used() const { return used_; }
  uint64_t LargestFreeBlock() const;
  size_t num_free_blocks() const { return free_by_offset_.size(); }
  size_t num_allocations() const { return allocated_.size(); }

 private:
  void AddFree(uint64_t offset, uint64_t size);
  void RemoveFree(std::map<uint64_t, uint64_t>::iterator it);

  const uint64_t capacity_;
  uint64_t used_ = 0;
  std::map<uint64_t, uint64_t> free_by_offset_;          // offset -> size
  std::set<std::pair<uint64_t, uint64_t>> free_by_size_;  // (size, offset): best fit, low first
  absl::flat_hash_map<uint64_t, uint64_t> allocated_;     // offset -> reserved size
};

}  // namespace moray::object_store
