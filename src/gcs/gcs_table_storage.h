// Where the GCS keeps the state it must not lose: node, job and actor tables, the job counter and
// the internal KV. Managers own the logic and talk to storage only through this interface, so a
// Redis backend can replace the in-memory one without touching them.
//
// Task events and resource reports are deliberately not stored here: they are observability data
// rebuilt by the next reports, and writing them through would put storage on the hot path.
//
//   auto storage = std::make_unique<InMemoryTableStorage>();
//   auto added = storage->Put(Table::kKv, "ns\0key", "value", /*overwrite=*/false);
//   auto value = storage->Get(Table::kKv, "ns\0key");   // std::optional<std::string>
//
// Thread model: implementations are thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace moray::gcs {

enum class Table { kNodes = 0, kJobs = 1, kKv = 2, kMeta = 3, kActors = 4, kPlacementGroups = 5 };
inline constexpr int kNumTables = 6;

class GcsTableStorage {
 public:
  virtual ~GcsTableStorage() = default;

  // Stores `value` under `key`. With overwrite=false an existing value is kept. Returns whether
  // the key is new.
  virtual absl::StatusOr<bool> Put(Table table, std::string_view key, std::string value,
                                   bool overwrite) = 0;
  // The value under `key`, or nullopt.
  virtual absl::StatusOr<std::optional<std::string>> Get(Table table, std::string_view key) = 0;
  // Deletes `key` (or every key starting with it when by_prefix); returns how many were deleted.
  virtual absl::StatusOr<int64_t> Delete(Table table, std::string_view key, bool by_prefix) = 0;
  // Every (key, value) whose key starts with `prefix`, in key order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(
      Table table, std::string_view prefix) = 0;
};

// Ordered maps in memory: the default backend, lost when the GCS exits.
class InMemoryTableStorage : public GcsTableStorage {
 public:
  absl::StatusOr<bool> Put(Table table, std::string_view key, std::string value,
                           bool overwrite) override;
  absl::StatusOr<std::optional<std::string>> Get(Table table, std::string_view key) override;
  absl::StatusOr<int64_t> Delete(Table table, std::string_view key, bool by_prefix) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(
      Table table, std::string_view prefix) override;

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  absl::Mutex mu_;
  Map tables_[kNumTables] ABSL_GUARDED_BY(mu_);
};

}  // namespace moray::gcs
