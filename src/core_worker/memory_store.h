// MemoryStore: this process's objects — values it owns (puts and task returns) and copies of
// values it fetched from their owners. Entries are either a value or an error.
//
// Thread model: thread-safe. Get/Wait block the calling (user) thread on a condition variable;
// readiness callbacks (OnReady) run on the thread that makes the object ready (usually the I/O loop).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/time/time.h"
#include "common.pb.h"
#include "common/id.h"
#include "ray/api/ray_runtime.h"

namespace moray::core {

// A ready object: its bytes (shared, never copied on Get), the error it holds, or — for a large
// value — where it lives: the shared-memory object store of node `node_id` (`data` is null).
struct StoredObject {
  std::shared_ptr<ray::internal::Buffer> data;
  proto::ErrorInfo error;  // error.type() != ERROR_NONE: the object is an error
  bool in_plasma = false;
  int64_t size = 0;        // of a value in the object store
  NodeId node_id;          // the node whose object store holds it
  bool is_error() const { return error.type() != proto::ERROR_NONE; }
};

// Values larger than this live in the node's shared-memory object store, not inline in RPCs and
// memory stores.
inline constexpr size_t kInlineLimit = 100 * 1024;
// What one entry costs this process besides its value's bytes (map node, id, buffer, error),
// estimated; counted so that a million tiny values are not free.
inline constexpr int64_t kEntryOverhead = 256;

class MemoryStore {
 public:
  using ReadyCallback = std::function<void(const StoredObject&)>;

  // Makes `id` ready. A second Put of the same id is ignored (the first result wins: a retried
  // task's output is delivered exactly once). Runs the id's OnReady callbacks.
  void Put(const ObjectId& id, StoredObject object);

  // The object if ready.
  std::optional<StoredObject> Find(const ObjectId& id) const;
  // Whether it is ready (no copy).
  bool Contains(const ObjectId& id) const;

  // Runs `callback` once `id` is ready — right away (on this thread) if it already is.
  void OnReady(const ObjectId& id, ReadyCallback callback);

  // Waits until all `ids` are ready or `deadline` passes. Returns the objects in input order, or
  // nullopt on timeout or shutdown (see Shutdown).
  std::optional<std::vector<StoredObject>> WaitAll(const std::vector<ObjectId>& ids,
                                                   absl::Time deadline);
  // Waits until at least `num_ready` of `ids` are ready or `deadline` passes; returns readiness
  // flags in input order.
  std::vector<bool> WaitSome(const std::vector<ObjectId>& ids, int num_ready, absl::Time deadline);

  void Delete(const ObjectId& id);
  // Wakes every waiter and makes later waits return at once (as timed out); for shutdown.
  void Shutdown();
  bool shut_down() const;
  size_t size() const;
  // Memory the values held here take: their bytes plus kEntryOverhead each (markers of values
  // in the shared-memory store and errors do not count). Lock-free, may lag a concurrent
  // Put/Delete.
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  // One blocked Get/Wait call: woken when `needed` more of its objects became ready.
  struct Waiter {
    std::condition_variable cv;
    int needed = 0;
  };
  // Registers `waiter` on each id of `ids` not yet ready and blocks until it is satisfied or the
  // deadline passes. Returns false on timeout. Needs the lock held.
  bool Block(std::unique_lock<std::mutex>& lock, const std::vector<ObjectId>& ids, Waiter& waiter,
             absl::Time deadline);

  mutable std::mutex mutex_;
  std::unordered_map<ObjectId, StoredObject> objects_;                  // guarded by mutex_
  std::unordered_map<ObjectId, std::vector<Waiter*>> waiters_;          // guarded by mutex_
  bool shut_down_ = false;                                              // guarded by mutex_
  std::atomic<int64_t> bytes_{0};  // written under mutex_
  std::unordered_map<ObjectId, std::vector<ReadyCallback>> callbacks_;  // guarded by mutex_
};

}  // namespace moray::core
