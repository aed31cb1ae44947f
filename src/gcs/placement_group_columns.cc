#include "gcs/placement_group_columns.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/id.h"

namespace moray::gcs {

const std::vector<std::string>& PlacementGroupColumns() {
  static const auto* columns = new std::vector<std::string>{"placement_group_id",
                                                            "name",
                                                            "creator_job_id",
                                                            "state",
                                                            "strategy",
                                                            "ray_namespace",
                                                            "is_detached",
                                                            "state_message",
                                                            "scheduling_attempts",
                                                            "creation_latency_ms",
                                                            "create_time_ms",
                                                            "removed_time_ms"};
  return *columns;
}

std::string PlacementGroupStateName(proto::PlacementGroupState state) {
  std::string name = proto::PlacementGroupState_Name(state);
  return absl::StartsWith(name, "PG_") ? name.substr(3) : name;
}

std::string PlacementStrategyName(proto::PlacementStrategy strategy) {
  return proto::PlacementStrategy_Name(strategy);
}

std::optional<int64_t> CreationLatencyMs(const proto::PlacementGroupInfo& group) {
  if (group.created_time_ms() == 0) return std::nullopt;
  return std::max<int64_t>(0, group.created_time_ms() - group.create_time_ms());
}

std::optional<std::string> PlacementGroupColumnValue(const proto::PlacementGroupInfo& g,
                                                     std::string_view key) {
  auto non_zero = [](int64_t value) { return value == 0 ? "" : absl::StrCat(value); };
  if (key == "placement_group_id") return ToHex(g.placement_group_id());
  if (key == "name") return g.name();
  if (key == "creator_job_id") return ToHex(g.creator_job_id());
  if (key == "state") return PlacementGroupStateName(g.state());
  if (key == "strategy") return PlacementStrategyName(g.strategy());
  if (key == "ray_namespace") return g.ray_namespace();
  // Booleans as the table prints them.
  if (key == "is_detached") return g.is_detached() ? "True" : "False";
  if (key == "state_message") return g.state_message();
  if (key == "scheduling_attempts") return absl::StrCat(g.scheduling_attempts());
  if (key == "creation_latency_ms") {
    auto latency = CreationLatencyMs(g);
    return latency ? absl::StrCat(*latency) : "";
  }
  if (key == "create_time_ms") return non_zero(g.create_time_ms());
  if (key == "removed_time_ms") return non_zero(g.removed_time_ms());
  return std::nullopt;
}

absl::StatusOr<PlacementGroupFilter> PlacementGroupFilter::Create(
    const proto::StateFilter& filter) {
  auto parsed = ColumnFilter::Create(filter, PlacementGroupColumns(), "placement groups");
  if (!parsed.ok()) return parsed.status();
  PlacementGroupFilter out;
  out.filter_ = std::move(*parsed);
  return out;
}

bool PlacementGroupFilter::Matches(const proto::PlacementGroupInfo& group) const {
  return filter_.Accepts(PlacementGroupColumnValue(group, filter_.key()));
}

}  // namespace moray::gcs
