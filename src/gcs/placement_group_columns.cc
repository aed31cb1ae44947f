#include "gcs/placement_group_columns.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
                                                            "bundles",
                                                            "scheduling_attempts",
                                                            "state_message"};
  return *columns;
}

std::string PlacementGroupStateName(proto::PlacementGroupState state) {
  std::string name = proto::PlacementGroupState_Name(state);
  return absl::StartsWith(name, "PG_") ? name.substr(3) : name;
}

std::string DescribeBundles(const proto::PlacementGroupInfo& group) {
  return absl::StrJoin(group.bundles(), ", ", [](std::string* out, const proto::Bundle& b) {
    std::map<std::string, double> sorted(b.resources().begin(), b.resources().end());
    absl::StrAppend(out, "{",
                    absl::StrJoin(sorted, ", ",
                                  [](std::string* o, const auto& e) {
                                    absl::StrAppend(o, e.first, ": ", e.second);
                                  }),
                    "}");
  });
}

std::optional<std::string> PlacementGroupColumnValue(const proto::PlacementGroupInfo& g,
                                                     std::string_view key) {
  if (key == "placement_group_id") return ToHex(g.placement_group_id());
  if (key == "name") return g.name();
  if (key == "creator_job_id") return ToHex(g.creator_job_id());
  if (key == "state") return PlacementGroupStateName(g.state());
  if (key == "strategy") return proto::PlacementStrategy_Name(g.strategy());
  if (key == "ray_namespace") return g.ray_namespace();
  if (key == "is_detached") return g.is_detached() ? "True" : "False";
  if (key == "bundles") return DescribeBundles(g);
  if (key == "scheduling_attempts") return absl::StrCat(g.scheduling_attempts());
  if (key == "state_message") return g.state_message();
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
