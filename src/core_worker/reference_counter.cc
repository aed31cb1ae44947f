#include "core_worker/reference_counter.h"

namespace moray::core {

void ReferenceCounter::AddOwned(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  owned_.try_emplace(id);
}

bool ReferenceCounter::IsOwned(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return owned_.count(id) > 0;
}

void ReferenceCounter::AddLocalReference(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = owned_.find(id);
  if (it != owned_.end()) ++it->second.local;
}

bool ReferenceCounter::MaybeErase(std::unordered_map<std::string, Entry>::iterator it) {
  const Entry& e = it->second;
  if (e.local > 0 || e.submitted > 0 || e.pinned) return false;
  owned_.erase(it);
  return true;
}

void ReferenceCounter::RemoveLocalReference(const std::string& id) {
  bool free = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = owned_.find(id);
    if (it == owned_.end()) return;
    if (it->second.local > 0) --it->second.local;
    free = MaybeErase(it);
  }
  if (free) on_free_(id);
}

void ReferenceCounter::AddSubmittedTaskReference(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = owned_.find(id);
  if (it != owned_.end()) ++it->second.submitted;
}

void ReferenceCounter::RemoveSubmittedTaskReference(const std::string& id) {
  bool free = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = owned_.find(id);
    if (it == owned_.end()) return;
    if (it->second.submitted > 0) --it->second.submitted;
    free = MaybeErase(it);
  }
  if (free) on_free_(id);
}

void ReferenceCounter::Pin(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = owned_.find(id);
  if (it != owned_.end()) it->second.pinned = true;
}

size_t ReferenceCounter::NumOwned() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return owned_.size();
}

}  // namespace moray::core
