// The GCS internal key-value store: namespaced byte keys and values (runtime-env packages, code,
// configuration). Keys of different namespaces never meet.
//
//   KvStore kv(&storage);
//   kv.Put("runtime_env", "pkg_abc", bytes, /*overwrite=*/false);   // -> true if added
//   kv.Keys("runtime_env", "pkg_");                                 // -> {"pkg_abc"}
//
// Thread model: thread-safe; Exclusively runs a sequence of operations with no other in between.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gcs/gcs_table_storage.h"

namespace moray::gcs {

class KvStore {
 public:
  // The four operations without the store's lock: only inside Exclusively.
  class Unlocked {
   public:
    explicit Unlocked(GcsTableStorage* storage) : storage_(storage) {}
    absl::StatusOr<bool> Put(std::string_view ns, std::string_view key, std::string value,
                             bool overwrite);
    absl::StatusOr<std::optional<std::string>> Get(std::string_view ns, std::string_view key);
    absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key, bool by_prefix);
    absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns, std::string_view prefix);

   private:
    GcsTableStorage* storage_;
  };

  // `storage` must outlive this store.
  explicit KvStore(GcsTableStorage* storage) : unlocked_(storage) {}

  // Returns whether the key was new. An existing value is replaced only when `overwrite`.
  // InvalidArgument if the namespace contains a NUL byte.
  absl::StatusOr<bool> Put(std::string_view ns, std::string_view key, std::string value,
                           bool overwrite) {
    NamespaceLock lock(this, ns);
    return unlocked_.Put(ns, key, std::move(value), overwrite);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns, std::string_view key) {
    NamespaceLock lock(this, ns);
    return unlocked_.Get(ns, key);
  }
  // Deletes `key`, or every key starting with it when `by_prefix`; returns the number deleted.
  absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key, bool by_prefix) {
    NamespaceLock lock(this, ns);
    return unlocked_.Del(ns, key, by_prefix);
  }
  // Keys of `ns` starting with `prefix`, sorted.
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns, std::string_view prefix) {
    NamespaceLock lock(this, ns);
    return unlocked_.Keys(ns, prefix);
  }

  // Runs `fn(KvStore::Unlocked&)` while no other operation on namespace `kExclusiveNamespace`
  // runs, for a sequence that must see no change there in between (the package collector
  // decides what no ref names and deletes it, so a ref recorded meanwhile either comes first
  // and is seen, or comes after and its uploader finds the package gone and uploads it again).
  // `fn` may read other namespaces, but must write only that one. Operations are individually
  // atomic through the storage; those on that namespace share this lock only so that `fn` can
  // exclude them, and no other namespace ever waits for it.
  static constexpr std::string_view kExclusiveNamespace = "packages";
  template <typename F>
  auto Exclusively(F&& fn) {
    absl::WriterMutexLock lock(&mu_);
    return fn(unlocked_);
  }

 private:
  // The reader side of mu_ for an operation on kExclusiveNamespace; nothing for the others.
  class NamespaceLock {
   public:
    NamespaceLock(KvStore* kv, std::string_view ns)
        : mu_(ns == kExclusiveNamespace ? &kv->mu_ : nullptr) {
      if (mu_) mu_->ReaderLock();
    }
    ~NamespaceLock() {
      if (mu_) mu_->ReaderUnlock();
    }
    NamespaceLock(const NamespaceLock&) = delete;
    NamespaceLock& operator=(const NamespaceLock&) = delete;

   private:
    absl::Mutex* mu_;
  };

  absl::Mutex mu_;
  Unlocked unlocked_;
};

}  // namespace moray::gcs
