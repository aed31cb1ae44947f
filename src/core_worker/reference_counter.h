// ReferenceCounter: which objects this process owns, and how many handles and pending tasks still
// reach each. When nothing does, the owner frees the object (on_free).
//
// Scope today: local ObjectRef handles and pending tasks that take the object as an argument.
// An object whose reference escaped into another process (serialized inside a value) is pinned
// until this process exits: borrower counting is the object-store issue's work, and until then
// keeping such an object is the safe choice (a leak rather than a lost value).
//
// Thread model: thread-safe; on_free runs on the thread that dropped the last reference, outside
// the lock.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace moray::core {

class ReferenceCounter {
 public:
  explicit ReferenceCounter(std::function<void(const std::string&)> on_free)
      : on_free_(std::move(on_free)) {}

  // Starts tracking an object this process owns (a put or a task return), with no references yet.
  void AddOwned(const std::string& id);
  bool IsOwned(const std::string& id) const;

  void AddLocalReference(const std::string& id);
  void RemoveLocalReference(const std::string& id);
  void AddSubmittedTaskReference(const std::string& id);
  void RemoveSubmittedTaskReference(const std::string& id);
  // The reference left this process: keep the object for the process's lifetime.
  void Pin(const std::string& id);

  size_t NumOwned() const;

 private:
  struct Entry {
    int local = 0;
    int submitted = 0;
    bool pinned = false;
  };
  // Frees `id` if nothing reaches it; returns whether to call on_free. Needs mutex_.
  bool MaybeErase(std::unordered_map<std::string, Entry>::iterator it);

  const std::function<void(const std::string&)> on_free_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> owned_;  // guarded by mutex_
};

}  // namespace moray::core
