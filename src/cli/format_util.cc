#include "cli/format_util.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace moray::cli {

std::string FormatDateTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", time, absl::LocalTimeZone());
}

std::string FormatPyFloat(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest round-trip digits in scientific form, e.g. "1.2345e+03", then laid out the way
  // Python's repr does: positional when the exponent is in [-4, 16), else scientific.
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string sci(buf, result.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::atoi(sci.c_str() + e + 1);
  if (exponent < -4 || exponent >= 16) {
    std::string mantissa = digits.substr(0, 1);
    if (digits.size() > 1) absl::StrAppend(&mantissa, ".", digits.substr(1));
    return absl::StrFormat("%s%se%s%02d", sign, mantissa, exponent < 0 ? "-" : "+",
                           std::abs(exponent));
  }
  std::string out;
  if (exponent < 0) {
    out = absl::StrCat("0.", std::string(-exponent - 1, '0'), digits);
  } else if (static_cast<int>(digits.size()) <= exponent + 1) {
    out = absl::StrCat(digits, std::string(exponent + 1 - digits.size(), '0'), ".0");
  } else {
    out = absl::StrCat(digits.substr(0, exponent + 1), ".", digits.substr(exponent + 1));
  }
  return sign + out;
}

std::string FormatBytes(double bytes) {
  constexpr double kKiB = 1024.0, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (bytes >= kGiB) return absl::StrFormat("%.2fGiB", bytes / kGiB);
  if (bytes >= kMiB) return absl::StrFormat("%.2fMiB", bytes / kMiB);
  if (bytes >= kKiB) return absl::StrFormat("%.2fKiB", bytes / kKiB);
  return absl::StrCat(static_cast<int64_t>(std::llround(bytes)), "B");
}

namespace {

std::string ScalarText(const Row& value) {
  switch (value.type()) {
    case Row::value_t::null:
      return "";
    case Row::value_t::boolean:
      return value.get<bool>() ? "True" : "False";
    case Row::value_t::number_float:
      return FormatPyFloat(value.get<double>());
    case Row::value_t::string:
      return value.get<std::string>();
    default:
      return value.dump();
  }
}

// A nested mapping or list on one line, in its own order: "{bundle_index: 0, node_id: ab12}".
std::string FlowText(const Row& value) {
  std::string out;
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      absl::StrAppend(&out, out.empty() ? "{" : ", ", key, ": ", FlowText(item));
    }
    return out.empty() ? "{}" : out + "}";
  }
  if (value.is_array()) {
    for (const auto& item : value) absl::StrAppend(&out, out.empty() ? "[" : ", ", FlowText(item));
    return out.empty() ? "[]" : out + "]";
  }
  return value.is_null() ? "null" : ScalarText(value);  // an empty cell, but not inside a value
}

}  // namespace

std::string CellText(const Row& value) {
  if (value.is_object()) {
    // Sorted, like the YAML dump Ray puts in a cell.
    std::map<std::string, std::string> sorted;
    for (const auto& [key, item] : value.items())
      sorted[key] = item.is_structured() ? FlowText(item) : ScalarText(item);
    std::string out;
    for (const auto& [key, text] : sorted) {
      absl::StrAppend(&out, out.empty() ? "" : "\n", key, ": ", text);
    }
    return out;
  }
  if (value.is_array()) {
    std::string out;
    for (const auto& item : value) {
      absl::StrAppend(&out, out.empty() ? "" : "\n", "- ",
                      item.is_structured() ? FlowText(item) : ScalarText(item));
    }
    return out;
  }
  return ScalarText(value);
}

std::string FilterText(const Row& value) {
  if (value.is_object() || value.is_array()) return value.dump();
  return ScalarText(value);
}

}  // namespace moray::cli
