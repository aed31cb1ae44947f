#include "cli/format_summary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "cli/format_table.h"
#include "gcs/actor_columns.h"
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

TaskSummary TaskSummaryFromReply(const proto::SummarizeTasksReply& reply) {
  TaskSummary summary;
  summary.total_actor_scheduled = reply.total_actor_scheduled();
  summary.total_actor_tasks = reply.total_actor_tasks();
  summary.total_tasks = reply.total_tasks();
  for (const auto& group : reply.groups()) {
    std::string counts;
    for (const auto& count : group.state_counts()) {
      absl::StrAppend(&counts, counts.empty() ? "" : "\n", gcs::TaskStateName(count.state()), ": ",
                      count.count());
    }
    Row row = Row::object();
    row["func_or_class_name"] = group.func_or_class_name();
    row["state_counts"] = counts;
    row["type"] = gcs::TaskTypeName(group.type());
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

ActorSummary SummarizeActors(const std::vector<proto::ActorInfo>& actors) {
  struct ClassGroup {
    std::map<int, int64_t> counts;  // by state, lifecycle order
    int64_t total = 0;
    size_t first_seen = 0;
  };
  ActorSummary summary;
  std::map<std::string, ClassGroup> groups;
  for (const auto& actor : actors) {
    ++summary.total_actors;
    auto [it, inserted] = groups.try_emplace(actor.class_name());
    if (inserted) it->second.first_seen = groups.size();
    ++it->second.counts[static_cast<int>(actor.state())];
    ++it->second.total;
  }
  std::vector<std::pair<const std::string, ClassGroup>*> ordered;
  for (auto& entry : groups) ordered.push_back(&entry);
  std::sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return std::tie(b->second.total, a->second.first_seen) <
           std::tie(a->second.total, b->second.first_seen);
  });
  for (const auto* entry : ordered) {
    std::string counts;
    for (const auto& [state, count] : entry->second.counts) {
      absl::StrAppend(&counts, counts.empty() ? "" : "\n",
                      gcs::ActorStateName(static_cast<proto::ActorState>(state)), ": ", count);
    }
    Row row = Row::object();
    row["class_name"] = entry->first;
    row["state_counts"] = counts;
    summary.groups.push_back(std::move(row));
  }
  return summary;
}

std::string FormatActorSummary(const ActorSummary& summary, absl::Time now) {
  std::string out = absl::StrCat(
      BannerLine("Actors Summary", now), "\n", "Stats:\n", kSummaryDashes, "\n",
      "total_actors: ", summary.total_actors, "\n\n\n",
      "Table (group by class):\n", kSummaryDashes, "\n");
  if (summary.groups.empty()) return out + "No resource in the cluster\n";
  return out + FormatIndexedTable({"class_name", "state_counts"}, summary.groups);
}

namespace {

struct ObjectGroup {
  std::string call_site;
  int64_t total = 0;
  std::map<std::string, int64_t> sizes;  // by object id: the largest size reported
  std::set<std::string> workers;
  std::set<std::string> nodes;
  std::map<std::string, int64_t> task_states;
  std::map<std::string, int64_t> ref_types;
  size_t first_seen = 0;
};

// Task states in lifecycle order, then anything else ("-") alphabetically.
int TaskStatusRank(const std::string& status) {
  proto::TaskState state;
  if (proto::TaskState_Parse(status, &state)) return static_cast<int>(state);
  return 100;
}

// Reference types from the strongest hold to the weakest (object_snapshot.h's precedence).
int RefTypeRank(const std::string& type) {
  static const char* kOrder[] = {"LOCAL_REFERENCE", "BORROWED", "USED_BY_PENDING_TASK",
                                 "CAPTURED_IN_OBJECT", "PINNED_IN_MEMORY"};
  for (int i = 0; i < 5; ++i) {
    if (type == kOrder[i]) return i;
  }
  return 100;
}

std::string CountLines(const std::map<std::string, int64_t>& counts,
                       int (*rank)(const std::string&)) {
  std::vector<std::pair<std::string, int64_t>> ordered(counts.begin(), counts.end());
  std::stable_sort(ordered.begin(), ordered.end(), [rank](const auto& a, const auto& b) {
    return rank(a.first) < rank(b.first);
  });
  std::string out;
  for (const auto& [name, count] : ordered) {
    absl::StrAppend(&out, out.empty() ? "" : "\n", name, ": ", count);
  }
  return out;
}

int64_t SumSizes(const std::map<std::string, int64_t>& sizes) {
  int64_t total = 0;
  for (const auto& [id, size] : sizes) total += std::max<int64_t>(0, size);
  return total;
}

std::string MiB(int64_t bytes) {
  double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  return FormatPyFloat(std::round(mib * 1e6) / 1e6);
}

}  // namespace

ObjectSummary SummarizeObjects(const std::vector<proto::ObjectRecord>& objects) {
  ObjectSummary summary;
  std::map<std::string, ObjectGroup> groups;
  std::map<std::string, int64_t> all_sizes;
  for (const auto& o : objects) {
    ++summary.total_objects;
    auto [it, inserted] = groups.try_emplace(o.call_site());
    ObjectGroup& group = it->second;
    if (inserted) {
      group.call_site = o.call_site();
      group.first_seen = groups.size();
    }
    ++group.total;
    int64_t& size = group.sizes[o.object_id()];
    size = std::max(size, o.object_size());
    int64_t& any_size = all_sizes[o.object_id()];
    any_size = std::max(any_size, o.object_size());
    group.workers.insert(o.worker_id());
    group.nodes.insert(o.node_id());
    ++group.task_states[o.task_status()];
    ++group.ref_types[o.reference_type()];
  }
  summary.total_size_bytes = SumSizes(all_sizes);
  std::vector<ObjectGroup*> ordered;
  for (auto& [key, group] : groups) ordered.push_back(&group);
  std::sort(ordered.begin(), ordered.end(), [](const ObjectGroup* a, const ObjectGroup* b) {
    return std::tie(b->total, a->first_seen) < std::tie(a->total, b->first_seen);
  });
  for (const ObjectGroup* group : ordered) {
    Row row = Row::object();
    row["call_site"] = group->call_site;
    row["total_objects"] = group->total;
    row["total_size_mb"] = MiB(SumSizes(group->sizes));
    row["total_num_workers"] = static_cast<int64_t>(group->workers.size());
    row["total_num_nodes"] = static_cast<int64_t>(group->nodes.size());
    row["task_state_counts"] = CountLines(group->task_states, TaskStatusRank);
    row["ref_type_counts"] = CountLines(group->ref_types, RefTypeRank);
    summary.groups.push_back(std::move(row));
  }
  return summary;
}

std::string FormatObjectSummary(const ObjectSummary& summary, absl::Time now) {
  std::string out = absl::StrCat(
      BannerLine("Object Summary", now), "\n", "Stats:\n", kSummaryDashes, "\n",
      "callsite_enabled: false\n",
      "total_objects: ", summary.total_objects, "\n",
      "total_size_mb: ", MiB(summary.total_size_bytes), "\n\n\n",
      "Table (group by callsite):\n", kSummaryDashes, "\n");
  if (summary.groups.empty()) return out + "No resource in the cluster\n";
  return out + FormatIndexedTable({"call_site", "total_objects", "total_size_mb",
                                   "total_num_workers", "total_num_nodes", "task_state_counts",
                                   "ref_type_counts"},
                                  summary.groups);
}

}  // namespace moray::cli
