// The state CLI against a real `moray start --head` cluster and a real driver (this process):
// moray status, list, summary and get, checked line by line, and their bad-input paths.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

using moray::testing::Lines;
using moray::testing::ListeningSocket;
using moray::testing::PrivateTmpDir;
using moray::testing::RecordedServicePids;
using moray::testing::RunMoray;
using moray::testing::WaitFor;
namespace fs = std::filesystem;

// Names of the entries under the private session root (sessions, the current-cluster record).
std::vector<std::string> RootEntries() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(PrivateTmpDir::path())) {
    names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names;
}

int Double(int x) { return 2 * x; }
int Fail(int) { throw std::logic_error("no good"); }
RAY_REMOTE(Double, Fail);

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    address_ = moray::testing::StartHead(&error);
    ASSERT_FALSE(address_.empty()) << error;
    ray::RayConfig config;
    config.address = address_;
    ray::Init(config);
    // Work the CLI will show: named tasks, a failure, and a request nothing can satisfy.
    std::vector<ray::ObjectRef<int>> refs;
    for (int i = 0; i < 3; ++i) refs.push_back(ray::Task(Double).SetName("doubler").Remote(i));
    ray::Get(refs);
    auto failed = ray::Task(Fail).Remote(1);
    EXPECT_THROW(failed.Get(), ray::internal::RayTaskException);
    infeasible_ = new ray::ObjectRef<int>(ray::Task(Double).SetResource("GPU", 1).Remote(1));
    // Task events reach the GCS in batches: wait until the CLI sees them all.
    ASSERT_TRUE(WaitFor([] {
      auto r = RunMoray({"summary", "tasks", "--address", address_});
      return r.out.find("FINISHED: 3") != std::string::npos &&
             r.out.find("FAILED: 1") != std::string::npos;
    }));
  }
  static void TearDownTestSuite() {
    delete infeasible_;
    ray::Shutdown();
    auto stopped = RunMoray({"stop"});
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  }
  static std::string address_;
  static ray::ObjectRef<int>* infeasible_;
};
std::string CliTest::address_;
ray::ObjectRef<int>* CliTest::infeasible_ = nullptr;

TEST_F(CliTest, StatusShowsNodesUsageAndInfeasibleDemand) {
  ASSERT_TRUE(WaitFor([] {
    // Leases go back to the raylet shortly after the work ends; reports follow within a second.
    auto out = RunMoray({"status", "--address", address_}).out;
    return out.find("infeasible") != std::string::npos &&
           out.find(" 0.0/2.0 CPU") != std::string::npos;
  }));
  auto r = RunMoray({"status", "--address", address_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_GE(lines.size(), 16u) << r.out;
  EXPECT_TRUE(std::regex_match(lines[0], std::regex("======== Cluster status: \\d{4}-\\d\\d-\\d\\d "
                                                    "\\d\\d:\\d\\d:\\d\\d\\.\\d+ ========")))
      << lines[0];
  EXPECT_EQ(lines[1], "Node status");
  EXPECT_EQ(lines[3], "Healthy:");
  EXPECT_TRUE(std::regex_match(lines[4], std::regex(" 1 node_[0-9a-f]{32}"))) << lines[4];
  EXPECT_EQ(lines[5], "Pending:");
  EXPECT_EQ(lines[6], " (no pending nodes)");
  EXPECT_EQ(lines[7], "Recent failures:");
  EXPECT_EQ(lines[8], " (no failures)");
  EXPECT_EQ(lines[10], "Resources");
  EXPECT_EQ(lines[12], "Usage:");
  EXPECT_EQ(lines[13], " 0.0/2.0 CPU");
  EXPECT_NE(r.out.find("object_store_memory"), std::string::npos);
  EXPECT_NE(r.out.find("Demands:\n {'GPU': 1.0}: 1+ pending tasks/actors (infeasible"),
            std::string::npos)
      << r.out;
}

TEST_F(CliTest, ListTasksDefaultLayout) {
  auto r = RunMoray({"list", "tasks", "--address", address_, "--filter", "name=doubler"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 11u) << r.out;
  EXPECT_TRUE(std::regex_match(lines[0], std::regex("======== List: .* ========")));
  EXPECT_EQ(lines[1], "Stats:");
  EXPECT_EQ(lines[2], "------------------------------");
  EXPECT_EQ(lines[3], "Total: 3");
  EXPECT_EQ(lines[4], "");
  EXPECT_EQ(lines[5], "Table:");
  EXPECT_EQ(lines[6], "------------------------------");
  EXPECT_TRUE(std::regex_match(
      lines[7], std::regex(" +TASK_ID +ATTEMPT_NUMBER +NAME +STATE +JOB_ID +ACTOR_ID +TYPE +"
                           "FUNC_OR_CLASS_NAME +PARENT_TASK_ID +NODE_ID +WORKER_ID +WORKER_PID +"
                           "ERROR_TYPE")))
      << lines[7];
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::regex_match(lines[8 + i],
                                 std::regex(std::to_string(i) +
                                            " +[0-9a-f]{32} +0 +doubler +FINISHED +[0-9a-f]{8} +"
                                            "NORMAL_TASK +Double +[0-9a-f]{32} +[0-9a-f]{32} +"
                                            "[0-9a-f]{32} +\\d+ *")))
        << lines[8 + i];
  }
}

TEST_F(CliTest, ListFiltersFormatsAndLimits) {
  auto failed = RunMoray({"list", "tasks", "--address", address_, "--filter", "state=failed",
                          "--format", "json"});
  ASSERT_EQ(failed.exit_code, 0) << failed.err;
  EXPECT_NE(failed.out.find("\"error_type\": \"TASK_EXECUTION_EXCEPTION\""), std::string::npos)
      << failed.out;
  EXPECT_NE(failed.out.find("\"func_or_class_name\": \"Fail\""), std::string::npos);

  auto yaml = RunMoray({"list", "tasks", "--address", address_, "--filter", "name!=doubler",
                        "--filter", "type=NORMAL_TASK", "--format", "yaml"});
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  EXPECT_NE(yaml.out.find("func_or_class_name: Fail"), std::string::npos) << yaml.out;
  EXPECT_EQ(yaml.out.find("doubler"), std::string::npos);

  auto limited = RunMoray({"list", "tasks", "--address", address_, "--limit", "1"});
  ASSERT_EQ(limited.exit_code, 0);
  EXPECT_NE(limited.err.find("Warning"), std::string::npos) << limited.err;

  auto none = RunMoray({"list", "tasks", "--address", address_, "--filter", "name=nothing"});
  ASSERT_EQ(none.exit_code, 0);
  EXPECT_NE(none.out.find("No resource in the cluster"), std::string::npos) << none.out;
}

TEST_F(CliTest, SummaryTasksGroupsByFunction) {
  auto r = RunMoray({"summary", "tasks", "--address", address_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  EXPECT_TRUE(std::regex_match(lines[0], std::regex("======== Tasks Summary: .* ========")));
  EXPECT_EQ(lines[1], "Stats:");
  EXPECT_EQ(lines[3], "total_actor_scheduled: 0");
  EXPECT_EQ(lines[4], "total_actor_tasks: 0");
  EXPECT_TRUE(std::regex_match(lines[5], std::regex("total_tasks: \\d+")));
  EXPECT_NE(r.out.find("Table (group by func_name):"), std::string::npos);
  // Three finished, and the infeasible one still waiting for a node.
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("Double +PENDING_NODE_ASSIGNMENT: 1 +NORMAL_TASK\n +FINISHED: 3\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("Fail +FAILED: 1 +NORMAL_TASK"))) << r.out;
}

TEST_F(CliTest, GetTaskPrintsYaml) {
  auto json = RunMoray({"list", "tasks", "--address", address_, "--filter", "func_or_class_name=Fail",
                        "--format", "json"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(json.out, m, std::regex("\"task_id\": \"([0-9a-f]{32})\"")));
  auto r = RunMoray({"get", "tasks", m[1], "--address", address_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // An id of decimal digits only is quoted, so YAML keeps it a string.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("task_id: '?" + m[1].str() + "'?\n"))) << r.out;
  EXPECT_NE(r.out.find("state: FAILED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no good"), std::string::npos) << r.out;
}

TEST_F(CliTest, BadInputGetsAClearErrorAndNonZeroExit) {
  auto bad_filter = RunMoray({"list", "tasks", "--address", address_, "--filter", "foo"});
  EXPECT_NE(bad_filter.exit_code, 0);
  EXPECT_EQ(bad_filter.err, "moray list: --filter must be KEY=VALUE or KEY!=VALUE, not 'foo'\n");
  auto bad_resource = RunMoray({"list", "spaceships", "--address", address_});
  EXPECT_NE(bad_resource.exit_code, 0);
  EXPECT_FALSE(bad_resource.err.empty());
  auto bad_format = RunMoray({"list", "tasks", "--address", address_, "--format", "xml"});
  EXPECT_NE(bad_format.exit_code, 0);
  auto no_cluster = RunMoray({"status", "--address", "127.0.0.1:1"});
  EXPECT_NE(no_cluster.exit_code, 0);
  EXPECT_NE(no_cluster.err.find("127.0.0.1:1"), std::string::npos) << no_cluster.err;
  auto malformed = RunMoray({"status", "--address", "nonsense"});
  EXPECT_NE(malformed.exit_code, 0);
  EXPECT_NE(malformed.err.find("nonsense"), std::string::npos) << malformed.err;
}

// A second head on the port of a running cluster, or a raylet port something else holds: one
// line saying so, a non-zero exit, and nothing started or written (the cluster runs on).
TEST_F(CliTest, StartOnAPortInUseSaysSoInOneLineAndStartsNothing) {
  const std::string port = address_.substr(address_.rfind(':') + 1);
  const auto entries = RootEntries();
  const auto pids = RecordedServicePids();
  auto again = RunMoray({"start", "--head", "--port", port});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "moray start: port " + port +
                           " on 127.0.0.1 is already in use by the Moray cluster running there "
                           "(`moray stop` ends it; or choose another --port, 0 for any free "
                           "port)\n");
  EXPECT_EQ(again.out, "");

  ListeningSocket taken;
  ASSERT_TRUE(taken.listening());
  const std::string held = std::to_string(taken.port());
  auto raylet = RunMoray({"start", "--head", "--port=0", "--node-manager-port", held});
  EXPECT_EQ(raylet.exit_code, 1);
  EXPECT_EQ(raylet.err, "moray start: port " + held +
                            " on 127.0.0.1 is already in use by another process (choose another "
                            "--node-manager-port, 0 for any free port)\n");
  auto join = RunMoray({"start", "--address", address_, "--node-manager-port", held});
  EXPECT_EQ(join.exit_code, 1);
  EXPECT_NE(join.err.find("already in use by another process"), std::string::npos) << join.err;
  EXPECT_EQ(std::count(join.err.begin(), join.err.end(), '\n'), 1) << join.err;

  EXPECT_EQ(RootEntries(), entries);
  EXPECT_EQ(RecordedServicePids(), pids);
  EXPECT_EQ(RunMoray({"status", "--address", address_}).exit_code, 0);
}

// The GCS itself checks its port before it binds: a port in use is one sentence in its log, and
// no library's error dump (gRPC's "No address added", when the GCS served gRPC) is anywhere.
TEST_F(CliTest, GcsServerOnAPortInUseSaysSoInOneSentence) {
  ListeningSocket taken;
  ASSERT_TRUE(taken.listening());
  const std::string dir = PrivateTmpDir::path() + "/gcs_on_a_port_in_use";
  fs::create_directories(dir + "/logs");
  auto r = RunMoray({"gcs-server", "--port=" + std::to_string(taken.port()), "--session-dir=" + dir});
  EXPECT_EQ(r.exit_code, 1);
  std::ifstream in(dir + "/logs/gcs_server.log");
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("port " + std::to_string(taken.port()) + " on 127.0.0.1 is already in use"),
            std::string::npos)
      << log;
  for (const std::string& text : {log, r.err, r.out}) {
    EXPECT_EQ(text.find("No address added"), std::string::npos) << text;
  }
  fs::remove_all(dir);
}

// Bad flags of every command read as one sentence: what is wrong and what is allowed.
TEST_F(CliTest, BadFlagsReadAsOneSentence) {
  struct Case {
    std::vector<std::string> args;
    std::string line;
  };
  const std::vector<Case> cases = {
      {{"start", "--head", "--port", "70000"},
       "moray start: --port must be a whole number from 0 to 65535, not 70000"},
      {{"start", "--head", "--num-cpus=two"},
       "moray start: --num-cpus must be a number, 0 or more, not 'two'"},
      {{"start", "--head", "--object-store-memory=-1"},
       "moray start: --object-store-memory must be a whole number of bytes, 0 or more, not -1"},
      {{"start", "--head", "--health-check-failure-threshold=0"},
       "moray start: --health-check-failure-threshold must be a whole number from 1 to 1000, "
       "not 0"},
      {{"start", "--head", "--resources", "{\"CPU\": 2}"},
       "moray start: --resources cannot set CPU: use --num-cpus instead"},
      {{"start", "--head", "--object-store-prefault=0"},
       "moray start: unknown option --object-store-prefault (`moray start --help` shows the "
       "usage)"},
      {{"start", "--address", "127.0.0.1:1", "--health-check-period-ms=100"},
       "moray start: --health-check-period-ms is for the head node (--head); a node joining a "
       "cluster has no GCS"},
      {{"start", "--head", "--port"}, "moray start: --port needs a value"},
      {{"stop", "--grace-period", "-1"},
       "moray stop: --grace-period must be a whole number of seconds from 0 to 3600, not -1"},
      {{"stop", "--now"}, "moray stop: unknown option --now (`moray stop --help` shows the usage)"},
      {{"list", "tasks", "--limit", "0"},
       "moray list: --limit must be a whole number, 1 or more, not 0"},
      {{"list", "tasks", "--format", "xml"},
       "moray list: --format must be one of default, table, json or yaml, not 'xml'"},
      {{"list", "tasks", "--filter", "state"},
       "moray list: --filter must be KEY=VALUE or KEY!=VALUE, not 'state'"},
      {{"summary"},
       "moray summary: the resource argument is missing (`moray summary --help` shows the "
       "usage)"},
      {{"get", "tasks"},
       "moray get: the id argument is missing (`moray get --help` shows the usage)"},
      {{"raylet", "--node-manager-port=x", "--gcs-address=127.0.0.1:1", "--session-dir=/nope"},
       "moray raylet: --node-manager-port must be a whole number from 0 to 65535, not 'x'"},
      {{"raylet", "--session-dir=/nope"}, "moray raylet: --gcs-address is required"},
      {{"gcs-server", "--port=70000", "--session-dir=/nope"},
       "moray gcs-server: --port must be a whole number from 0 to 65535, not 70000"},
      {{"gcs-server", "--num-cpus=1", "--session-dir=/nope"},
       "moray gcs-server: unknown option --num-cpus (`moray gcs-server --help` shows the usage)"},
      {{"worker", "--bogus"},
       "moray worker: unknown option --bogus (`moray worker --help` shows the usage)"},
      {{"frobnicate"},
       "moray: unknown command 'frobnicate'; the commands are start, stop, list, get, summary, "
       "status, timeline, job, get-auth-token, logs, stack and memory"},
      {{},
       "moray: give a command: start, stop, list, get, summary, status, timeline, job, "
       "get-auth-token, logs, stack or memory (`moray --help` describes them)"},
      {{"get-auth-token", "--force"},
       "moray get-auth-token: unknown option --force (`moray get-auth-token --help` shows the "
       "usage)"},
  };
  const auto entries = RootEntries();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    auto r = RunMoray(c.args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, c.line + "\n");
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(RootEntries(), entries);
}

}  // namespace
