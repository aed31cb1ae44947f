#include "cli/state_filter.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace moray::cli {

absl::StatusOr<proto::StateFilter> ParseFilter(std::string_view text) {
  const std::string input(text);
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("--filter must be KEY=VALUE or KEY!=VALUE, not '", input, "'"));
  };
  const size_t eq = input.find('=');
  if (eq == std::string::npos) return invalid();
  const bool negated = eq > 0 && input[eq - 1] == '!';
  std::string key(absl::StripAsciiWhitespace(input.substr(0, negated ? eq - 1 : eq)));
  if (key.empty()) return invalid();
  proto::StateFilter filter;
  filter.set_key(absl::AsciiStrToLower(key));
  filter.set_op(negated ? "!=" : "=");
  filter.set_value(std::string(absl::StripAsciiWhitespace(input.substr(eq + 1))));
  return filter;
}

absl::StatusOr<std::vector<proto::StateFilter>> ParseFilters(const std::vector<std::string>& texts) {
  std::vector<proto::StateFilter> filters;
  for (const auto& text : texts) {
    auto filter = ParseFilter(text);
    if (!filter.ok()) return filter.status();
    filters.push_back(*std::move(filter));
  }
  return filters;
}

absl::Status CheckFilterKeys(const std::vector<proto::StateFilter>& filters,
                             const std::vector<std::string>& keys, std::string_view resource) {
  for (const auto& filter : filters) {
    if (std::find(keys.begin(), keys.end(), filter.key()) == keys.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown filter key '", filter.key(),
                                                     "' for ", std::string(resource),
                                                     "; valid keys: ", absl::StrJoin(keys, ", ")));
    }
  }
  return absl::OkStatus();
}

bool RowMatches(const Row& row, const std::vector<proto::StateFilter>& filters) {
  for (const auto& filter : filters) {
    std::string text = row.contains(filter.key()) ? FilterText(row.at(filter.key())) : "";
    bool equal = absl::EqualsIgnoreCase(text, filter.value());
    if (equal != (filter.op() == "=")) return false;
  }
  return true;
}

}  // namespace moray::cli
