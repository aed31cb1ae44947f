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
    absl::ReaderMutexLock lock(&mu_);
    return unlocked_.Put(ns, key, std::move(value), overwrite);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns, std::string_view key) {
    absl::ReaderMutexLock lock(&mu_);
    return unlocked_.Get(ns, key);
  }
  // Deletes `key`, or every key starting with it when `by_prefix`; returns the number deleted.
  absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key, bool by_prefix) {
    absl::ReaderMutexLock lock(&mu_);
    return unlocked_.Del(ns, key, by_prefix);
  }
  // Keys of `ns` starting with `prefix`, sorted.
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns, std::string_view prefix) {
    absl::ReaderMutexLock lock(&mu_);
    return unlocked_.Keys(ns, prefix);
  }

  // Runs `fn(KvStore::Unlocked&)` while no other operation of this store runs, for a sequence
  // that must see no change in between (the package collector decides what no ref names and
  // deletes it, so a ref recorded meanwhile either comes first and is seen, or comes after and
  // its uploader finds the package gone and uploads it again). Operations are individually
  // atomic through the storage; they share this lock only so that `fn` can exclude them.
  template <typename F>
  auto Exclusively(F&& fn) {
    absl::WriterMutexLock lock(&mu_);
    return fn(unlocked_);
  }

 private:
  absl::Mutex mu_;
  Unlocked unlocked_;
};

}  // namespace moray::gcs
