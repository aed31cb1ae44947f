#include "scheduling/label_selector.h"

#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace moray::scheduling {
namespace {

struct Condition {
  bool negated = false;
  std::vector<std::string> values;  // any of
  bool well_formed = true;
};

Condition Parse(const std::string& text) {
  Condition c;
  absl::string_view rest(text);
  c.negated = absl::ConsumePrefix(&rest, "!");
  if (absl::ConsumePrefix(&rest, "in(")) {
    if (!absl::ConsumeSuffix(&rest, ")")) {
      c.well_formed = false;
      return c;
    }
    for (absl::string_view v : absl::StrSplit(rest, ',')) {
      v = absl::StripAsciiWhitespace(v);
      if (v.empty()) {
        c.well_formed = false;
        return c;
      }
      c.values.emplace_back(v);
    }
    return c;
  }
  c.values.emplace_back(rest);
  return c;
}

}  // namespace

bool MatchesLabels(const Labels& labels, const Labels& selector) {
  for (const auto& [key, text] : selector) {
    const Condition c = Parse(text);
    auto it = labels.find(key);
    bool any = false;
    if (it != labels.end()) {
      for (const auto& v : c.values) any = any || it->second == v;
    }
    if (any == c.negated) return false;
  }
  return true;
}

absl::Status ValidateLabelSelector(const Labels& selector) {
  for (const auto& [key, text] : selector) {
    if (key.empty()) return absl::InvalidArgumentError("label selector: an empty label name");
    const Condition c = Parse(text);
    if (!c.well_formed || c.values.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("label selector: '", key, ": ", text,
                       "' is not one of value, !value, in(a,b), !in(a,b)"));
    }
  }
  return absl::OkStatus();
}

std::string DescribeSelector(const Labels& selector) {
  std::map<std::string, std::string> sorted(selector.begin(), selector.end());
  return absl::StrCat("{", absl::StrJoin(sorted, ", ", absl::PairFormatter(": ")), "}");
}

}  // namespace moray::scheduling
