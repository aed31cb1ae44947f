// `moray timeline` against a real `moray start --head` cluster with this process as its driver:
// the trace file parses, has one span per attempt that ran with the right names, times, nodes and
// worker pids; the default file name; an unwritable output.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "ray/api.h"
#include "tests/actors/counter.h"
#include "tests/test_env.h"

namespace {

using moray::testing::RunMoray;
using moray::testing::RunMorayJson;
using moray::testing::Scratch;
using moray::testing::WaitFor;
using nlohmann::json;
namespace fs = std::filesystem;

int Double(int x) { return 2 * x; }
int Fail(int) { throw std::logic_error("no good"); }
RAY_REMOTE(Double, Fail);

// Every task record, as `moray list tasks --detail` shows them.
json ListAll(const std::string& address) {
  std::string error;
  json rows = RunMorayJson({"list", "tasks", "--detail", "--limit", "100000", "--address", address},
                           &error);
  EXPECT_FALSE(rows.is_null()) << error;
  return rows.is_null() ? json::array() : rows;
}

// The trace events of a timeline file; null when the file is missing or not JSON.
json ReadTrace(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

class TimelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    address_ = moray::testing::StartHead(&error);
    ASSERT_FALSE(address_.empty()) << error;
    ray::RayConfig config;
    config.address = address_;
    ray::Init(config);
    std::vector<ray::ObjectRef<int>> refs;
    for (int i = 0; i < 3; ++i) refs.push_back(ray::Task(Double).SetName("doubler").Remote(i));
    ray::Get(refs);
    EXPECT_THROW(ray::Task(Fail).Remote(1).Get(), ray::internal::RayTaskException);
    auto counter = ray::Actor(Counter::FactoryCreate).Remote(0);
    EXPECT_EQ(*counter.Task(&Counter::Add).Remote(2).Get(), 2);
    EXPECT_EQ(*counter.Task(&Counter::Add).Remote(3).Get(), 5);
    // Events reach the GCS in batches: wait until every attempt above is final there.
    ASSERT_TRUE(WaitFor([] {
      int finished = 0, failed = 0;
      for (const auto& row : ListAll(address_)) {
        finished += row["state"] == "FINISHED";
        failed += row["state"] == "FAILED";
      }
      return finished >= 3 + 1 + 2 && failed >= 1;  // tasks, actor creation, calls; Fail
    }));
  }
  static void TearDownTestSuite() {
    ray::Shutdown();
    auto stopped = RunMoray({"stop"});
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  }
  static std::string address_;
};
std::string TimelineTest::address_;

TEST_F(TimelineTest, OneSpanPerAttemptThatRanWithItsNameTimesNodeAndWorker) {
  const std::string path = Scratch("trace.json");
  auto r = RunMoray({"timeline", "--output", path, "--address", address_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Trace file written to " + path), std::string::npos) << r.out;
  const json records = ListAll(address_);
  const json trace = ReadTrace(path);
  ASSERT_TRUE(trace.is_object()) << "not JSON: " << path;
  ASSERT_TRUE(trace["traceEvents"].is_array());

  std::map<int, std::string> processes;   // pid -> name
  std::set<std::pair<int, int>> threads;  // (pid, tid) named
  std::map<std::string, json> spans;      // task id + attempt -> span
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name") {
      processes[e["pid"].get<int>()] = e["args"]["name"].get<std::string>();
    }
    if (e["ph"] == "M" && e["name"] == "thread_name") {
      threads.insert({e["pid"].get<int>(), e["tid"].get<int>()});
    }
    if (e["ph"] != "X") continue;
    std::string key = e["args"]["task_id"].get<std::string>() + "/" +
                      std::to_string(e["args"]["attempt_number"].get<int>());
    EXPECT_TRUE(spans.emplace(key, e).second) << "two spans for " << key;
  }
  ASSERT_EQ(processes.size(), 1u);  // one node
  EXPECT_NE(processes.begin()->second.find("127.0.0.1"), std::string::npos);

  int expected_spans = 0;
  std::map<std::string, int> names;
  for (const auto& row : records) {
    const std::string state = row["state"];
    const auto& times = row["state_times_ns"];
    if (!times.contains("RUNNING") || (state != "FINISHED" && state != "FAILED")) continue;
    ++expected_spans;
    const std::string key =
        row["task_id"].get<std::string>() + "/" + std::to_string(row["attempt_number"].get<int>());
    ASSERT_TRUE(spans.contains(key)) << "no span for " << row.dump();
    const json& span = spans[key];
    EXPECT_EQ(span["name"], row["name"]);
    EXPECT_EQ(span["args"]["state"], state);
    EXPECT_EQ(span["args"]["job_id"], row["job_id"]);
    EXPECT_EQ(span["args"]["func_or_class_name"], row["func_or_class_name"]);
    EXPECT_EQ(span["tid"], row["worker_pid"]);
    EXPECT_TRUE(threads.contains({span["pid"].get<int>(), span["tid"].get<int>()}));
    EXPECT_EQ(processes.count(span["pid"].get<int>()), 1u);
    const double running_us = times["RUNNING"].get<double>() / 1000.0;
    const double end_us = times[state].get<double>() / 1000.0;
    EXPECT_NEAR(span["ts"].get<double>(), running_us, 1.0);
    EXPECT_NEAR(span["dur"].get<double>(), end_us - running_us, 1.0);
    EXPECT_GT(span["dur"].get<double>(), 0) << key;
    ++names[span["name"].get<std::string>() + ":" + state];
  }
  EXPECT_EQ(names["doubler:FINISHED"], 3);
  EXPECT_EQ(names["Fail:FAILED"], 1) << json(names).dump();
  EXPECT_GE(expected_spans, 3 + 1 + 1 + 2);
  // Spans beyond those: only attempts still running (the driver), which end now.
  for (const auto& [key, span] : spans) {
    if (span["args"]["state"] != "RUNNING") continue;
    ++expected_spans;
    EXPECT_GE(span["dur"].get<double>(), 0);
  }
  EXPECT_EQ(static_cast<int>(spans.size()), expected_spans);
}

TEST_F(TimelineTest, WritesRaysDefaultFileNameInTheCurrentDirectory) {
  const std::string dir = Scratch("timeline-cwd");
  fs::create_directories(dir);
  const fs::path before = fs::current_path();
  fs::current_path(dir);
  auto r = RunMoray({"timeline", "--address", address_});
  fs::current_path(before);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().filename());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rfind("timeline-", 0), 0u) << files[0];
  EXPECT_NE(r.out.find(files[0]), std::string::npos) << r.out;
  EXPECT_TRUE(ReadTrace(dir + "/" + files[0]).is_object());
}

TEST_F(TimelineTest, AnUnwritableOutputIsAnErrorNamingThePath) {
  auto r = RunMoray({"timeline", "--output", "/nonexistent-dir/t.json", "--address", address_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent-dir/t.json"), std::string::npos) << r.err;
}

}  // namespace
