#include "common/option_values.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace moray {
namespace {

std::string RangeText(const NumberRange& range) {
  if (range.max == std::numeric_limits<int64_t>::max()) return absl::StrCat(range.min, " or more");
  return absl::StrCat("from ", range.min, " to ", range.max);
}

absl::Status NotA(std::string_view name, const std::string& description, std::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(name), " must be ", description, ", not ", QuoteValue(text)));
}

}  // namespace

std::string DescribeWholeNumber(const NumberRange& range) {
  std::string unit = range.unit.empty() ? "" : absl::StrCat(" of ", std::string(range.unit));
  bool open = range.max == std::numeric_limits<int64_t>::max();
  return absl::StrCat("a whole number", unit, open ? ", " : " ", RangeText(range));
}

std::string DescribeNumber(const NumberRange& range) {
  std::string unit = range.unit.empty() ? "" : absl::StrCat(" of ", std::string(range.unit));
  bool open = range.max == std::numeric_limits<int64_t>::max();
  return absl::StrCat("a number", unit, open ? ", " : " ", RangeText(range));
}

absl::StatusOr<int64_t> ParseWholeNumber(std::string_view name, std::string_view text,
                                         const NumberRange& range) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(std::string(text), &value) || value < range.min || value > range.max) {
    return NotA(name, DescribeWholeNumber(range), text);
  }
  return value;
}

absl::StatusOr<double> ParseNumber(std::string_view name, std::string_view text,
                                   const NumberRange& range) {
  double value = 0;
  if (!absl::SimpleAtod(std::string(text), &value) || !std::isfinite(value) ||
      value < static_cast<double>(range.min) || value > static_cast<double>(range.max)) {
    return NotA(name, DescribeNumber(range), text);
  }
  return value;
}

absl::StatusOr<std::string> ParseText(std::string_view name, std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(std::string(name), " must not be empty"));
  return std::string(text);
}

absl::StatusOr<std::string> ParseChoice(std::string_view name, std::string_view text,
                                        const std::vector<std::string>& choices) {
  for (const auto& choice : choices) {
    if (absl::EqualsIgnoreCase(choice, std::string(text))) return choice;
  }
  return NotA(name, absl::StrCat("one of ", JoinAlternatives(choices)), text);
}

std::string QuoteValue(std::string_view text) {
  const std::string value(text);
  double number;
  if (absl::SimpleAtod(value, &number) && std::isfinite(number)) {
    return std::string(absl::StripAsciiWhitespace(value));
  }
  return absl::StrCat("'", value, "'");
}

std::string JoinAlternatives(const std::vector<std::string>& items, std::string_view last) {
  if (items.size() <= 1) return absl::StrJoin(items, "");
  std::vector<std::string> head(items.begin(), items.end() - 1);
  return absl::StrCat(absl::StrJoin(head, ", "), " ", std::string(last), " ", items.back());
}

}  // namespace moray
