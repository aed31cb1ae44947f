// Resource sets in fixed point: every quantity is an integer count of 1/10000 units, so fractions
// down to 0.0001 add and subtract exactly (no float drift after a million grants and returns).
//
//   auto request = ResourceSet::FromMap({{"CPU", 0.5}});        // validates the request
//   if (available.Contains(*request)) available.Subtract(*request);
//   available.Add(*request);                                     // on return
//
// Quantities may go negative in an *available* set (a blocked worker taking its CPU back while the
// node is oversubscribed); FromMap only accepts non-negative input.
// Thread model: a value type, no internal synchronisation.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace moray::scheduling {

inline constexpr int64_t kResourceUnit = 10000;  // fixed-point units per 1.0
inline constexpr char kCPU[] = "CPU";
inline constexpr char kGPU[] = "GPU";
inline constexpr char kMemory[] = "memory";

class ResourceSet {
 public:
  ResourceSet() = default;

  // Parses a user-facing map. InvalidArgument for negative, NaN or infinite values, for values that
  // are not a multiple of 0.0001, and for a GPU count above 1 that is not whole. Zero entries are
  // dropped (asking for 0 of something is asking for nothing).
  [[nodiscard]] static absl::StatusOr<ResourceSet> FromMap(const std::map<std::string, double>& map);

  // Units are 1/kResourceUnit; `units` may be negative for available sets.
  void SetUnits(const std::string& name, int64_t units);
  int64_t GetUnits(const std::string& name) const;
  double Get(const std::string& name) const {
    return static_cast<double>(GetUnits(name)) / kResourceUnit;
  }

  // True when every quantity of `request` is at most this set's quantity of the same name.
  bool Contains(const ResourceSet& request) const;
  void Add(const ResourceSet& other);
  void Subtract(const ResourceSet& other);  // may go negative

  bool empty() const { return units_.empty(); }
  std::map<std::string, double> ToMap() const;
  const std::map<std::string, int64_t>& units() const { return units_; }
  std::string DebugString() const;  // "{CPU: 1.5, GPU: 1}"

  bool operator==(const ResourceSet& other) const { return units_ == other.units_; }

 private:
  std::map<std::string, int64_t> units_;  // names with a zero quantity are not stored
};

}  // namespace moray::scheduling
