// The GCS's metrics: task counts by state and name (kept apart from the records, so eviction
// changes nothing), their text, and the discovery file's JSON.
#include "gcs/gcs_metrics.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace moray::gcs {
namespace {

std::string Id(char c) { return std::string(16, c); }

proto::TaskEvent Event(const std::string& task_id, proto::TaskState state,
                       const std::string& name = "") {
  proto::TaskEvent e;
  e.set_task_id(task_id);
  e.set_state(state);
  e.set_timestamp_ns(100);
  if (!name.empty()) {
    e.set_has_descriptive_fields(true);
    e.set_name(name);
    e.set_func_or_class_name(name);
  }
  return e;
}

void Add(TaskEventStore& store, std::vector<proto::TaskEvent> events) {
  google::protobuf::RepeatedPtrField<proto::TaskEvent> field(events.begin(), events.end());
  store.AddEvents(field, 0);
}

int64_t CountOf(const TaskEventStore& store, proto::TaskState state, const std::string& name) {
  for (const auto& c : store.StateCounts()) {
    if (c.state == state && c.name == name) return c.count;
  }
  return -1;
}

TEST(GcsMetricsTest, TaskCountsFollowStatesAndOutliveEvictedRecords) {
  TaskEventStore store({.max_records = 2});
  Add(store, {Event(Id('a'), proto::PENDING_NODE_ASSIGNMENT, "f"),
              Event(Id('b'), proto::PENDING_NODE_ASSIGNMENT, "f")});
  EXPECT_EQ(CountOf(store, proto::PENDING_NODE_ASSIGNMENT, "f"), 2);
  Add(store, {Event(Id('a'), proto::RUNNING), Event(Id('a'), proto::FINISHED),
              Event(Id('b'), proto::FAILED)});
  EXPECT_EQ(CountOf(store, proto::PENDING_NODE_ASSIGNMENT, "f"), 0);
  EXPECT_EQ(CountOf(store, proto::RUNNING, "f"), 0);
  EXPECT_EQ(CountOf(store, proto::FINISHED, "f"), 1);
  EXPECT_EQ(CountOf(store, proto::FAILED, "f"), 1);
  // A late RUNNING does not undo FINISHED.
  Add(store, {Event(Id('a'), proto::RUNNING)});
  EXPECT_EQ(CountOf(store, proto::FINISHED, "f"), 1);
  // Records are evicted past max_records; the counts stay.
  Add(store, {Event(Id('c'), proto::FINISHED, "g"), Event(Id('d'), proto::FINISHED, "g")});
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(CountOf(store, proto::FINISHED, "f"), 1);
  EXPECT_EQ(CountOf(store, proto::FAILED, "f"), 1);
  EXPECT_EQ(CountOf(store, proto::FINISHED, "g"), 2);
}

TEST(GcsMetricsTest, AnAttemptSeenBeforeItsNameMovesToItsName) {
  TaskEventStore store;
  Add(store, {Event(Id('a'), proto::RUNNING)});  // the executor's event came first
  EXPECT_EQ(CountOf(store, proto::RUNNING, ""), 1);
  Add(store, {Event(Id('a'), proto::PENDING_NODE_ASSIGNMENT, "f")});
  EXPECT_EQ(CountOf(store, proto::RUNNING, ""), 0);
  EXPECT_EQ(CountOf(store, proto::RUNNING, "f"), 1);
}

TEST(GcsMetricsTest, DiscoveryJsonListsAliveNodesWithAPort) {
  std::vector<proto::NodeInfo> nodes(3);
  nodes[0].set_node_ip("10.0.0.1");
  nodes[0].set_metrics_export_port(8080);
  nodes[1].set_node_ip("10.0.0.2");
  nodes[1].set_metrics_export_port(8081);
  nodes[1].set_state(proto::NODE_DEAD);
  nodes[2].set_node_ip("10.0.0.3");  // no endpoint
  auto json = nlohmann::json::parse(DiscoveryJson(nodes));
  EXPECT_EQ(json, nlohmann::json::parse(
                      R"([{"labels": {"job": "moray"}, "targets": ["10.0.0.1:8080"]}])"));
}

}  // namespace
}  // namespace moray::gcs
