// Small value formatters shared by the state CLI's outputs, chosen to print what `ray` prints:
// Python's float repr, Ray's human-readable byte sizes, tabulate-style cell text.
//
//   FormatPyFloat(2)          // "2.0"
//   FormatBytes(4.35e9)       // "4.05GiB"
//   FormatDateTime(now)       // "2024-05-01 12:00:00.123456" (local time)
#pragma once

#include <string>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace moray::cli {

// Rows of the state CLI: ordered so that json/yaml keep the column order.
using Row = nlohmann::ordered_json;

// "YYYY-MM-DD HH:MM:SS.ffffff" in the local time zone, as in the headers of `ray list`.
std::string FormatDateTime(absl::Time time);

// Python's repr of a float: shortest round-trip digits, always a decimal point or an exponent
// ("2.0", "0.5", "1e-05", "1e+16").
std::string FormatPyFloat(double value);

// Bytes for humans, like `ray status`: "512B", "1.50KiB", "20.00MiB", "4.05GiB".
std::string FormatBytes(double bytes);

// The text of one table cell: null -> "", booleans "True"/"False", floats as FormatPyFloat,
// mappings as "key: value" lines sorted by key, lists as "- item" lines; values nested in those
// on one line, null as "null" ("- {bundle_index: 0, node_id: null, unit_resources: {CPU: 1.0}}").
std::string CellText(const Row& value);

// The text a filter compares against (CellText without the multi-line forms).
std::string FilterText(const Row& value);

}  // namespace moray::cli
