// Parsing the value of a command-line option, with errors that read as sentences: what is wrong
// and what is allowed, e.g. "--port must be a whole number from 0 to 65535, not 70000". Used by
// the node options (node_options.h) and the other options of the `moray` CLI, so every option
// says it the same way.
//
//   absl::StatusOr<int64_t> limit = ParseWholeNumber("--limit", text, {.min = 1});
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace moray {

// What a numeric option allows: [min, max], in `unit` ("bytes", "milliseconds"; empty: none).
struct NumberRange {
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();  // the largest: no upper bound
  std::string_view unit;
};

// "a whole number of bytes, 0 or more", "a whole number from 0 to 65535", "a number, 0 or more".
std::string DescribeWholeNumber(const NumberRange& range);
std::string DescribeNumber(const NumberRange& range);

// InvalidArgument "<name> must be <description>, not <text>" unless `text` is such a number.
absl::StatusOr<int64_t> ParseWholeNumber(std::string_view name, std::string_view text,
                                         const NumberRange& range);
// A finite decimal number (fractions allowed) within the range.
absl::StatusOr<double> ParseNumber(std::string_view name, std::string_view text,
                                   const NumberRange& range);
// InvalidArgument "<name> must not be empty" for "".
absl::StatusOr<std::string> ParseText(std::string_view name, std::string_view text);
// One of `choices` (compared case-insensitively; the result is the choice as spelled there):
// InvalidArgument "<name> must be one of a, b or c, not 'x'".
absl::StatusOr<std::string> ParseChoice(std::string_view name, std::string_view text,
                                        const std::vector<std::string>& choices);

// `text` as an error message shows it: bare if it reads as a number, else quoted ('' if empty).
std::string QuoteValue(std::string_view text);
// "a, b or c".
std::string JoinAlternatives(const std::vector<std::string>& items, std::string_view last = "or");

}  // namespace moray
