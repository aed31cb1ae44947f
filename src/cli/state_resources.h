// The resources the state CLI knows, in one table: their columns and how to fetch them. Adding a
// resource (actors, objects, placement groups) is one entry here plus a row converter.
//
//   const StateResource* r = FindStateResource("tasks");
//   auto result = r->list(client, filters, /*limit=*/100);   // filtered, then limited
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/format_table.h"
#include "gcs.pb.h"
#include "gcs/gcs_client.h"

namespace moray::cli {

struct StateResource {
  using ListFn = std::function<absl::StatusOr<ListResult>(
      gcs::GcsClient& client, const std::vector<proto::StateFilter>& filters, int64_t limit)>;

  std::string name;                         // as typed: "tasks", "placement-groups"
  std::string id_column;                    // what `moray get <name> <id>` matches
  std::vector<std::string> default_columns;
  std::vector<std::string> detail_columns;  // added by --detail
  ListFn list;                              // null: not available in this version yet

  std::vector<std::string> Columns(bool detail) const;
};

// Every resource `moray list` accepts, in the order `moray list --help` shows them.
const std::vector<StateResource>& StateResources();
// The resource called `name`, or nullptr.
const StateResource* FindStateResource(std::string_view name);
// "actors, tasks, ..." for error messages.
std::string StateResourceNames();

// Client-side filtering and limiting for resources the GCS returns whole.
absl::StatusOr<ListResult> FilterAndLimit(const StateResource& resource, std::vector<Row> rows,
                                          const std::vector<proto::StateFilter>& filters,
                                          int64_t limit);

}  // namespace moray::cli
