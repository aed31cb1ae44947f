// The columns of an object record as the state API shows and filters them (`moray list objects`):
// one string per column, ids in hex, sizes in bytes. The GCS filters with these strings, so
// `--filter reference_type=local_reference` matches exactly what the table shows.
//
//   ObjectColumnValue(record, "object_size")   // -> "1024"
//   auto filter = ObjectFilter::Create(state_filter);  // InvalidArgument for an unknown key
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gcs.pb.h"
#include "gcs/column_filter.h"

namespace moray::gcs {

// Filterable object columns: the default ones, then the --detail ones.
const std::vector<std::string>& ObjectColumns();

// The record's value of `key` (one of ObjectColumns()), or nullopt for another key.
std::optional<std::string> ObjectColumnValue(const proto::ObjectRecord& record,
                                             std::string_view key);

// A filter checked once, then applied to many records.
class ObjectFilter {
 public:
  // InvalidArgument for an unknown key (the message lists the valid ones) or operator.
  static absl::StatusOr<ObjectFilter> Create(const proto::StateFilter& filter);
  bool Matches(const proto::ObjectRecord& record) const;

 private:
  ColumnFilter filter_;
};

}  // namespace moray::gcs
