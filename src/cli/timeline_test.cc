#include "cli/timeline.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::cli {
namespace {

proto::TaskRecord Record(char id, proto::TaskState state, const std::string& node, int32_t pid,
                         std::map<std::string, int64_t> times) {
  proto::TaskRecord r;
  r.set_task_id(std::string(16, id));
  r.set_attempt_number(1);
  r.set_name(std::string("task_") + id);
  r.set_func_or_class_name("f");
  r.set_state(state);
  r.set_job_id(std::string("\x01\0\0\0", 4));
  r.set_node_id(node);
  r.set_worker_id(std::string(16, 'W'));
  r.set_worker_pid(pid);
  for (const auto& [name, ns] : times) (*r.mutable_state_times_ns())[name] = ns;
  return r;
}

std::vector<nlohmann::json> Events(const nlohmann::json& trace, const std::string& ph) {
  std::vector<nlohmann::json> out;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == ph) out.push_back(e);
  }
  return out;
}

TEST(TimelineTraceTest, SpansFromRunningToTheEndPerNodeAndWorker) {
  const std::string a(16, 'A'), b(16, 'B');
  proto::NodeInfo head, other;
  head.set_node_id(a);
  head.set_node_ip("10.0.0.1");
  head.set_is_head_node(true);
  other.set_node_id(b);
  other.set_node_ip("10.0.0.2");
  const absl::Time now = absl::FromUnixNanos(50'000'000);
  std::vector<proto::TaskRecord> records = {
      Record('1', proto::FINISHED, a, 11, {{"RUNNING", 1'000'000}, {"FINISHED", 3'500'000}}),
      Record('2', proto::FAILED, b, 22, {{"RUNNING", 2'000'000}, {"FAILED", 2'600'000}}),
      Record('3', proto::RUNNING, b, 22, {{"RUNNING", 4'000'000}}),
      Record('4', proto::PENDING_NODE_ASSIGNMENT, "", 0, {{"PENDING_NODE_ASSIGNMENT", 10}}),
      Record('5', proto::FAILED, "", 0, {{"FAILED", 30}}),  // never ran
  };
  records[1].set_error_type("TASK_EXECUTION_EXCEPTION");
  const nlohmann::json trace = TimelineTrace(records, {head, other}, now);
  EXPECT_EQ(trace["displayTimeUnit"], "ms");

  auto spans = Events(trace, "X");
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0]["name"], "task_1");
  EXPECT_EQ(spans[0]["pid"], 1);
  EXPECT_EQ(spans[0]["tid"], 11);
  EXPECT_DOUBLE_EQ(spans[0]["ts"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(spans[0]["dur"].get<double>(), 2500.0);
  EXPECT_EQ(spans[0]["args"]["task_id"], "31313131313131313131313131313131");
  EXPECT_EQ(spans[0]["args"]["attempt_number"], 1);
  EXPECT_EQ(spans[0]["args"]["job_id"], "01000000");
  EXPECT_EQ(spans[0]["args"]["state"], "FINISHED");
  EXPECT_EQ(spans[0]["args"]["func_or_class_name"], "f");
  EXPECT_EQ(spans[0]["cat"], "NORMAL_TASK");
  EXPECT_FALSE(spans[0].contains("cname"));

  EXPECT_EQ(spans[1]["pid"], 2);
  EXPECT_EQ(spans[1]["args"]["state"], "FAILED");
  EXPECT_EQ(spans[1]["args"]["error_type"], "TASK_EXECUTION_EXCEPTION");
  EXPECT_EQ(spans[1]["cname"], "terrible");
  EXPECT_DOUBLE_EQ(spans[1]["dur"].get<double>(), 600.0);

  EXPECT_EQ(spans[2]["args"]["state"], "RUNNING");  // ends now
  EXPECT_DOUBLE_EQ(spans[2]["dur"].get<double>(), 46'000.0);

  std::map<int, std::string> processes;
  std::map<std::pair<int, int>, std::string> threads;
  for (const auto& m : Events(trace, "M")) {
    if (m["name"] == "process_name") processes[m["pid"]] = m["args"]["name"];
    if (m["name"] == "thread_name") threads[{m["pid"], m["tid"]}] = m["args"]["name"];
  }
  EXPECT_EQ(processes[1], "Node 10.0.0.1 (41414141, head)");
  EXPECT_EQ(processes[2], "Node 10.0.0.2 (42424242)");
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ((threads[{1, 11}]), "worker 11 (57575757)");
  EXPECT_EQ((threads[{2, 22}]), "worker 22 (57575757)");
}

TEST(TimelineTraceTest, ANodeNoLongerInTheTableGetsItsOwnProcess) {
  const auto trace = TimelineTrace(
      {Record('1', proto::FINISHED, std::string(16, 'C'), 7, {{"RUNNING", 1}, {"FINISHED", 2}})},
      {}, absl::Now());
  auto metadata = Events(trace, "M");
  bool named = false;
  for (const auto& m : metadata) {
    named = named || (m["name"] == "process_name" && m["args"]["name"] == "Node 43434343 (gone)");
  }
  EXPECT_TRUE(named) << trace.dump();
}

TEST(TimelineTraceTest, DefaultFileNameIsRaysPattern) {
  const std::string name = DefaultTimelineFileName(absl::Now());
  EXPECT_THAT(name, ::testing::MatchesRegex(
                        "timeline-[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}-[0-9]{2}-[0-9]{2}\\.json"));
}

}  // namespace
}  // namespace moray::cli
