#include "gcs/column_filter.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace moray::gcs {

absl::StatusOr<ColumnFilter> ColumnFilter::Create(const proto::StateFilter& filter,
                                                  const std::vector<std::string>& columns,
                                                  const std::string& resource) {
  ColumnFilter out;
  out.key_ = absl::AsciiStrToLower(absl::StripAsciiWhitespace(filter.key()));
  if (std::find(columns.begin(), columns.end(), out.key_) == columns.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown filter key '", filter.key(), "' for ",
                                                   resource, "; valid keys: ",
                                                   absl::StrJoin(columns, ", ")));
  }
  if (filter.op() == "=") {
    out.equal_ = true;
  } else if (filter.op() == "!=") {
    out.equal_ = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid filter operator '", filter.op(), "': expected = or !="));
  }
  out.value_ = std::string(absl::StripAsciiWhitespace(filter.value()));
  return out;
}

bool ColumnFilter::Accepts(const std::optional<std::string>& value) const {
  bool equal = value.has_value() && absl::EqualsIgnoreCase(*value, value_);
  return equal == equal_;
}

}  // namespace moray::gcs
