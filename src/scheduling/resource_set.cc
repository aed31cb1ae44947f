#include "scheduling/resource_set.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace moray::scheduling {

absl::StatusOr<ResourceSet> ResourceSet::FromMap(const std::map<std::string, double>& map) {
  ResourceSet set;
  for (const auto& [name, value] : map) {
    if (name.empty()) return absl::InvalidArgumentError("resource with an empty name");
    if (!std::isfinite(value) || value < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("resource %s = %g: must be a finite non-negative number", name, value));
    }
    const double scaled = value * kResourceUnit;
    if (scaled > 9.0e18) {
      return absl::InvalidArgumentError(absl::StrFormat("resource %s = %g: too large", name, value));
    }
    const double rounded = std::round(scaled);
    // Tolerate binary-representation error (0.1 is not exact in a double), nothing more.
    if (std::fabs(scaled - rounded) > 1e-6 * std::max(1.0, std::fabs(scaled))) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "resource %s = %g: quantities must be multiples of 0.0001", name, value));
    }
    const int64_t units = static_cast<int64_t>(rounded);
    if (name == kGPU && units > kResourceUnit && units % kResourceUnit != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "resource %s = %g: a quantity above 1 must be a whole number", name, value));
    }
    set.SetUnits(name, units);
  }
  return set;
}

void ResourceSet::SetUnits(const std::string& name, int64_t units) {
  if (units == 0) {
    units_.erase(name);
  } else {
    units_[name] = units;
  }
}

int64_t ResourceSet::GetUnits(const std::string& name) const {
  auto it = units_.find(name);
  return it == units_.end() ? 0 : it->second;
}

bool ResourceSet::Contains(const ResourceSet& request) const {
  for (const auto& [name, units] : request.units_) {
    if (units > 0 && GetUnits(name) < units) return false;
  }
  return true;
}

void ResourceSet::Add(const ResourceSet& other) {
  for (const auto& [name, units] : other.units_) SetUnits(name, GetUnits(name) + units);
}

void ResourceSet::Subtract(const ResourceSet& other) {
  for (const auto& [name, units] : other.units_) SetUnits(name, GetUnits(name) - units);
}

std::map<std::string, double> ResourceSet::ToMap() const {
  std::map<std::string, double> map;
  for (const auto& [name, units] : units_) map[name] = static_cast<double>(units) / kResourceUnit;
  return map;
}

std::string ResourceSet::DebugString() const {
  return absl::StrCat(
      "{",
      absl::StrJoin(units_, ", ",
                    [](std::string* out, const auto& entry) {
                      absl::StrAppend(out, entry.first, ": ",
                                      static_cast<double>(entry.second) / kResourceUnit);
                    }),
      "}");
}

}  // namespace moray::scheduling
