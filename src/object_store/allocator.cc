#include "object_store/allocator.h"

#include <cstdlib>

#include "spdlog/spdlog.h"

namespace moray::object_store {

Allocator::Allocator(uint64_t capacity) : capacity_(capacity / kAlignment * kAlignment) {
  if (capacity_ > 0) AddFree(0, capacity_);
}

uint64_t Allocator::Rounded(uint64_t size) {
  if (size == 0) return kAlignment;
  return (size + kAlignment - 1) / kAlignment * kAlignment;
}

std::optional<uint64_t> Allocator::Allocate(uint64_t size) {
  if (size > capacity_) return std::nullopt;
  const uint64_t need = Rounded(size);
  auto fit = free_by_size_.lower_bound({need, 0});
  if (fit == free_by_size_.end()) return std::nullopt;
  const auto [block_size, offset] = *fit;
  RemoveFree(free_by_offset_.find(offset));
  // Take the low end of the block; the remainder stays free above it.
  if (block_size > need) AddFree(offset + need, block_size - need);
  allocated_.emplace(offset, need);
  used_ += need;
  return offset;
}

void Allocator::Free(uint64_t offset) {
  auto it = allocated_.find(offset);
  if (it == allocated_.end()) {
    spdlog::critical("Allocator::Free of unknown offset {}", offset);
    std::abort();
  }
  uint64_t start = offset;
  uint64_t size = it->second;
  allocated_.erase(it);
  used_ -= size;
  // Coalesce with the free neighbours on both sides.
  auto next = free_by_offset_.lower_bound(offset);
  if (next != free_by_offset_.end() && next->first == offset + size) {
    size += next->second;
    next = std::next(next);
    RemoveFree(std::prev(next));
  }
  if (next != free_by_offset_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      size += prev->second;
      RemoveFree(prev);
    }
  }
  AddFree(start, size);
}

uint64_t Allocator::LargestFreeBlock() const {
  return free_by_size_.empty() ? 0 : free_by_size_.rbegin()->first;
}

void Allocator::AddFree(uint64_t offset, uint64_t size) {
  free_by_offset_.emplace(offset, size);
  free_by_size_.emplace(size, offset);
}

void Allocator::RemoveFree(std::map<uint64_t, uint64_t>::iterator it) {
  free_by_size_.erase({it->second, it->first});
  free_by_offset_.erase(it);
}

}  // namespace moray::object_store
