// The node-option table: head_args parsing and its sentences, and the round trip every value
// takes from HeadOptions to a service's command line and back into the service's options.
#include "common/node_options.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ErrorOf(const std::vector<std::string>& args) {
  HeadOptions options;
  absl::Status status = ParseHeadArgs(args, &options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

TEST(NodeOptionsTest, TableIsWellFormed) {
  std::set<std::string_view> names;
  for (const NodeOption& option : NodeOptions()) {
    EXPECT_TRUE(names.insert(option.name).second) << option.name << " declared twice";
    EXPECT_TRUE(option.name.starts_with("--")) << option.name;
    EXPECT_FALSE(option.help.empty()) << option.name;
    EXPECT_FALSE(option.value_name.empty()) << option.name;
    EXPECT_NE(option.uses, 0u) << option.name << " cannot be given anywhere";
    EXPECT_LE(option.range.min, option.range.max) << option.name;
    EXPECT_EQ(FindNodeOption(option.name), &option);
    // Not given by default: the launcher forwards nothing a user did not set.
    EXPECT_FALSE(NodeOptionGiven(option, HeadOptions{})) << option.name;
  }
  EXPECT_EQ(FindNodeOption("--nope"), nullptr);
  EXPECT_TRUE(FindNodeOption("--health-check-period-ms")->HeadOnly());
  EXPECT_TRUE(FindNodeOption("--port")->HeadOnly());
  EXPECT_FALSE(FindNodeOption("--node-ip-address")->HeadOnly());  // both services bind it
  EXPECT_FALSE(FindNodeOption("--num-cpus")->HeadOnly());
}

TEST(NodeOptionsTest, HeadArgsInBothForms) {
  HeadOptions options;
  ASSERT_TRUE(ParseHeadArgs({"--head", "--num-cpus=2.5", "--port", "7000",
                             "--resources={\"slot\": 2}", "--object-store-memory", "1048576",
                             "--object-store-prefault=0", "--health-check-period-ms=50",
                             "--object-spilling-directory=/tmp/spill", "--node-ip-address=127.0.0.1"},
                            &options)
                  .ok());
  EXPECT_EQ(options.num_cpus, 2.5);
  EXPECT_EQ(options.gcs_port, 7000);
  EXPECT_EQ(options.resources, (ResourceAmounts{{"slot", 2}}));
  EXPECT_EQ(options.object_store_memory, 1048576);
  EXPECT_EQ(options.object_store_prefault, 0);
  EXPECT_EQ(options.health_check_period_ms, 50);
  EXPECT_EQ(options.object_spilling_directory, "/tmp/spill");
}

TEST(NodeOptionsTest, HeadArgsErrorsAreSentences) {
  EXPECT_EQ(ErrorOf({"--port=70000"}),
            "in head_args, --port must be a whole number from 0 to 65535, not 70000");
  EXPECT_EQ(ErrorOf({"--port", "http"}),
            "in head_args, --port must be a whole number from 0 to 65535, not 'http'");
  EXPECT_EQ(ErrorOf({"--num-cpus=-1"}), "in head_args, --num-cpus must be a number, 0 or more, not -1");
  EXPECT_EQ(ErrorOf({"--num-cpus=nan"}),
            "in head_args, --num-cpus must be a number, 0 or more, not 'nan'");
  EXPECT_EQ(ErrorOf({"--object-store-memory=1.5"}),
            "in head_args, --object-store-memory must be a whole number of bytes, 0 or more, "
            "not 1.5");
  EXPECT_EQ(ErrorOf({"--health-check-period-ms=5"}),
            "in head_args, --health-check-period-ms must be a whole number of milliseconds from 10 "
            "to 3600000, not 5");
  EXPECT_EQ(ErrorOf({"--health-check-failure-threshold=0"}),
            "in head_args, --health-check-failure-threshold must be a whole number from 1 to 1000, "
            "not 0");
  EXPECT_EQ(ErrorOf({"--object-spilling-directory="}),
            "in head_args, --object-spilling-directory must not be empty");
  EXPECT_EQ(ErrorOf({"--port"}),
            "in head_args, --port needs a value: a whole number from 0 to 65535");
  EXPECT_EQ(ErrorOf({"--resources=[1]"}),
            "in head_args, --resources must be a JSON object of amounts such as "
            "'{\"custom\": 2}', not '[1]'");
  EXPECT_EQ(ErrorOf({"--resources={\"a\": \"x\"}"}),
            "in head_args, --resources: the amount of 'a' must be a number, 0 or more, not \"x\"");
  EXPECT_EQ(ErrorOf({"--resources={\"CPU\": 1}"}),
            "in head_args, --resources cannot set CPU: use --num-cpus instead");
  // Options of `moray start` only, and unknown ones, name what head_args accepts.
  std::string unknown = ErrorOf({"--node-name=x"});
  EXPECT_THAT(unknown, HasSubstr("head_args has no option '--node-name=x'; its options are --port, "
                                 "--num-cpus,"));
  EXPECT_THAT(unknown, HasSubstr("--health-check-failure-threshold and --metrics-export-port"));
  EXPECT_THAT(ErrorOf({"--bogus"}), HasSubstr("head_args has no option '--bogus'"));
}

TEST(NodeOptionsTest, LabelsMustBeStrings) {
  EXPECT_EQ(ParseLabelsJson("{\"zone\": 3}").status().message(),
            "--labels: the value of 'zone' must be a string, not 3");
  EXPECT_EQ(ParseLabelsJson("zone=a").status().message(),
            "--labels must be a JSON object of strings such as '{\"zone\": \"a\"}', not 'zone=a'");
  EXPECT_EQ(*ParseLabelsJson("{\"zone\": \"a\"}"), (NodeLabels{{"zone", "a"}}));
}

TEST(NodeOptionsTest, ServicesGetOnlyWhatWasGivenAndReadItBack) {
  HeadOptions options;
  EXPECT_THAT(ServiceArgs(options, NodeService::kGcs), ElementsAre());
  EXPECT_THAT(ServiceArgs(options, NodeService::kRaylet), ElementsAre());

  options.gcs_port = 7000;
  options.node_ip = "127.0.0.2";
  options.health_check_timeout_ms = 250;
  options.raylet_port = 7001;
  options.num_cpus = 0.1;
  options.resources = {{"slot", 1.5}};
  options.labels = {{"zone", "a b"}};
  options.object_store_prefault = 4096;
  options.node_name = "n1";
  EXPECT_THAT(ServiceArgs(options, NodeService::kGcs),
              ElementsAre("--port=7000", "--node-ip-address=127.0.0.2",
                          "--health-check-timeout-ms=250"));
  EXPECT_THAT(ServiceArgs(options, NodeService::kRaylet),
              ElementsAre("--num-cpus=0.1", "--resources={\"slot\":1.5}",
                          "--object-store-prefault=4096", "--node-ip-address=127.0.0.2",
                          "--node-name=n1", "--labels={\"zone\":\"a b\"}",
                          "--node-manager-port=7001"));

  // What the launcher writes, the services read back into their own options.
  gcs::GcsServerOptions gcs;
  for (const auto& arg : ServiceArgs(options, NodeService::kGcs)) {
    auto eq = arg.find('=');
    ASSERT_TRUE(SetNodeOption(*FindNodeOption(arg.substr(0, eq)), arg.substr(eq + 1), &gcs).ok());
  }
  EXPECT_EQ(gcs.port, 7000);
  EXPECT_EQ(gcs.host, "127.0.0.2");
  EXPECT_EQ(gcs.health_check_timeout_ms, 250);
  EXPECT_EQ(gcs.health_check_period_ms, 1000);  // not given: the GCS's default
  raylet::RayletOptions raylet;
  for (const auto& arg : ServiceArgs(options, NodeService::kRaylet)) {
    auto eq = arg.find('=');
    ASSERT_TRUE(
        SetNodeOption(*FindNodeOption(arg.substr(0, eq)), arg.substr(eq + 1), &raylet).ok());
  }
  EXPECT_EQ(raylet.port, 7001);
  EXPECT_EQ(raylet.node_ip, "127.0.0.2");
  EXPECT_EQ(raylet.num_cpus, 0.1);
  EXPECT_EQ(raylet.custom_resources, (ResourceAmounts{{"slot", 1.5}}));
  EXPECT_EQ(raylet.labels, (NodeLabels{{"zone", "a b"}}));
  EXPECT_EQ(raylet.object_store_prefault_bytes, 4096);
  EXPECT_EQ(raylet.node_name, "n1");

  // A service refuses an option that is not its own.
  EXPECT_EQ(SetNodeOption(*FindNodeOption("--num-cpus"), "2", &gcs).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace moray
