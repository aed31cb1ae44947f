// The state commands end to end: a GcsServer on loopback seeded through GcsClient (as a raylet)
// and its actor table, and the commands parsed by CLI11 exactly as `moray` parses them, with
// their output captured.
#include "cli/state_commands.h"

#include <cstdlib>
#include <sstream>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/options.h"
#include "common/id.h"
#include "gcs/gcs_client.h"
#include "gcs/gcs_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rpc/auth.h"
#include "rpc/handshake.h"

namespace moray::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Result {
  int code = 0;
  std::string out;
  std::string err;
};

Result RunMoray(std::vector<std::string> args) {
  CLI::App app{"moray"};
  std::ostringstream out, err;
  AddStateCommands(app, out, err);
  app.require_subcommand(1);
  std::vector<const char*> argv{"moray"};
  for (const auto& a : args) argv.push_back(a.c_str());
  Result result;
  result.code = Run(app, static_cast<int>(argv.size()), argv.data(), out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

class StateCommandsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The commands load the token as `moray` does; this one precedes any file (the real ~/.ray is
    // never read).
    setenv("RAY_AUTH_TOKEN", rpc::GenerateToken().c_str(), 1);
    // The GCS serves the cluster with that token (it takes the process's when it starts).
    auto auth = rpc::LoadAuthConfig();
    ASSERT_TRUE(auth.ok()) << auth.status();
    rpc::SetProcessAuth(*auth);
    server_ = new gcs::GcsServer({.host = "127.0.0.1", .port = 0});
    ASSERT_TRUE(server_->Start().ok());
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    // Nodes, jobs and object snapshots come from raylets.
    rpc::SetProcessRole(proto::ROLE_RAYLET);
    auto client = gcs::GcsClient::Connect(address_);
    ASSERT_TRUE(client.ok()) << client.status();
    Seed(**client);
    SeedActors(server_->actors_for_testing());
  }
  static void TearDownTestSuite() { delete server_; }

  static void Seed(gcs::GcsClient& client) {
    proto::NodeInfo node;
    node.set_node_id(std::string(16, '\xab'));
    node.set_node_ip("127.0.0.1");
    node.set_node_name("head");
    node.set_is_head_node(true);
    (*node.mutable_resources_total())["CPU"] = 2;
    ASSERT_TRUE(client.RegisterNode(node).ok());
    proto::NodeResourceReport report;
    report.set_node_id(node.node_id());
    (*report.mutable_resources_total())["CPU"] = 2;
    (*report.mutable_resources_available())["CPU"] = 0;
    auto* worker = report.add_workers();
    worker->set_worker_id(std::string(16, '\xcd'));
    worker->set_pid(4321);
    worker->set_is_alive(true);
    worker->set_worker_type("WORKER");
    auto* demand = report.add_demands();
    (*demand->mutable_shape())["CPU"] = 1;
    demand->set_num_ready_requests(5);
    ASSERT_TRUE(client.ReportResources(report).ok());

    proto::JobInfo job;
    job.set_driver_pid(99);
    job.add_driver_argv("./app");
    job_id_ = *client.AddJob(job);

    std::vector<proto::TaskEvent> events;
    for (int i = 0; i < 150; ++i) {
      proto::TaskEvent e;
      e.set_task_id(NewTaskId(job_id_).Binary());
      e.set_job_id(job_id_.Binary());
      e.set_state(i < 120 ? proto::FINISHED : proto::RUNNING);
      e.set_timestamp_ns(absl::GetCurrentTimeNanos());
      e.set_has_descriptive_fields(true);
      e.set_name(i % 2 == 0 ? "square" : "cube");
      e.set_func_or_class_name(e.name());
      e.set_type(proto::NORMAL_TASK);
      if (i == 0) first_task_hex_ = ToHex(e.task_id());
      events.push_back(e);
    }
    ASSERT_TRUE(client.ReportTaskEvents(events).ok());

    // Objects: a driver with a small put and a large pending-task argument, and a worker that
    // borrows the large one.
    proto::WorkerObjects driver;
    driver.set_worker_id(std::string(16, '\x11'));
    driver.set_node_id(node.node_id());
    driver.set_job_id(job_id_.Binary());
    driver.set_pid(99);
    driver.set_ip("127.0.0.1");
    driver.set_is_driver(true);
    auto add = [](proto::WorkerObjects& w, char id, int64_t size, const std::string& ref_type) {
      auto* o = w.add_objects();
      o->set_object_id(std::string(20, id));
      o->set_object_size(size);
      o->set_task_status("FINISHED");
      o->set_reference_type(ref_type);
      o->set_call_site("disabled");
      o->set_is_owner(ref_type != "BORROWED");
      o->set_local_refs(ref_type == "LOCAL_REFERENCE" ? 1 : 0);
    };
    add(driver, '\x01', 12, "LOCAL_REFERENCE");
    add(driver, '\x02', 2 << 20, "USED_BY_PENDING_TASK");
    proto::WorkerObjects borrower = driver;
    borrower.clear_objects();
    borrower.set_worker_id(std::string(16, '\x22'));
    borrower.set_pid(100);
    borrower.set_is_driver(false);
    add(borrower, '\x02', 2 << 20, "BORROWED");
    ASSERT_TRUE(client.ReportObjects({driver, borrower}, {}).ok());

  }

  // Actors: an alive named Counter, a pending anonymous Counter, a dead detached Logger. Straight
  // into the table: only a real worker could make an actor ALIVE through the GCS port.
  static void SeedActors(gcs::ActorManager& actors) {
    auto actor = [&](char id, const std::string& cls, const std::string& name) {
      proto::ActorInfo a;
      a.set_actor_id(std::string(16, id));
      a.set_class_name(cls);
      a.set_name(name);
      a.set_ray_namespace("app");
      a.set_job_id(job_id_.Binary());
      return a;
    };
    ASSERT_TRUE(actors.Register(actor('\xa1', "Counter", "counter")).ok());
    ASSERT_TRUE(actors.Register(actor('\xa2', "Counter", "")).ok());
    proto::ActorInfo logger = actor('\xa3', "Logger", "log");
    logger.set_is_detached(true);
    ASSERT_TRUE(actors.Register(logger).ok());
    proto::UpdateActorRequest alive;
    alive.set_actor_id(std::string(16, '\xa1'));
    alive.set_state(proto::ALIVE);
    alive.mutable_address()->set_ip("127.0.0.1");
    alive.mutable_address()->set_node_id(std::string(16, '\xab'));
    alive.mutable_address()->set_worker_id(std::string(16, '\xee'));
    alive.set_pid(555);
    ASSERT_TRUE(actors.Update(alive).ok());
    proto::UpdateActorRequest dead;
    dead.set_actor_id(logger.actor_id());
    dead.set_state(proto::DEAD);
    dead.mutable_death_cause()->set_reason(proto::ACTOR_DEATH_KILLED);
    dead.mutable_death_cause()->set_message("killed by moray test");
    ASSERT_TRUE(actors.Update(dead).ok());
  }

  static gcs::GcsServer* server_;
  static std::string address_;
  static JobId job_id_;
  static std::string first_task_hex_;
};

gcs::GcsServer* StateCommandsTest::server_ = nullptr;
std::string StateCommandsTest::address_;
JobId StateCommandsTest::job_id_;
std::string StateCommandsTest::first_task_hex_;

TEST_F(StateCommandsTest, ListNodesDefaultLayout) {
  Result r = RunMoray({"list", "nodes", "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_GE(lines.size(), 9u);
  EXPECT_THAT(lines[0], StartsWith("======== List: "));
  EXPECT_EQ(lines[1], "Stats:");
  EXPECT_EQ(lines[3], "Total: 1");
  EXPECT_EQ(lines[5], "Table:");
  EXPECT_EQ(lines[7],
            "    NODE_ID                           NODE_IP    IS_HEAD_NODE    STATE    "
            "STATE_MESSAGE    NODE_NAME    RESOURCES_TOTAL    LABELS");
  EXPECT_EQ(lines[8],
            "0   abababababababababababababababab  127.0.0.1  True            ALIVE"
            "                     head         CPU: 2.0");
  EXPECT_EQ(r.err, "");
}

TEST_F(StateCommandsTest, ListTasksFiltersAtTheSourceThenLimits) {
  // 30 RUNNING tasks among 150; the filter must find them although the limit is 10.
  Result r = RunMoray({"list", "tasks", "--address", address_, "--filter", "state=running",
                  "--limit", "10", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows = nlohmann::json::parse(r.out);
  ASSERT_EQ(rows.size(), 10u);
  for (const auto& row : rows) EXPECT_EQ(row["state"], "RUNNING");
  EXPECT_EQ(rows[0].size(), 13u);  // default columns
  EXPECT_EQ(r.err, "Warning: 10 (out of 30) tasks were shown. Use --limit to see more.\n");
}

TEST_F(StateCommandsTest, RepeatedFiltersAreAndedAndMayPrecedeTheResource) {
  Result r = RunMoray({"list", "--filter", "state!=FINISHED", "-f", "name=SQUARE", "tasks",
                  "--address", address_, "--format", "json", "--limit", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 15u);
  EXPECT_EQ(r.err, "");
}

TEST_F(StateCommandsTest, DefaultLimitIsOneHundred) {
  Result r = RunMoray({"list", "tasks", "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Total: 100\n"));
  EXPECT_THAT(r.err, HasSubstr("100 (out of 150) tasks were shown"));
}

TEST_F(StateCommandsTest, DetailAddsColumns) {
  Result r = RunMoray({"list", "tasks", "--address", address_, "--detail", "--format", "yaml",
                  "--limit", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("    state_times_ns:\n        FINISHED: "));
  EXPECT_THAT(r.out, HasSubstr("    error_message: null\n"));
}

TEST_F(StateCommandsTest, ListWorkersAndJobs) {
  Result workers = RunMoray({"list", "workers", "--address", address_, "--format", "table"});
  ASSERT_EQ(workers.code, 0) << workers.err;
  EXPECT_THAT(Lines(workers.out),
              ElementsAre("    WORKER_ID                         IS_ALIVE    WORKER_TYPE    "
                          "EXIT_TYPE    NODE_ID                           IP         PID",
                          "0   cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd  True        WORKER         "
                          "             abababababababababababababababab  127.0.0.1  4321"));
  Result jobs = RunMoray({"list", "jobs", "--address", address_, "--format", "json"});
  ASSERT_EQ(jobs.code, 0) << jobs.err;
  auto rows = nlohmann::json::parse(jobs.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["job_id"], "01000000");
  EXPECT_EQ(rows[0]["status"], "RUNNING");
  EXPECT_EQ(rows[0]["entrypoint"], "./app");
  Result filtered = RunMoray({"list", "jobs", "--address", address_, "--filter", "status=finished"});
  EXPECT_EQ(filtered.out, "No resource in the cluster\n");
}

TEST_F(StateCommandsTest, GetTaskAsYaml) {
  Result r = RunMoray({"get", "tasks", first_task_hex_, "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = Lines(r.out);
  EXPECT_EQ(lines[0], "---");
  // A random id that reads as a number (digits, one 'e', digits) is quoted, as YAML requires.
  EXPECT_THAT(lines[1], ::testing::AnyOf("-   task_id: " + first_task_hex_,
                                         "-   task_id: '" + first_task_hex_ + "'"));
  EXPECT_THAT(r.out, HasSubstr("    name: square\n"));
  EXPECT_THAT(r.out, HasSubstr("    state: FINISHED\n"));

  Result missing = RunMoray({"get", "tasks", std::string(32, '0'), "--address", address_});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("Error: no tasks with task_id 0000"));

  Result node = RunMoray({"get", "nodes", std::string(32, 'a').replace(1, 31, "bababababababababababababababab"),
                     "--address", address_});
  ASSERT_EQ(node.code, 0) << node.err;
  EXPECT_THAT(node.out, StartsWith("---\nnode_id: abab"));  // one node: a mapping
}

TEST_F(StateCommandsTest, SummaryTasks) {
  Result r = RunMoray({"summary", "tasks", "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = Lines(r.out);
  EXPECT_THAT(lines[0], StartsWith("======== Tasks Summary: "));
  EXPECT_EQ(lines[5], "total_tasks: 150");  // all tasks, no limit
  EXPECT_EQ(lines[10], "    FUNC_OR_CLASS_NAME    STATE_COUNTS    TYPE");
  EXPECT_EQ(lines[11], "0   square                RUNNING: 15     NORMAL_TASK");
  EXPECT_EQ(lines[12], "                          FINISHED: 60");
}

TEST_F(StateCommandsTest, ListObjectsDefaultLayoutAndFilters) {
  Result r = RunMoray({"list", "objects", "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 11u) << r.out;
  EXPECT_EQ(lines[3], "Total: 3");
  EXPECT_EQ(lines[7],
            "    OBJECT_ID                                 OBJECT_SIZE    TASK_STATUS    "
            "REFERENCE_TYPE        CALL_SITE    TYPE    PID    IP");
  EXPECT_EQ(lines[8],
            "0   0101010101010101010101010101010101010101  12             FINISHED       "
            "LOCAL_REFERENCE       disabled     DRIVER  99     127.0.0.1");
  EXPECT_EQ(lines[9],
            "1   0202020202020202020202020202020202020202  2097152        FINISHED       "
            "USED_BY_PENDING_TASK  disabled     DRIVER  99     127.0.0.1");
  EXPECT_EQ(lines[10],
            "2   0202020202020202020202020202020202020202  2097152        FINISHED       "
            "BORROWED              disabled     WORKER  100    127.0.0.1");

  r = RunMoray({"list", "objects", "--address", address_, "--filter", "type=worker", "--format",
                "json", "--detail"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["reference_type"], "BORROWED");
  EXPECT_EQ(json[0]["is_owner"], false);
  EXPECT_EQ(json[0]["worker_id"], "22222222222222222222222222222222");
  EXPECT_EQ(json[0]["job_id"], job_id_.Hex());

  r = RunMoray({"list", "objects", "--address", address_, "--filter",
                "object_id=0202020202020202020202020202020202020202", "--limit", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Warning: 1 (out of 2) objects were shown."));

  r = RunMoray({"get", "objects", "0202020202020202020202020202020202020202", "--address",
                address_});
  ASSERT_EQ(r.code, 0) << r.err;
  // Every process's entry of the object, as a list.
  EXPECT_THAT(r.out, StartsWith("---\n-   object_id: '0202020202020202020202020202020202020202'\n"));
  EXPECT_THAT(r.out, HasSubstr("    reference_type: USED_BY_PENDING_TASK\n"));
  EXPECT_THAT(r.out, HasSubstr("    reference_type: BORROWED\n"));
}

TEST_F(StateCommandsTest, SummaryObjects) {
  Result r = RunMoray({"summary", "objects", "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_GE(lines.size(), 12u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("======== Object Summary: "));
  EXPECT_EQ(lines[4], "total_objects: 3");
  EXPECT_EQ(lines[5], "total_size_mb: 2.000011");
  EXPECT_THAT(lines[11], StartsWith("0   disabled     3                2.000011         2    "));
}

TEST_F(StateCommandsTest, ListActorsDefaultLayout) {
  Result r = RunMoray({"list", "actors", "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 11u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("======== List: "));
  EXPECT_EQ(lines[3], "Total: 3");
  EXPECT_EQ(lines[7],
            "    ACTOR_ID                          CLASS_NAME    STATE             JOB_ID    "
            "NAME     NODE_ID                           PID    RAY_NAMESPACE");
  EXPECT_EQ(lines[8],
            "0   a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1  Counter       ALIVE             01000000  "
            "counter  abababababababababababababababab  555    app");
  EXPECT_EQ(lines[9],
            "1   a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2  Counter       PENDING_CREATION  01000000  "
            "                                                  app");
  EXPECT_EQ(lines[10],
            "2   a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3  Logger        DEAD              01000000  "
            "log                                               app");
  EXPECT_EQ(r.err, "");
}

TEST_F(StateCommandsTest, ListActorsFiltersLimitsAndDetail) {
  Result r = RunMoray({"list", "actors", "--address", address_, "--filter", "class_name=counter",
                       "--limit", "1", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows = nlohmann::json::parse(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["state"], "ALIVE");
  EXPECT_EQ(rows[0].size(), 8u);  // default columns
  EXPECT_EQ(r.err, "Warning: 1 (out of 2) actors were shown. Use --limit to see more.\n");

  r = RunMoray({"list", "actors", "--address", address_, "--filter", "state=dead", "--detail",
                "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  rows = nlohmann::json::parse(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["class_name"], "Logger");
  EXPECT_EQ(rows[0]["is_detached"], true);
  EXPECT_EQ(rows[0]["death_reason"], "KILLED");
  EXPECT_EQ(rows[0]["death_message"], "killed by moray test");
  EXPECT_EQ(rows[0]["pid"], nullptr);
}

TEST_F(StateCommandsTest, GetActorAsYaml) {
  Result r = RunMoray(
      {"get", "actors", "A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1", "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = Lines(r.out);
  EXPECT_EQ(lines[0], "---");
  EXPECT_EQ(lines[1], "actor_id: a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1");  // one actor: a mapping
  EXPECT_THAT(r.out, HasSubstr("\nclass_name: Counter\n"));
  EXPECT_THAT(r.out, HasSubstr("\nstate: ALIVE\n"));
  EXPECT_THAT(r.out, HasSubstr("\npid: 555\n"));
  EXPECT_THAT(r.out, HasSubstr("\nworker_id: eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n"));
  EXPECT_THAT(r.out, HasSubstr("\ndeath_reason: null\n"));

  Result missing = RunMoray({"get", "actors", std::string(32, '0'), "--address", address_});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("Error: no actors with actor_id 0000"));
}

TEST_F(StateCommandsTest, SummaryActors) {
  Result r = RunMoray({"summary", "actors", "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 12u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("======== Actors Summary: "));
  EXPECT_THAT(std::vector<std::string>(lines.begin() + 1, lines.end()),
              ElementsAre("Stats:", "------------------------------------", "total_actors: 3", "",
                          "", "Table (group by class):", "------------------------------------",
                          "    CLASS_NAME    STATE_COUNTS",
                          "0   Counter       PENDING_CREATION: 1", "                  ALIVE: 1",
                          "1   Logger        DEAD: 1"));
}

TEST_F(StateCommandsTest, Status) {
  Result r = RunMoray({"status", "--address", address_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Healthy:\n 1 node_abababababababababababababababab\n"));
  EXPECT_THAT(r.out, HasSubstr("Usage:\n 2.0/2.0 CPU\n"));
  EXPECT_THAT(r.out, HasSubstr("Demands:\n {'CPU': 1.0}: 5+ pending tasks/actors\n"));
}

TEST_F(StateCommandsTest, ClearErrors) {
  auto expect_error = [](const std::vector<std::string>& args, const std::string& message) {
    Result r = RunMoray(args);
    EXPECT_NE(r.code, 0) << message;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(r.out, "");
  };
  // Bad usage is caught while parsing (exit 2); the rest fails while running (exit 1).
  auto expect_usage_error = [](const std::vector<std::string>& args, const std::string& line) {
    Result r = RunMoray(args);
    EXPECT_EQ(r.code, 2) << line;
    EXPECT_EQ(r.err, line + "\n");
    EXPECT_EQ(r.out, "");
  };
  expect_usage_error({"list", "tasks", "--address", address_, "--filter", "foo"},
                     "moray list: --filter must be KEY=VALUE or KEY!=VALUE, not 'foo'");
  expect_error({"list", "tasks", "--address", address_, "--filter", "colour=red"},
               "unknown filter key 'colour' for tasks");
  expect_error({"list", "nodes", "--address", address_, "--filter", "colour=red"},
               "Error: unknown filter key 'colour' for nodes; valid keys: node_id");
  expect_error({"list", "placement-groups", "--address", address_, "--filter", "colour=red"},
               "unknown filter key 'colour' for placement groups");
  expect_error({"get", "placement-groups", std::string(32, '0'), "--address", address_},
               "Error: no placement-groups with placement_group_id 0000");
  expect_error({"list", "actors", "--address", address_, "--filter", "colour=red"},
               "unknown filter key 'colour' for actors");
  expect_error({"list", "bogus", "--address", address_},
               "Error: unknown resource 'bogus' for moray list; choose one of: actors, tasks");
  expect_usage_error(
      {"list", "tasks", "--address", address_, "--format", "xml"},
      "moray list: --format must be one of default, table, json or yaml, not 'xml'");
  expect_error({"summary", "bogus", "--address", address_}, "unknown resource 'bogus'");
  expect_error({"list", "objects", "--address", address_, "--filter", "colour=red"},
               "unknown filter key 'colour' for objects");
  expect_error({"list", "tasks", "--address", "nonsense"}, "Error: invalid address 'nonsense'");
  expect_usage_error({"list", "tasks", "--address", address_, "--limit", "0"},
                     "moray list: --limit must be a whole number, 1 or more, not 0");
}

TEST(StateCommandsAddressTest, UnreachableAndMissingClusters) {
  Result r = RunMoray({"status", "--address", "127.0.0.1:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "Error: could not connect to the Moray GCS at 127.0.0.1:1: connection refused. Is a "
            "cluster running there?\n");

  // No flag, no RAY_ADDRESS, and no cluster recorded on this "machine".
  std::string tmp = ::testing::TempDir() + "/moray_state_cli_empty";
  setenv("MORAY_TMPDIR", tmp.c_str(), 1);
  unsetenv("RAY_ADDRESS");
  r = RunMoray({"list", "nodes"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("Error: could not find a running Moray cluster on this machine"));

  // RAY_ADDRESS is used when no flag is given.
  setenv("RAY_ADDRESS", "127.0.0.1:1", 1);
  r = RunMoray({"list", "nodes"});
  EXPECT_THAT(r.err, HasSubstr("could not connect to the Moray GCS at 127.0.0.1:1"));
  unsetenv("RAY_ADDRESS");
  unsetenv("MORAY_TMPDIR");
}

}  // namespace
}  // namespace moray::cli
