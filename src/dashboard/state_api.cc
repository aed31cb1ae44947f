#include "dashboard/state_api.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "cli/state_filter.h"
#include "cli/state_resources.h"
#include "cli/state_rows.h"
#include "common/id.h"
#include "dashboard/http_params.h"
#include "nlohmann/json.hpp"

namespace moray::dashboard {
namespace {

struct PageRequest {
  std::vector<proto::StateFilter> filters;
  int64_t offset = 0;
  int64_t limit = 100;
};

void Error(httplib::Response& res, int status, absl::string_view message) {
  Answer(res, status, {{"error", std::string(message)}});
}

absl::StatusOr<PageRequest> ParsePage(const httplib::Request& req,
                                      const cli::StateResource& resource) {
  PageRequest page;
  auto limit = WholeParam(req, "limit", 100, 1, kMaxPageSize);
  if (!limit.ok()) return limit.status();
  auto offset = WholeParam(req, "offset", 0, 0, int64_t{1} << 40);
  if (!offset.ok()) return offset.status();
  page.limit = *limit;
  page.offset = *offset;
  std::vector<std::string> texts;
  for (size_t i = 0; i < req.get_param_value_count("filter"); ++i) {
    texts.push_back(req.get_param_value("filter", i));
  }
  auto filters = cli::ParseFilters(texts);
  if (!filters.ok()) return filters.status();
  if (auto known = cli::CheckFilterKeys(*filters, resource.Columns(/*detail=*/true), resource.name);
      !known.ok()) {
    return known;
  }
  page.filters = *std::move(filters);
  return page;
}

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    default:
      return 503;
  }
}

// Tasks: the GCS filters and cuts the page.
absl::StatusOr<cli::ListResult> ListTaskPage(gcs::GcsClient& gcs, const PageRequest& page) {
  auto reply = gcs.GetTasks(page.filters, page.limit, page.offset);
  if (!reply.ok()) return reply.status();
  cli::ListResult result{.resource = "tasks"};
  for (const auto& task : reply->tasks()) result.rows.push_back(cli::TaskRow(task));
  result.total = reply->total();
  result.num_truncated = reply->num_truncated();
  result.num_dropped = reply->num_dropped();
  return result;
}

// The others: the first offset + limit matching rows, then the page.
absl::StatusOr<cli::ListResult> ListPage(gcs::GcsClient& gcs, const cli::StateResource& resource,
                                         const PageRequest& page) {
  if (resource.name == "tasks") return ListTaskPage(gcs, page);
  auto result = resource.list(gcs, page.filters, page.offset + page.limit);
  if (!result.ok()) return result.status();
  const int64_t skip = std::min<int64_t>(page.offset, result->rows.size());
  result->rows.erase(result->rows.begin(), result->rows.begin() + skip);
  result->num_truncated =
      std::max<int64_t>(0, result->total - page.offset - static_cast<int64_t>(result->rows.size()));
  return result;
}

nlohmann::ordered_json PageJson(const cli::ListResult& result, const PageRequest& page) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& row : result.rows) rows.push_back(row);
  return {{"result", std::move(rows)},
          {"total", result.total},
          {"offset", page.offset},
          {"limit", page.limit},
          {"num_truncated", result.num_truncated},
          {"num_dropped", result.num_dropped}};
}

// Node rows with what each raylet last reported.
void JoinReports(gcs::GcsClient& gcs, cli::ListResult& result) {
  auto status = gcs.GetClusterStatus();
  if (!status.ok()) return;  // the rows without usage; the page says "no report"
  for (auto& row : result.rows) {
    for (const auto& report : status->reports()) {
      if (row.value("node_id", "") != ToHex(report.node_id())) continue;
      row["resources_available"] = report.resources_available();
      row["resources_total_reported"] = report.resources_total();
      row["object_store_used"] = report.object_store_used();
      row["object_store_spilled"] = report.object_store_spilled();
      row["num_workers"] = report.workers_size();
    }
  }
}

void AddListRoute(httplib::Server& server, gcs::GcsClient& gcs, const std::string& path,
                  const std::string& resource_name) {
  server.Get(path, [&gcs, resource_name](const httplib::Request& req, httplib::Response& res) {
    const cli::StateResource* resource = cli::FindStateResource(resource_name);
    auto page = ParsePage(req, *resource);
    if (!page.ok()) return Error(res, 400, page.status().message());
    auto result = ListPage(gcs, *resource, *page);
    if (!result.ok()) return Error(res, HttpStatusOf(result.status()), result.status().message());
    if (resource_name == "nodes") JoinReports(gcs, *result);
    Answer(res, 200, PageJson(*result, *page));
  });
}

}  // namespace

void AddStateRoutes(httplib::Server& server, gcs::GcsClient& gcs) {
  AddListRoute(server, gcs, "/api/v0/nodes", "nodes");
  AddListRoute(server, gcs, "/api/v0/jobs", "jobs");
  AddListRoute(server, gcs, "/api/v0/actors", "actors");
  AddListRoute(server, gcs, "/api/v0/tasks", "tasks");
  AddListRoute(server, gcs, "/api/v0/placement_groups", "placement-groups");
  AddListRoute(server, gcs, "/api/v0/workers", "workers");
  AddListRoute(server, gcs, "/api/v0/objects", "objects");
}

}  // namespace moray::dashboard
