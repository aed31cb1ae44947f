#include "gcs/kv_store.h"

#include "absl/strings/str_cat.h"

namespace moray::gcs {
namespace {

// Storage key: the namespace, a NUL separator, the user key. The separator keeps prefix scans of
// one namespace from reaching a namespace that merely starts with the same characters.
absl::StatusOr<std::string> StorageKey(std::string_view ns, std::string_view key) {
  if (ns.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("a KV namespace must not contain a NUL byte");
  }
  std::string out(ns);
  out.push_back('\0');
  out.append(key);
  return out;
}

}  // namespace

absl::StatusOr<bool> KvStore::Unlocked::Put(std::string_view ns, std::string_view key,
                                            std::string value, bool overwrite) {
  auto storage_key = StorageKey(ns, key);
  if (!storage_key.ok()) return storage_key.status();
  return storage_->Put(Table::kKv, *storage_key, std::move(value), overwrite);
}

absl::StatusOr<std::optional<std::string>> KvStore::Unlocked::Get(std::string_view ns,
                                                                  std::string_view key) {
  auto storage_key = StorageKey(ns, key);
  if (!storage_key.ok()) return storage_key.status();
  return storage_->Get(Table::kKv, *storage_key);
}

absl::StatusOr<int64_t> KvStore::Unlocked::Del(std::string_view ns, std::string_view key,
                                               bool by_prefix) {
  auto storage_key = StorageKey(ns, key);
  if (!storage_key.ok()) return storage_key.status();
  return storage_->Delete(Table::kKv, *storage_key, by_prefix);
}

absl::StatusOr<std::vector<std::string>> KvStore::Unlocked::Keys(std::string_view ns,
                                                                 std::string_view prefix) {
  auto storage_prefix = StorageKey(ns, prefix);
  if (!storage_prefix.ok()) return storage_prefix.status();
  auto entries = storage_->Scan(Table::kKv, *storage_prefix);
  if (!entries.ok()) return entries.status();
  const size_t skip = ns.size() + 1;
  std::vector<std::string> keys;
  keys.reserve(entries->size());
  for (auto& [storage_key, value] : *entries) keys.push_back(storage_key.substr(skip));
  return keys;
}

}  // namespace moray::gcs
