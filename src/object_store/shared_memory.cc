#include "object_store/shared_memory.h"

#include <fcntl.h>

#include <sys/mman.h>
#include <unistd.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace moray::object_store {
namespace {

constexpr uint64_t kStopCheckStep = 4ull << 20;

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SharedMemory>> SharedMemory::Create(uint64_t size,
                                                                    const std::string& name) {
  if (size == 0) return absl::InvalidArgumentError("a shared memory region needs a size > 0");
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) return Errno("memfd_create");
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    absl::Status status = Errno(absl::StrCat("ftruncate of the object store to ", size, " bytes"));
    close(fd);
    return status;
  }
  return Map(fd, size);
}

absl::StatusOr<std::unique_ptr<SharedMemory>> SharedMemory::Map(int fd, uint64_t size) {
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    absl::Status status = Errno(absl::StrCat("mmap of ", size, " bytes of shared memory"));
    close(fd);
    return status;
  }
  return std::unique_ptr<SharedMemory>(new SharedMemory(fd, static_cast<char*>(base), size));
}

SharedMemory::~SharedMemory() {
  stop_.store(true);
  if (prefault_thread_.joinable()) prefault_thread_.join();
  munmap(base_, size_);
  close(fd_);
}

void SharedMemory::StartPrefault(uint64_t bytes) {
  bytes = std::min(bytes, size_);
  if (bytes == 0 || prefault_thread_.joinable()) return;
  prefault_thread_ = std::thread([this, bytes] { PrefaultLoop(bytes); });
}

void SharedMemory::WaitPrefault() {
  if (prefault_thread_.joinable()) prefault_thread_.join();
}

void SharedMemory::PrefaultLoop(uint64_t bytes) {
  pthread_setname_np(pthread_self(), "store_prefault");
  // Only idle CPU: pre-faulting is an optimisation and must not slow the node's real work (on a
  // small machine, 2 GiB costs seconds of a core).
  sched_param idle{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
  const auto start = std::chrono::steady_clock::now();
  bool allocate = true;
  bool populate = true;
  const long page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
  uint64_t done = 0;
  while (done < bytes && !stop_.load(std::memory_order_relaxed)) {
    const uint64_t chunk = std::min(kPrefaultChunk, bytes - done);
    char* p = base_ + done;
    // In steps, so that shutdown waits for at most one step (~10 ms).
    for (uint64_t step = 0; step < chunk && !stop_.load(std::memory_order_relaxed);
         step += kStopCheckStep) {
      const uint64_t length = std::min(kStopCheckStep, chunk - step);
      // First choice: allocate the memfd's pages without mapping them here. It takes no lock on
      // this process's address space, so the raylet's other threads (mmap, mprotect) never wait
      // for the prefault; clients then map already-allocated, zeroed pages cheaply.
      if (allocate && fallocate(fd_, 0, static_cast<off_t>(done + step),
                                static_cast<off_t>(length)) == 0) {
        continue;
      }
      allocate = false;
      if (populate && madvise(p + step, length, MADV_POPULATE_WRITE) != 0) {
        // EINVAL: a kernel without MADV_POPULATE_WRITE. Fall back to touching pages ourselves.
        spdlog::debug("MADV_POPULATE_WRITE unavailable ({}); touching pages", std::strerror(errno));
        populate = false;
      }
      if (!populate) {
        // An atomic "or 0" is a write fault that cannot lose a client's concurrent write to the
        // same byte (objects may already live in this chunk).
        for (uint64_t off = 0; off < length; off += static_cast<uint64_t>(page)) {
          __atomic_fetch_or(p + step + off, static_cast<char>(0), __ATOMIC_RELAXED);
        }
      }
    }
    if (stop_.load(std::memory_order_relaxed)) break;
    done += chunk;
    prefaulted_.store(done, std::memory_order_relaxed);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::debug("object store: prefaulted {} MiB in {:.2f} s", done >> 20, seconds);
}

}  // namespace moray::object_store
