// The GCS internal key-value store: namespaced byte keys and values (runtime-env packages, code,
// configuration). Keys of different namespaces never meet.
//
//   KvStore kv(&storage);
//   kv.Put("runtime_env", "pkg_abc", bytes, /*overwrite=*/false);   // -> true if added
//   kv.Keys("runtime_env", "pkg_");                                 // -> {"pkg_abc"}
//
// Thread model: thread-safe (the storage is).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gcs/gcs_table_storage.h"

namespace moray::gcs {

class KvStore {
 public:
  // `storage` must outlive this store.
  explicit KvStore(GcsTableStorage* storage) : storage_(storage) {}

  // Returns whether the key was new. An existing value is replaced only when `overwrite`.
  // InvalidArgument if the namespace contains a NUL byte.
  absl::StatusOr<bool> Put(std::string_view ns, std::string_view key, std::string value,
                           bool overwrite);
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns, std::string_view key);
  // Deletes `key`, or every key starting with it when `by_prefix`; returns the number deleted.
  absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key, bool by_prefix);
  // Keys of `ns` starting with `prefix`, sorted.
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns, std::string_view prefix);

 private:
  GcsTableStorage* storage_;
};

}  // namespace moray::gcs
