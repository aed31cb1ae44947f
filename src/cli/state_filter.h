// `--filter` for the state CLI: "key=value" or "key!=value", repeated filters ANDed, values
// compared case-insensitively. Tasks are filtered by the GCS (at the source, before the limit);
// resources the GCS returns whole (nodes, jobs, workers) are filtered here with the same rules.
//
//   auto filter = ParseFilter("state!=FINISHED");   // {key: "state", op: "!=", value: "FINISHED"}
//   bool keep = RowMatches(row, {*filter});
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/format_util.h"
#include "gcs.pb.h"

namespace moray::cli {

// InvalidArgument "--filter must be KEY=VALUE or KEY!=VALUE, not 'foo'" for text without an
// operator or with an empty key. Keys are lower-cased; key and value are trimmed.
absl::StatusOr<proto::StateFilter> ParseFilter(std::string_view text);
absl::StatusOr<std::vector<proto::StateFilter>> ParseFilters(const std::vector<std::string>& texts);

// InvalidArgument naming the valid keys when a filter's key is not one of `keys`.
absl::Status CheckFilterKeys(const std::vector<proto::StateFilter>& filters,
                             const std::vector<std::string>& keys, std::string_view resource);

// Whether `row` satisfies every filter (a missing key compares as "").
bool RowMatches(const Row& row, const std::vector<proto::StateFilter>& filters);

}  // namespace moray::cli
