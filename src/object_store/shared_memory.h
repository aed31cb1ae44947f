// SharedMemory: one anonymous shared region (memfd_create + mmap MAP_SHARED) that the store
// allocates objects in and hands to clients by file descriptor. A memfd leaves nothing behind
// when the last process holding it exits.
//
//   auto region = SharedMemory::Create(64 << 20, "moray-store");   // server
//   (*region)->StartPrefault(32 << 20);   // background: fault in the low 32 MiB
//   auto mapped = SharedMemory::Map(fd, size);                     // client, from SCM_RIGHTS
//
// Pre-faulting: first touch of fresh memory costs page faults (~0.3-0.45 GB/s on the dev
// machine, against 5-11 GB/s for a warm memcpy), so a background thread populates the region
// bottom-up in 64 MiB chunks (MADV_POPULATE_WRITE; one written byte per 4 KiB page where the kernel
// lacks it), at SCHED_IDLE priority so it only uses spare CPU. The allocator hands out low
// addresses first, so hot objects land on warm pages.
//
// Thread model: base/size/fd are immutable after construction; StartPrefault once, from the
// owning thread; the prefault thread stops promptly (between chunks) on destruction.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace moray::object_store {

class SharedMemory {
 public:
  static constexpr uint64_t kPrefaultChunk = 64ull << 20;

  // A new region of `size` bytes (zero-filled, not yet faulted in).
  static absl::StatusOr<std::unique_ptr<SharedMemory>> Create(uint64_t size, const std::string& name);
  // Maps an existing region read/write; takes ownership of `fd` (closed on failure too).
  static absl::StatusOr<std::unique_ptr<SharedMemory>> Map(int fd, uint64_t size);

  ~SharedMemory();  // stops the prefault thread, unmaps, closes the fd
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  char* base() const { return base_; }
  uint64_t size() const { return size_; }
  int fd() const { return fd_; }

  // Faults in [0, min(bytes, size)) on a background thread. Start-up does not wait for it.
  void StartPrefault(uint64_t bytes);
  // Bytes faulted in so far by the prefault thread.
  uint64_t prefaulted_bytes() const { return prefaulted_.load(std::memory_order_relaxed); }
  // Blocks until the prefault thread is done (tests, benchmarks).
  void WaitPrefault();

 private:
  SharedMemory(int fd, char* base, uint64_t size) : fd_(fd), base_(base), size_(size) {}
  void PrefaultLoop(uint64_t bytes);

  const int fd_;
  char* const base_;
  const uint64_t size_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> prefaulted_{0};
  std::thread prefault_thread_;
};

}  // namespace moray::object_store
