// The state CLI's list output in the layout of `ray list` (SEMANTICS.md, "State CLI"):
//
//   ======== List: 2024-05-01 12:00:00.123456 ========
//   Stats:
//   ------------------------------
//   Total: 2
//
//   Table:
//   ------------------------------
//       NODE_ID   NODE_IP    IS_HEAD_NODE
//   0   5f6e...   127.0.0.1  True
//   1   a1b2...   127.0.0.1  False
//
// The table follows tabulate's "plain" format as Ray uses it (index column, number parsing off):
// two spaces between columns, each column at least its header plus two wide, everything
// left-aligned, multi-line cells continued on following lines. Trailing spaces are trimmed.
// Warnings (truncation, drops) go to stderr, so stdout stays parseable in every format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/format_util.h"

namespace moray::cli {

enum class OutputFormat { kDefault, kTable, kJson, kYaml };

// "default" | "table" | "json" | "yaml" (case-insensitive); InvalidArgument otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view text);

// An indexed plain table of `rows` showing `columns` (row keys, shown upper-cased).
std::string FormatIndexedTable(const std::vector<std::string>& columns,
                               const std::vector<Row>& rows);

// What a list command got back: the rows to show and how many more matched.
struct ListResult {
  std::string resource;  // "tasks", "nodes", ...
  std::vector<Row> rows;
  int64_t total = 0;          // rows matching the filters, shown or not
  int64_t num_truncated = 0;  // matching rows left out by --limit
  int64_t num_dropped = 0;    // records the cluster lost (buffers full), if it knows
  // Tasks: num_dropped split into records evicted past the GCS's cap and events reporters
  // dropped; when either is set the warnings name them apart.
  int64_t num_evicted = 0;
  int64_t num_events_dropped = 0;
};

// The full output of `moray list` in `format`: default (header, stats, table), table (the table
// alone), json (array of objects) or yaml (list of mappings). Rows are projected to `columns`.
// An empty result prints "No resource in the cluster" (json/yaml: an empty list).
std::string FormatList(const ListResult& result, const std::vector<std::string>& columns,
                       OutputFormat format, absl::Time now);

// Warnings about data not shown (truncation by --limit, records dropped by the cluster), one
// per line; empty when everything matching was shown.
std::string ListWarnings(const ListResult& result);

// `row` restricted to `columns`, in that order (missing keys become null).
Row Project(const Row& row, const std::vector<std::string>& columns);

// The "======== <title>: <datetime> ========" line.
std::string BannerLine(std::string_view title, absl::Time now);

inline constexpr char kDashes[] = "------------------------------";

}  // namespace moray::cli
