#include "core_worker/memory_store.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace moray::core {
namespace {
// Only values held here count: a marker of a value in the shared-memory store cannot move
// there, so it does not use up the budget for small values.
int64_t BytesOf(const StoredObject& object) {
  return object.data ? kEntryOverhead + static_cast<int64_t>(object.data->Size()) : 0;
}
}  // namespace

void MemoryStore::Put(const ObjectId& id, StoredObject object) {
  std::vector<ReadyCallback> callbacks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!objects_.emplace(id, object).second) return;
    bytes_.fetch_add(BytesOf(object), std::memory_order_relaxed);
    auto it = callbacks_.find(id);
    if (it != callbacks_.end()) {
      callbacks.swap(it->second);
      callbacks_.erase(it);
    }
    auto w = waiters_.find(id);
    if (w != waiters_.end()) {
      for (Waiter* waiter : w->second) {
        if (--waiter->needed == 0) waiter->cv.notify_one();
      }
      waiters_.erase(w);
    }
  }
  for (auto& callback : callbacks) callback(object);
}

bool MemoryStore::Contains(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return objects_.count(id) > 0;
}

std::optional<StoredObject> MemoryStore::Find(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

void MemoryStore::OnReady(const ObjectId& id, ReadyCallback callback) {
  std::optional<StoredObject> ready;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      callbacks_[id].push_back(std::move(callback));
      return;
    }
    ready = it->second;
  }
  callback(*ready);
}

bool MemoryStore::Block(std::unique_lock<std::mutex>& lock, const std::vector<ObjectId>& ids,
                        Waiter& waiter, absl::Time deadline) {
  std::vector<const ObjectId*> registered;
  for (const auto& id : ids) {
    if (!objects_.count(id)) {
      waiters_[id].push_back(&waiter);
      registered.push_back(&id);
    }
  }
  bool satisfied = true;
  while (waiter.needed > 0) {
    if (shut_down_) {
      satisfied = false;
      break;
    }
    if (deadline == absl::InfiniteFuture()) {
      waiter.cv.wait(lock);
    } else if (waiter.cv.wait_until(lock, absl::ToChronoTime(deadline)) == std::cv_status::timeout &&
               waiter.needed > 0) {
      satisfied = false;
      break;
    }
  }
  // Unregister from ids that did not become ready (Put erases the lists of those that did).
  for (const ObjectId* id : registered) {
    auto it = waiters_.find(*id);
    if (it == waiters_.end()) continue;
    auto& list = it->second;
    list.erase(std::remove(list.begin(), list.end(), &waiter), list.end());
    if (list.empty()) waiters_.erase(it);
  }
  return satisfied;
}

std::optional<std::vector<StoredObject>> MemoryStore::WaitAll(const std::vector<ObjectId>& ids,
                                                              absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  Waiter waiter;
  // Count distinct missing ids: a repeated id becomes ready once.
  std::vector<ObjectId> missing;
  const bool no_wait = deadline <= absl::Now();
  for (const auto& id : ids) {
    if (objects_.count(id)) continue;
    if (no_wait) return std::nullopt;  // a poll: nothing to register
    missing.push_back(id);
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  if (!missing.empty()) {
    waiter.needed = static_cast<int>(missing.size());
    if (!Block(lock, missing, waiter, deadline)) return std::nullopt;
  }
  std::vector<StoredObject> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    auto it = objects_.find(id);
    if (it == objects_.end()) return std::nullopt;  // freed by another thread meanwhile
    out.push_back(it->second);
  }
  return out;
}

std::vector<bool> MemoryStore::WaitSome(const std::vector<ObjectId>& ids, int num_ready,
                                        absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::vector<ObjectId> missing;
  int ready = 0;
  for (const auto& id : ids) {
    if (objects_.count(id)) {
      ++ready;
    } else {
      missing.push_back(id);
    }
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  if (ready < num_ready && !missing.empty()) {
    Waiter waiter;
    waiter.needed = std::min<int>(num_ready - ready, static_cast<int>(missing.size()));
    Block(lock, missing, waiter, deadline);
  }
  std::vector<bool> flags(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) flags[i] = objects_.count(ids[i]) > 0;
  return flags;
}

void MemoryStore::Delete(const ObjectId& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  bytes_.fetch_sub(BytesOf(it->second), std::memory_order_relaxed);
  objects_.erase(it);
}

void MemoryStore::Shutdown() {
  std::lock_guard<std::mutex> lock(mutex_);
  shut_down_ = true;
  for (auto& [id, list] : waiters_) {
    for (Waiter* waiter : list) waiter->cv.notify_one();
  }
}

bool MemoryStore::shut_down() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return shut_down_;
}

size_t MemoryStore::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return objects_.size();
}

}  // namespace moray::core
