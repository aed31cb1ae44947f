#include "cli/timeline.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "gcs/task_columns.h"

namespace moray::cli {
namespace {

int64_t StateTime(const proto::TaskRecord& r, proto::TaskState state) {
  auto it = r.state_times_ns().find(gcs::TaskStateName(state));
  return it == r.state_times_ns().end() ? 0 : it->second;
}

std::string ShortHex(const std::string& bytes) { return ToHex(bytes).substr(0, 8); }

}  // namespace

nlohmann::json TimelineTrace(const std::vector<proto::TaskRecord>& records,
                             const std::vector<proto::NodeInfo>& nodes, absl::Time now) {
  nlohmann::json events = nlohmann::json::array();
  // Nodes by id -> trace pid, in the GCS's order; a node the table no longer has gets the next.
  std::map<std::string, int> pids;
  auto add_process = [&](const std::string& node_id, const std::string& label) {
    const int pid = static_cast<int>(pids.size()) + 1;
    pids.emplace(node_id, pid);
    events.push_back(
        {{"ph", "M"}, {"name", "process_name"}, {"pid", pid}, {"args", {{"name", label}}}});
    events.push_back({{"ph", "M"},
                      {"name", "process_sort_index"},
                      {"pid", pid},
                      {"args", {{"sort_index", pid}}}});
  };
  for (const auto& node : nodes) {
    if (pids.contains(node.node_id())) continue;
    add_process(node.node_id(),
                absl::StrCat("Node ", node.node_ip(), " (", ShortHex(node.node_id()),
                             node.is_head_node() ? ", head" : "", ")"));
  }
  std::map<std::pair<int, int32_t>, std::string> threads;  // (pid, worker pid) -> worker id
  const int64_t now_ns = absl::ToUnixNanos(now);
  for (const auto& r : records) {
    const int64_t start = StateTime(r, proto::RUNNING);
    if (start == 0) continue;  // never ran
    int64_t end = 0;
    if (r.state() == proto::FINISHED) end = StateTime(r, proto::FINISHED);
    if (r.state() == proto::FAILED) end = StateTime(r, proto::FAILED);
    if (r.state() == proto::RUNNING) end = std::max(now_ns, start);
    if (end == 0) continue;  // a state past RUNNING without its time: nothing to draw
    if (!pids.contains(r.node_id())) {
      add_process(r.node_id(), r.node_id().empty()
                                   ? std::string("Node unknown")
                                   : absl::StrCat("Node ", ShortHex(r.node_id()), " (gone)"));
    }
    const int pid = pids.at(r.node_id());
    threads.try_emplace({pid, r.worker_pid()}, r.worker_id());
    nlohmann::json args = {{"task_id", ToHex(r.task_id())},
                           {"attempt_number", r.attempt_number()},
                           {"job_id", ToHex(r.job_id())},
                           {"state", gcs::TaskStateName(r.state())},
                           {"func_or_class_name", r.func_or_class_name()},
                           {"worker_id", ToHex(r.worker_id())}};
    if (!r.actor_id().empty()) args["actor_id"] = ToHex(r.actor_id());
    if (!r.error_type().empty()) args["error_type"] = r.error_type();
    if (!r.error_message().empty()) args["error_message"] = r.error_message();
    nlohmann::json span = {{"ph", "X"},
                           {"name", r.name().empty() ? r.func_or_class_name() : r.name()},
                           {"cat", gcs::TaskTypeName(r.type())},
                           {"pid", pid},
                           {"tid", r.worker_pid()},
                           {"ts", static_cast<double>(start) / 1000.0},
                           {"dur", static_cast<double>(std::max<int64_t>(end - start, 0)) / 1000.0},
                           {"args", std::move(args)}};
    if (r.state() == proto::FAILED) span["cname"] = "terrible";
    if (r.state() == proto::RUNNING) span["cname"] = "rail_animation";
    events.push_back(std::move(span));
  }
  for (const auto& [key, worker_id] : threads) {
    const auto& [pid, tid] = key;
    std::string label =
        tid == 0 ? std::string("worker (pid unknown)") : absl::StrCat("worker ", tid);
    if (!worker_id.empty()) absl::StrAppend(&label, " (", ShortHex(worker_id), ")");
    events.push_back({{"ph", "M"},
                      {"name", "thread_name"},
                      {"pid", pid},
                      {"tid", tid},
                      {"args", {{"name", label}}}});
  }
  return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}};
}

absl::StatusOr<std::vector<proto::TaskRecord>> ReadAllTaskRecords(gcs::GcsClient& client,
                                                                  int64_t page_size,
                                                                  proto::GetTasksReply* last_page) {
  std::vector<proto::TaskRecord> records;
  absl::flat_hash_set<std::pair<std::string, int32_t>> seen;
  for (int64_t offset = 0;;) {
    auto page = client.GetTasks({}, std::max<int64_t>(1, page_size), offset);
    if (!page.ok()) return page.status();
    for (auto& task : *page->mutable_tasks()) {
      if (!seen.emplace(task.task_id(), task.attempt_number()).second) continue;
      records.push_back(std::move(task));
    }
    offset += page->tasks_size();
    if (page->tasks_size() == 0 || offset >= page->total()) {
      if (last_page != nullptr) {
        page->clear_tasks();
        *last_page = *std::move(page);
      }
      break;
    }
  }
  return records;
}

absl::StatusOr<nlohmann::json> ClusterTimeline(gcs::GcsClient& client,
                                               proto::GetTasksReply* last_page) {
  auto nodes = client.GetAllNodes();
  if (!nodes.ok()) return nodes.status();
  auto records = ReadAllTaskRecords(client, 10000, last_page);
  if (!records.ok()) return records.status();
  return TimelineTrace(*records, *nodes, absl::Now());
}

std::string DefaultTimelineFileName(absl::Time now) {
  return absl::StrCat("timeline-",
                      absl::FormatTime("%Y-%m-%d_%H-%M-%S", now, absl::LocalTimeZone()), ".json");
}

}  // namespace moray::cli
