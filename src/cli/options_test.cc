// Options and usage errors through CLI11 as `moray` parses them: node options registered from the
// table, the services' options, the state commands' options, and the one line every usage error
// becomes. (tests/cli_test.cc runs the real binary.)
#include "cli/options.h"

#include <cstdlib>
#include <sstream>

#include "cli/state_commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scoped_env.h"

namespace moray::cli {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  int code = -1;
  std::string out;
  std::string err;
  HeadOptions start;
  raylet::RayletOptions raylet;
  gcs::GcsServerOptions gcs;
};

// A `moray` with the real option registration: `start` (the node options of `moray start`),
// the services' node options, and the state commands.
Parsed Parse(std::vector<std::string> args) {
  Parsed parsed;
  parsed.start.gcs_port = 6379;
  CLI::App app{"moray"};
  app.require_subcommand(1);
  std::ostringstream out, err;
  auto* start = app.add_subcommand("start", "Start");
  bool head = false;
  start->add_flag("--head", head, "Head");
  AddNodeOptions(start, kStartFlag, &parsed.start);
  auto* raylet = app.add_subcommand("raylet", "Raylet");
  raylet->group("");
  AddServiceOptions(raylet, &parsed.raylet);
  auto* gcs = app.add_subcommand("gcs-server", "GCS");
  gcs->group("");
  AddServiceOptions(gcs, &parsed.gcs);
  AddStateCommands(app, out, err);
  args.insert(args.begin(), "moray");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  parsed.code = Run(app, static_cast<int>(argv.size()), argv.data(), out, err);
  parsed.out = out.str();
  parsed.err = err.str();
  return parsed;
}

void ExpectUsageError(const std::vector<std::string>& args, const std::string& line) {
  Parsed parsed = Parse(args);
  EXPECT_EQ(parsed.code, 2) << line;
  EXPECT_EQ(parsed.err, line + "\n");
  EXPECT_EQ(parsed.out, "");
}

TEST(OptionsTest, NodeOptionsSetTheirFields) {
  Parsed parsed = Parse({"start", "--head", "--port=7000", "--num-cpus", "3", "--labels",
                         "{\"zone\": \"a\"}", "--node-manager-port=7001"});
  ASSERT_EQ(parsed.code, 0) << parsed.err;
  EXPECT_EQ(parsed.start.gcs_port, 7000);
  EXPECT_EQ(parsed.start.num_cpus, 3);
  EXPECT_EQ(parsed.start.labels, (NodeLabels{{"zone", "a"}}));
  EXPECT_EQ(parsed.start.raylet_port, 7001);
  EXPECT_EQ(Parse({"start", "--head"}).start.gcs_port, 6379);  // the default stays

  parsed = Parse({"raylet", "--node-manager-port=7001", "--object-store-prefault=0",
                  "--node-ip-address=127.0.0.2"});
  ASSERT_EQ(parsed.code, 0) << parsed.err;
  EXPECT_EQ(parsed.raylet.port, 7001);
  EXPECT_EQ(parsed.raylet.object_store_prefault_bytes, 0);
  EXPECT_EQ(parsed.raylet.node_ip, "127.0.0.2");
  parsed = Parse({"gcs-server", "--port=7000", "--health-check-failure-threshold=2"});
  ASSERT_EQ(parsed.code, 0) << parsed.err;
  EXPECT_EQ(parsed.gcs.port, 7000);
  EXPECT_EQ(parsed.gcs.health_check_failure_threshold, 2);
}

TEST(OptionsTest, BadValuesReadAsSentences) {
  ExpectUsageError({"start", "--port", "70000"},
                   "moray start: --port must be a whole number from 0 to 65535, not 70000");
  ExpectUsageError({"start", "--port=-1"},
                   "moray start: --port must be a whole number from 0 to 65535, not -1");
  ExpectUsageError({"start", "--num-cpus=lots"},
                   "moray start: --num-cpus must be a number, 0 or more, not 'lots'");
  ExpectUsageError({"start", "--object-store-memory=1G"},
                   "moray start: --object-store-memory must be a whole number of bytes, 0 or "
                   "more, not '1G'");
  ExpectUsageError({"start", "--health-check-timeout-ms=0"},
                   "moray start: --health-check-timeout-ms must be a whole number of milliseconds "
                   "from 10 to 3600000, not 0");
  ExpectUsageError({"start", "--node-manager-port=65536"},
                   "moray start: --node-manager-port must be a whole number from 0 to 65535, not "
                   "65536");
  ExpectUsageError({"start", "--node-name="}, "moray start: --node-name needs a value");
  ExpectUsageError({"start", "--labels={\"zone\": 1}"},
                   "moray start: --labels: the value of 'zone' must be a string, not 1");
  ExpectUsageError({"raylet", "--num-gpus=-2"},
                   "moray raylet: --num-gpus must be a whole number from 0 to 4096, not -2");
  ExpectUsageError({"gcs-server", "--health-check-period-ms=1"},
                   "moray gcs-server: --health-check-period-ms must be a whole number of "
                   "milliseconds from 10 to 3600000, not 1");
  ExpectUsageError({"list", "tasks", "--limit", "0"},
                   "moray list: --limit must be a whole number, 1 or more, not 0");
  ExpectUsageError({"list", "tasks", "--limit", "ten"},
                   "moray list: --limit must be a whole number, 1 or more, not 'ten'");
  ExpectUsageError({"list", "tasks", "--format", "xml"},
                   "moray list: --format must be one of default, table, json or yaml, not 'xml'");
  ExpectUsageError({"list", "tasks", "--filter", "foo"},
                   "moray list: --filter must be KEY=VALUE or KEY!=VALUE, not 'foo'");
  ExpectUsageError({"list", "tasks", "--filter", "a=b", "--filter", "=c"},
                   "moray list: --filter must be KEY=VALUE or KEY!=VALUE, not '=c'");
}

TEST(OptionsTest, WrongShapesReadAsSentences) {
  ExpectUsageError({"start", "--port"}, "moray start: --port needs a value");
  ExpectUsageError({"start", "--port=1", "--port=2"},
                   "moray start: --port was given more than once; give it once");
  ExpectUsageError({"start", "--head=maybe"}, "moray start: --head takes no value");
  ExpectUsageError({"start", "--bogus=1"},
                   "moray start: unknown option --bogus (`moray start --help` shows the usage)");
  ExpectUsageError({"start", "extra"},
                   "moray start: unexpected argument 'extra' (`moray start --help` shows the "
                   "usage)");
  // A node option that is not the service's is unknown to it.
  ExpectUsageError({"gcs-server", "--num-cpus=2"},
                   "moray gcs-server: unknown option --num-cpus (`moray gcs-server --help` shows "
                   "the usage)");
  ExpectUsageError({"frobnicate"},
                   "moray: unknown command 'frobnicate'; the commands are start, list, get, "
                   "summary, status and timeline");
  ExpectUsageError({},
                   "moray: give a command: start, list, get, summary, status or timeline "
                   "(`moray --help` describes them)");
  ExpectUsageError({"list"},
                   "moray list: the resource argument is missing (`moray list --help` shows the "
                   "usage)");
}

TEST(OptionsTest, RepeatedFiltersAndValidValuesPassParsing) {
  // Parsing passes; the command then fails to reach the cluster (its own error, code 1). It has a
  // token to present (from the environment, which comes before ~/.ray: this test reads no file).
  moray::testing::ScopedEnv token("RAY_AUTH_TOKEN", "options-test-token");
  Parsed parsed = Parse({"list", "tasks", "--filter", "a=b", "--filter", "c!=d", "--limit", "5",
                         "--format", "JSON", "--address", "127.0.0.1:1"});
  EXPECT_EQ(parsed.code, 1);
  EXPECT_THAT(parsed.err, HasSubstr("Error: could not connect"));
}

TEST(OptionsTest, HelpShowsValueNamesAndDefaults) {
  Parsed parsed = Parse({"start", "--help"});
  EXPECT_EQ(parsed.code, 0);
  EXPECT_THAT(parsed.out, HasSubstr("--port PORT=6379"));
  EXPECT_THAT(parsed.out, HasSubstr("--node-ip-address ADDRESS=127.0.0.1"));
  EXPECT_THAT(parsed.out, HasSubstr("--object-store-memory BYTES"));
  EXPECT_THAT(parsed.out, HasSubstr("GCS port of the head node (0: any free port)"));
  EXPECT_THAT(parsed.out, ::testing::Not(HasSubstr("--object-store-prefault")));  // head_args only
}

}  // namespace
}  // namespace moray::cli
