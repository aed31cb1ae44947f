#include "gcs/gcs_table_storage.h"

namespace moray::gcs {
namespace {

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

absl::StatusOr<bool> InMemoryTableStorage::Put(Table table, std::string_view key,
                                               std::string value, bool overwrite) {
  absl::MutexLock lock(&mu_);
  Map& map = tables_[static_cast<int>(table)];
  auto it = map.find(key);
  if (it == map.end()) {
    map.emplace(std::string(key), std::move(value));
    return true;
  }
  if (overwrite) it->second = std::move(value);
  return false;
}

absl::StatusOr<std::optional<std::string>> InMemoryTableStorage::Get(Table table,
                                                                     std::string_view key) {
  absl::MutexLock lock(&mu_);
  const Map& map = tables_[static_cast<int>(table)];
  auto it = map.find(key);
  if (it == map.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::StatusOr<int64_t> InMemoryTableStorage::Delete(Table table, std::string_view key,
                                                     bool by_prefix) {
  absl::MutexLock lock(&mu_);
  Map& map = tables_[static_cast<int>(table)];
  if (!by_prefix) return static_cast<int64_t>(map.erase(std::string(key)));
  int64_t deleted = 0;
  for (auto it = map.lower_bound(key); it != map.end() && HasPrefix(it->first, key);) {
    it = map.erase(it);
    ++deleted;
  }
  return deleted;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> InMemoryTableStorage::Scan(
    Table table, std::string_view prefix) {
  absl::MutexLock lock(&mu_);
  const Map& map = tables_[static_cast<int>(table)];
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = map.lower_bound(prefix); it != map.end() && HasPrefix(it->first, prefix); ++it) {
    out.emplace_back(it->first, it->second);
  }
  return out;
}

}  // namespace moray::gcs
