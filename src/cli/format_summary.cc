#include "cli/format_summary.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "cli/format_table.h"
#include "gcs/task_columns.h"

namespace moray::cli {
namespace {

constexpr char kSummaryDashes[] = "------------------------------------";

struct Group {
  std::string name;
  proto::TaskType type = proto::NORMAL_TASK;
  std::map<int, int64_t> counts;  // by state, lifecycle order
  int64_t total = 0;
  size_t first_seen = 0;
};

}  // namespace

TaskSummary SummarizeTasks(const std::vector<proto::TaskRecord>& tasks) {
  TaskSummary summary;
  std::map<std::pair<std::string, int>, Group> groups;
  for (const auto& task : tasks) {
    switch (task.type()) {
      case proto::ACTOR_CREATION_TASK: ++summary.total_actor_scheduled; break;
      case proto::ACTOR_TASK: ++summary.total_actor_tasks; break;
      default: ++summary.total_tasks; break;
    }
    auto key = std::make_pair(task.func_or_class_name(), static_cast<int>(task.type()));
    auto [it, inserted] = groups.try_emplace(key);
    Group& group = it->second;
    if (inserted) {
      group.name = task.func_or_class_name();
      group.type = task.type();
      group.first_seen = groups.size();
    }
    ++group.counts[static_cast<int>(task.state())];
    ++group.total;
  }
  std::vector<Group*> ordered;
  for (auto& [key, group] : groups) ordered.push_back(&group);
  std::sort(ordered.begin(), ordered.end(), [](const Group* a, const Group* b) {
    return std::tie(b->total, a->first_seen) < std::tie(a->total, b->first_seen);
  });
  for (const Group* group : ordered) {
    std::string counts;
    // Lifecycle order: pending, running, then finished and failed.
    for (const auto& [state, count] : group->counts) {
      absl::StrAppend(&counts, counts.empty() ? "" : "\n",
                      gcs::TaskStateName(static_cast<proto::TaskState>(state)), ": ", count);
    }
    Row row = Row::object();
    row["func_or_class_name"] = group->name;
    row["state_counts"] = counts;
    row["type"] = gcs::TaskTypeName(group->type);
    summary.groups.push_back(std::move(row));
  }
  return summary;
}

std::string FormatTaskSummary(const TaskSummary& summary, absl::Time now) {
  std::string out = absl::StrCat(
      BannerLine("Tasks Summary", now), "\n", "Stats:\n", kSummaryDashes, "\n",
      "total_actor_scheduled: ", summary.total_actor_scheduled, "\n",
      "total_actor_tasks: ", summary.total_actor_tasks, "\n",
      "total_tasks: ", summary.total_tasks, "\n\n\n",
      "Table (group by func_name):\n", kSummaryDashes, "\n");
  if (summary.groups.empty()) return out + "No resource in the cluster\n";
  return out + FormatIndexedTable({"func_or_class_name", "state_counts", "type"}, summary.groups);
}

}  // namespace moray::cli
