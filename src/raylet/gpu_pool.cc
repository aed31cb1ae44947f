#include "raylet/gpu_pool.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "scheduling/group_resources.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {

using scheduling::kResourceUnit;

std::vector<int> GpuAssignment::ids() const {
  std::vector<int> ids;
  ids.reserve(shares.size());
  for (const auto& [id, units] : shares) ids.push_back(id);
  return ids;
}

GpuPool::GpuPool(std::vector<int> ids) {
  free_.reserve(ids.size());
  for (int id : ids) free_.emplace_back(id, kResourceUnit);
}

std::optional<GpuAssignment> GpuPool::Plan(int64_t units) const {
  GpuAssignment plan;
  if (units <= 0) return plan;
  int64_t whole = units / kResourceUnit;
  const int64_t fraction = units % kResourceUnit;
  std::vector<bool> taken(free_.size(), false);
  for (size_t i = 0; i < free_.size() && whole > 0; ++i) {
    if (free_[i].second == kResourceUnit) {
      taken[i] = true;
      --whole;
    }
  }
  if (whole > 0) return std::nullopt;
  std::optional<size_t> share;  // best fit: the least room that still holds the fraction
  if (fraction > 0) {
    for (size_t i = 0; i < free_.size(); ++i) {
      if (taken[i] || free_[i].second < fraction) continue;
      if (!share || free_[i].second < free_[*share].second) share = i;
    }
    if (!share) return std::nullopt;
  }
  for (size_t i = 0; i < free_.size(); ++i) {
    if (taken[i]) plan.shares.emplace_back(free_[i].first, kResourceUnit);
    if (share == i) plan.shares.emplace_back(free_[i].first, fraction);
  }
  return plan;
}

bool GpuPool::CanAssign(int64_t units) const { return Plan(units).has_value(); }

std::optional<GpuAssignment> GpuPool::Assign(int64_t units) {
  std::optional<GpuAssignment> plan = Plan(units);
  if (!plan) return std::nullopt;
  for (const auto& [id, share] : plan->shares) {
    for (auto& [free_id, free_units] : free_) {
      if (free_id == id) free_units -= share;
    }
  }
  return plan;
}

void GpuPool::Release(const GpuAssignment& assignment) {
  for (const auto& [id, share] : assignment.shares) {
    auto it =
        std::find_if(free_.begin(), free_.end(), [&](const auto& d) { return d.first == id; });
    if (it == free_.end() || it->second + share > kResourceUnit) {
      // A broken invariant of the lease manager; keeping the pool sane beats stopping the node.
      spdlog::error("GPU {} released more than it lent (or is not this node's)", id);
      if (it != free_.end()) it->second = kResourceUnit;
      continue;
    }
    it->second += share;
  }
}

int64_t GpuUnitsOf(const scheduling::ResourceSet& resources) {
  int64_t group = 0;
  for (const auto& [name, units] : resources.units()) {
    if (absl::StartsWith(name, "GPU_group_") && scheduling::IsGroupScoped(name)) {
      group = std::max(group, units);
    }
  }
  return resources.GetUnits(scheduling::kGPU) + group;
}

}  // namespace moray::raylet
