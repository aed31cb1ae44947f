// The columns of a placement-group record as the state API shows and filters them (`moray list
// placement-groups`), one string each: ids in hex, enums by name, unknown values empty. The GCS
// filters with these strings and the CLI prints them, so `--filter state=CREATED` matches what
// the table shows. The bundles (a list of mappings in the CLI) are shown, not filtered.
//
//   PlacementGroupColumnValue(group, "state")   // -> "PENDING"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gcs.pb.h"
#include "gcs/column_filter.h"

namespace moray::gcs {

// Filterable columns: the default ones, then the --detail ones.
const std::vector<std::string>& PlacementGroupColumns();

// The group's value of `key` (one of PlacementGroupColumns()), or nullopt for another key.
std::optional<std::string> PlacementGroupColumnValue(const proto::PlacementGroupInfo& group,
                                                     std::string_view key);

// "CREATED", "PENDING", ... (Ray's names: without the PG_ prefix of the message enum).
std::string PlacementGroupStateName(proto::PlacementGroupState state);
// "PACK", "STRICT_SPREAD", ...
std::string PlacementStrategyName(proto::PlacementStrategy strategy);
// Milliseconds from creation to the last time it became CREATED; nullopt if it never did.
std::optional<int64_t> CreationLatencyMs(const proto::PlacementGroupInfo& group);

class PlacementGroupFilter {
 public:
  // InvalidArgument for an unknown key (the message lists the valid ones) or operator.
  static absl::StatusOr<PlacementGroupFilter> Create(const proto::StateFilter& filter);
  bool Matches(const proto::PlacementGroupInfo& group) const;

 private:
  ColumnFilter filter_;
};

}  // namespace moray::gcs
