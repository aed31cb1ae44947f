// An in-memory KvAccess (package_store.h) for tests: a sorted map per namespace, counters of
// the calls, and a hook to fail or corrupt chosen keys.
//
//   FakeKvAccess kv;
//   ASSERT_TRUE(UploadPackage(kv, package, job).ok());
//   kv.Corrupt("packages", hash + "/1");
#pragma once

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "runtime_env/package_store.h"

namespace moray::runtime_env::testing {

class FakeKvAccess : public KvAccess {
 public:
  absl::StatusOr<bool> Put(std::string_view ns, std::string_view key, std::string_view value,
                           bool overwrite) override {
    absl::MutexLock lock(&mu_);
    ++puts_;
    max_value_bytes_ = std::max(max_value_bytes_, value.size());
    auto& m = data_[std::string(ns)];
    auto [it, added] = m.try_emplace(std::string(key), value);
    if (!added && overwrite) it->second = std::string(value);
    return added;
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    absl::MutexLock lock(&mu_);
    auto& m = data_[std::string(ns)];
    auto it = m.find(std::string(key));
    if (it == m.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key, bool by_prefix) override {
    absl::MutexLock lock(&mu_);
    auto& m = data_[std::string(ns)];
    if (!by_prefix) return static_cast<int64_t>(m.erase(std::string(key)));
    int64_t n = 0;
    for (auto it = m.lower_bound(std::string(key));
         it != m.end() && it->first.compare(0, key.size(), key) == 0;) {
      it = m.erase(it);
      ++n;
    }
    return n;
  }
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns,
                                                std::string_view prefix) override {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> keys;
    auto& m = data_[std::string(ns)];
    for (auto it = m.lower_bound(std::string(prefix));
         it != m.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      keys.push_back(it->first);
    }
    return keys;
  }

  // Flips the first byte of a stored value.
  void Corrupt(const std::string& ns, const std::string& key) {
    absl::MutexLock lock(&mu_);
    std::string& v = data_[ns][key];
    if (!v.empty()) v[0] = static_cast<char>(v[0] ^ 0x5a);
  }
  int puts() {
    absl::MutexLock lock(&mu_);
    return puts_;
  }
  size_t max_value_bytes() {
    absl::MutexLock lock(&mu_);
    return max_value_bytes_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> data_ ABSL_GUARDED_BY(mu_);
  int puts_ ABSL_GUARDED_BY(mu_) = 0;
  size_t max_value_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace moray::runtime_env::testing
