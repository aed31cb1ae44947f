// ColumnFilter: one `key=value` / `key!=value` state-API filter over a table's columns (tasks,
// objects). Keys and values are compared case-insensitively; the table supplies its column names
// and how to read a record's column as text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gcs.pb.h"

namespace moray::gcs {

class ColumnFilter {
 public:
  // InvalidArgument for a key not in `columns` (the message lists them, naming `resource`) or an
  // operator other than = and !=.
  static absl::StatusOr<ColumnFilter> Create(const proto::StateFilter& filter,
                                             const std::vector<std::string>& columns,
                                             const std::string& resource);
  const std::string& key() const { return key_; }
  bool equal() const { return equal_; }                // "=" (else "!=")
  const std::string& value() const { return value_; }  // trimmed
  // Whether a record whose column reads `value` (nullopt: no such value) passes.
  bool Accepts(const std::optional<std::string>& value) const;

 private:
  std::string key_;
  bool equal_ = true;
  std::string value_;
};

}  // namespace moray::gcs
