#include "gcs/object_columns.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/id.h"

namespace moray::gcs {

const std::vector<std::string>& ObjectColumns() {
  static const auto* columns = new std::vector<std::string>{
      "object_id", "object_size", "task_status", "reference_type", "call_site", "type", "pid",
      "ip",        "node_id",     "worker_id",   "job_id",         "is_owner",  "local_refs",
      "submitted_task_refs",      "contained_in_refs",             "num_borrowers"};
  return *columns;
}

std::optional<std::string> ObjectColumnValue(const proto::ObjectRecord& r, std::string_view key) {
  if (key == "object_id") return ToHex(r.object_id());
  if (key == "object_size") return absl::StrCat(r.object_size());
  if (key == "task_status") return r.task_status();
  if (key == "reference_type") return r.reference_type();
  if (key == "call_site") return r.call_site();
  if (key == "type") return r.type();
  if (key == "pid") return r.pid() == 0 ? "" : absl::StrCat(r.pid());
  if (key == "ip") return r.ip();
  if (key == "node_id") return ToHex(r.node_id());
  if (key == "worker_id") return ToHex(r.worker_id());
  if (key == "job_id") return ToHex(r.job_id());
  // Booleans as the table prints them.
  if (key == "is_owner") return r.is_owner() ? "True" : "False";
  if (key == "local_refs") return absl::StrCat(r.local_refs());
  if (key == "submitted_task_refs") return absl::StrCat(r.submitted_task_refs());
  if (key == "contained_in_refs") return absl::StrCat(r.contained_in_refs());
  if (key == "num_borrowers") return absl::StrCat(r.num_borrowers());
  return std::nullopt;
}

absl::StatusOr<ObjectFilter> ObjectFilter::Create(const proto::StateFilter& filter) {
  auto parsed = ColumnFilter::Create(filter, ObjectColumns(), "objects");
  if (!parsed.ok()) return parsed.status();
  ObjectFilter out;
  out.filter_ = std::move(*parsed);
  return out;
}

bool ObjectFilter::Matches(const proto::ObjectRecord& record) const {
  return filter_.Accepts(ObjectColumnValue(record, filter_.key()));
}

}  // namespace moray::gcs
