// The state CLI's placement groups against a real `moray start --head --num-cpus=2` cluster and a
// real driver (this process): a created group holding both CPUs (an actor in one bundle), one
// that waits for room, one no node can ever hold, and a removed one; then `moray list
// placement-groups` (default, --detail, filters, limit), `moray get placement-groups` and
// `moray status`.
#include <regex>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

using moray::testing::Lines;
using moray::testing::RunMoray;
using moray::testing::RunMorayJson;
using moray::testing::WaitFor;

class Holder {
 public:
  static Holder* Create() { return new Holder(); }
  int Ping() { return 1; }
};
RAY_REMOTE(Holder::Create, &Holder::Ping);

class CliPlacementGroupsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    address_ = moray::testing::StartHead(&error);
    ASSERT_FALSE(address_.empty()) << error;
    ray::RayConfig config;
    config.address = address_;
    ray::Init(config);

    using Bundles = std::vector<std::unordered_map<std::string, double>>;
    created_ = new ray::PlacementGroup(ray::CreatePlacementGroup(
        {"both-cpus", Bundles(2, {{"CPU", 1}}), ray::PlacementStrategy::PACK}));
    ASSERT_TRUE(created_->Wait(60));
    // An actor using bundle 0's CPU: usage shows 1 of the 2 reserved in use.
    holder_ = new ray::ActorHandle<Holder>(
        ray::Actor(Holder::Create).SetResource("CPU", 1).SetPlacementGroup(*created_, 0).Remote());
    ASSERT_EQ(*holder_->Task(&Holder::Ping).Remote().Get(60000), 1);
    waiting_ = ray::CreatePlacementGroup({"", {{{"CPU", 2}}}, ray::PlacementStrategy::PACK});
    infeasible_ =
        ray::CreatePlacementGroup({"gpus", {{{"GPU", 1}}}, ray::PlacementStrategy::STRICT_PACK});
    auto removed = ray::CreatePlacementGroup({"", {{{"CPU", 1}}}, ray::PlacementStrategy::SPREAD});
    removed_ = removed.GetID();
    ray::RemovePlacementGroup(removed_);
    // Both waiting groups have been tried once (so each says why it waits).
    ASSERT_TRUE(WaitFor([] {
      auto rows = RunMorayJson({"list", "placement-groups", "--address", address_, "--detail",
                                "--filter", "state=pending"});
      if (!rows.is_array() || rows.size() != 2) return false;
      for (const auto& row : rows) {
        if (!row["state_message"].is_string()) return false;
      }
      return true;
    }));
  }
  static void TearDownTestSuite() {
    delete holder_;
    delete created_;
    ray::Shutdown();
    auto stopped = RunMoray({"stop"});
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  }

  static std::string address_;
  static ray::PlacementGroup* created_;
  static ray::ActorHandle<Holder>* holder_;
  static ray::PlacementGroup waiting_;
  static ray::PlacementGroup infeasible_;
  static std::string removed_;
};
std::string CliPlacementGroupsTest::address_;
ray::PlacementGroup* CliPlacementGroupsTest::created_ = nullptr;
ray::ActorHandle<Holder>* CliPlacementGroupsTest::holder_ = nullptr;
ray::PlacementGroup CliPlacementGroupsTest::waiting_;
ray::PlacementGroup CliPlacementGroupsTest::infeasible_;
std::string CliPlacementGroupsTest::removed_;

TEST_F(CliPlacementGroupsTest, ListDefaultLayout) {
  auto r = RunMoray({"list", "placement-groups", "--address", address_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 12u) << r.out;
  EXPECT_TRUE(std::regex_match(lines[0], std::regex("======== List: .* ========")));
  EXPECT_EQ(lines[3], "Total: 4");
  EXPECT_EQ(lines[5], "Table:");
  EXPECT_EQ(lines[7], "    PLACEMENT_GROUP_ID                NAME       CREATOR_JOB_ID    STATE");
  // Creation order; states without the PG_ prefix.
  EXPECT_TRUE(std::regex_match(lines[8], std::regex("0   " + created_->GetID() +
                                                    "  both-cpus  [0-9a-f]{8}          CREATED")))
      << lines[8];
  EXPECT_TRUE(std::regex_match(lines[9], std::regex("1   " + waiting_.GetID() +
                                                    "             [0-9a-f]{8}          PENDING")))
      << lines[9];
  EXPECT_TRUE(std::regex_match(lines[10], std::regex("2   " + infeasible_.GetID() +
                                                     "  gpus       [0-9a-f]{8}          PENDING")))
      << lines[10];
  EXPECT_TRUE(std::regex_match(
      lines[11], std::regex("3   " + removed_ + "             [0-9a-f]{8}          REMOVED")))
      << lines[11];
}

TEST_F(CliPlacementGroupsTest, DetailFiltersAndLimit) {
  std::string error;
  auto rows = RunMorayJson({"list", "placement-groups", "--address", address_, "--detail"}, &error);
  ASSERT_TRUE(rows.is_array()) << error;
  ASSERT_EQ(rows.size(), 4u);
  // The created group: both bundles on the one node, a creation latency, one attempt.
  const auto& created = rows[0];
  EXPECT_EQ(created["strategy"], "PACK");
  EXPECT_EQ(created["is_detached"], false);
  EXPECT_TRUE(created["ray_namespace"].is_string());
  ASSERT_EQ(created["bundles"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(created["bundles"][i]["bundle_index"], i);
    EXPECT_EQ(created["bundles"][i]["unit_resources"]["CPU"], 1.0);
    EXPECT_TRUE(std::regex_match(created["bundles"][i]["node_id"].get<std::string>(),
                                 std::regex("[0-9a-f]{32}")));
  }
  EXPECT_EQ(created["bundles"][0]["node_id"], created["bundles"][1]["node_id"]);
  EXPECT_TRUE(created["creation_latency_ms"].is_number_integer()) << created.dump();
  EXPECT_GE(created["scheduling_attempts"].get<int>(), 1);
  EXPECT_EQ(created["state_message"], nullptr);
  // Waiting: no room now (the created group holds both CPUs) vs. never (no GPU anywhere).
  EXPECT_EQ(rows[1]["creation_latency_ms"], nullptr);
  EXPECT_EQ(rows[1]["bundles"][0]["node_id"], nullptr);
  // The GCS's "no room now for ...", or a raylet's refusal of a prepare that raced a report.
  const std::string waiting_message = rows[1]["state_message"].get<std::string>();
  EXPECT_NE(waiting_message.find("no room"), std::string::npos) << rows[1].dump();
  EXPECT_EQ(waiting_message.find("infeasible"), std::string::npos) << rows[1].dump();
  EXPECT_EQ(rows[2]["strategy"], "STRICT_PACK");
  EXPECT_EQ(rows[2]["state_message"].get<std::string>().rfind("infeasible: ", 0), 0u)
      << rows[2].dump();
  EXPECT_EQ(rows[3]["state"], "REMOVED");
  EXPECT_TRUE(rows[3]["removed_time_ms"].is_number_integer());

  // The table form shows each bundle on a line of its own, with its node.
  auto table = RunMoray({"list", "placement-groups", "--address", address_, "--detail", "--format",
                         "table", "--filter", "name=both-cpus"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(std::regex_search(
      table.out, std::regex("- \\{bundle_index: 1, node_id: [0-9a-f]{32}, unit_resources: "
                            "\\{CPU: 1\\.0\\}\\}\n")))
      << table.out;

  // Filters at the source: state (any case), !=, AND; then the limit.
  auto pending = RunMorayJson(
      {"list", "placement-groups", "--address", address_, "--filter", "state=Pending"});
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0]["placement_group_id"], waiting_.GetID());
  EXPECT_EQ(pending[0].size(), 4u);  // default columns
  auto named = RunMorayJson({"list", "placement-groups", "--address", address_, "--filter",
                             "state!=removed", "--filter", "strategy=strict_pack"});
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[0]["name"], "gpus");
  auto limited = RunMoray({"list", "placement-groups", "--address", address_, "--filter",
                           "state=pending", "--limit", "1"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_NE(limited.out.find("Total: 1\n"), std::string::npos) << limited.out;
  EXPECT_EQ(limited.err,
            "Warning: 1 (out of 2) placement-groups were shown. Use --limit to see more.\n");
  auto none = RunMoray(
      {"list", "placement-groups", "--address", address_, "--filter", "state=rescheduling"});
  EXPECT_EQ(none.out, "No resource in the cluster\n");
  auto bad = RunMoray({"list", "placement-groups", "--address", address_, "--filter", "x=y"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("unknown filter key 'x' for placement groups"), std::string::npos)
      << bad.err;
}

TEST_F(CliPlacementGroupsTest, GetOneGroupAsYaml) {
  auto r = RunMoray({"get", "placement-groups", created_->GetID(), "--address", address_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("---\nplacement_group_id: ", 0), 0u) << r.out;  // one group: a mapping
  EXPECT_NE(r.out.find("\nname: both-cpus\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nstate: CREATED\nstrategy: PACK\n"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("\nbundles:\n-   bundle_index: 0\n    node_id: '?[0-9a-f]{32}'?\n    "
                        "unit_resources:\n        CPU: 1\\.0\n-   bundle_index: 1\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\ncreation_latency_ms: \\d+\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nscheduling_attempts: [1-9]\\d*\n"))) << r.out;
  EXPECT_NE(r.out.find("\nstate_message: null\n"), std::string::npos) << r.out;

  auto infeasible =
      RunMoray({"get", "placement-groups", infeasible_.GetID(), "--address", address_});
  ASSERT_EQ(infeasible.exit_code, 0) << infeasible.err;
  EXPECT_NE(infeasible.out.find("\nstate_message: 'infeasible: "), std::string::npos)
      << infeasible.out;
  EXPECT_NE(infeasible.out.find("\n    node_id: null\n"), std::string::npos) << infeasible.out;
  EXPECT_NE(infeasible.out.find("\ncreation_latency_ms: null\n"), std::string::npos);

  auto missing = RunMoray({"get", "placement-groups", std::string(32, 'f'), "--address", address_});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err,
            "Error: no placement-groups with placement_group_id " + std::string(32, 'f') + "\n");
}

TEST_F(CliPlacementGroupsTest, StatusShowsWaitingGroupsAsDemandsAndPlainUsage) {
  std::string out;
  // The actor's lease is reported within a second of it starting.
  ASSERT_TRUE(WaitFor([&] {
    out = RunMoray({"status", "--address", address_}).out;
    return out.find("(1.0 used of 2.0 reserved") != std::string::npos;
  })) << out;
  auto lines = Lines(out);
  auto usage = std::find(lines.begin(), lines.end(), "Usage:");
  ASSERT_NE(usage, lines.end()) << out;
  EXPECT_EQ(*(usage + 1), " 2.0/2.0 CPU (1.0 used of 2.0 reserved in placement groups)") << out;
  // No group-scoped names (CPU_group_<id>, bundle markers) anywhere.
  EXPECT_EQ(out.find("_group_"), std::string::npos) << out;
  EXPECT_NE(out.find("Demands:\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\n {'CPU': 2.0} * 1 (PACK): 1+ pending placement groups\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\n {'GPU': 1.0} * 1 (STRICT_PACK): 1+ pending placement groups "
                     "(infeasible: the cluster can never hold it as asked)\n"),
            std::string::npos)
      << out;
  // The created and the removed groups are not demands.
  EXPECT_EQ(out.find("{'CPU': 1.0} * 2"), std::string::npos) << out;
  EXPECT_EQ(out.find("(SPREAD)"), std::string::npos) << out;
}

}  // namespace
