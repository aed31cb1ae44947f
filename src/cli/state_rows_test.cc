// Placement groups as the state CLI shows them: the row (every column), its table cells and its
// YAML, from records built here.
#include "cli/state_rows.h"

#include "absl/strings/str_split.h"
#include "cli/format_table.h"
#include "cli/format_yaml.h"
#include "cli/state_resources.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::cli {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// Two {CPU: 1} bundles packed on node 0xab..., created 42 ms after it was asked for.
proto::PlacementGroupInfo CreatedGroup() {
  proto::PlacementGroupInfo g;
  g.set_placement_group_id(std::string(16, '\x5a'));
  g.set_name("trainers");
  g.set_ray_namespace("app");
  g.set_creator_job_id(std::string("\x01\x00\x00\x00", 4));
  g.set_strategy(proto::PACK);
  g.set_state(proto::PG_CREATED);
  g.set_scheduling_attempts(1);
  g.set_create_time_ms(1000);
  g.set_created_time_ms(1042);
  for (int i = 0; i < 2; ++i) {
    auto* b = g.add_bundles();
    b->set_index(i);
    (*b->mutable_resources())["CPU"] = 1;
    b->set_node_id(std::string(16, '\xab'));
  }
  return g;
}

// One {GPU: 8} bundle no node can hold.
proto::PlacementGroupInfo InfeasibleGroup() {
  proto::PlacementGroupInfo g;
  g.set_placement_group_id(std::string(16, '\x6b'));
  g.set_strategy(proto::STRICT_PACK);
  g.set_state(proto::PG_PENDING);
  g.set_infeasible(true);
  g.set_is_detached(true);
  g.set_scheduling_attempts(3);
  g.set_create_time_ms(2000);
  g.set_state_message("infeasible: STRICT_PACK of 1 bundle {GPU: 8} do not fit");
  auto* b = g.add_bundles();
  (*b->mutable_resources())["GPU"] = 8;
  return g;
}

TEST(PlacementGroupRowTest, EveryColumn) {
  Row row = PlacementGroupRow(CreatedGroup());
  EXPECT_EQ(row["placement_group_id"], "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");
  EXPECT_EQ(row["name"], "trainers");
  EXPECT_EQ(row["creator_job_id"], "01000000");
  EXPECT_EQ(row["state"], "CREATED");  // without the PG_ prefix
  EXPECT_EQ(row["strategy"], "PACK");
  EXPECT_EQ(row["ray_namespace"], "app");
  EXPECT_EQ(row["is_detached"], false);
  ASSERT_EQ(row["bundles"].size(), 2u);
  EXPECT_EQ(row["bundles"][1]["bundle_index"], 1);
  EXPECT_EQ(row["bundles"][1]["node_id"], "abababababababababababababababab");
  EXPECT_EQ(row["bundles"][1]["unit_resources"]["CPU"], 1.0);
  EXPECT_EQ(row["state_message"], nullptr);
  EXPECT_EQ(row["scheduling_attempts"], 1);
  EXPECT_EQ(row["creation_latency_ms"], 42);
  EXPECT_EQ(row["create_time_ms"], 1000);
  EXPECT_EQ(row["removed_time_ms"], nullptr);

  Row pending = PlacementGroupRow(InfeasibleGroup());
  EXPECT_EQ(pending["state"], "PENDING");
  EXPECT_EQ(pending["name"], "");
  EXPECT_EQ(pending["creator_job_id"], nullptr);
  EXPECT_EQ(pending["creation_latency_ms"], nullptr);  // never created
  EXPECT_EQ(pending["bundles"][0]["node_id"], nullptr);
  EXPECT_EQ(pending["bundles"][0]["bundle_index"], 0);
  EXPECT_EQ(pending["state_message"], "infeasible: STRICT_PACK of 1 bundle {GPU: 8} do not fit");
}

TEST(PlacementGroupRowTest, DefaultAndDetailTables) {
  const StateResource* resource = FindStateResource("placement-groups");
  ASSERT_NE(resource, nullptr);
  ASSERT_TRUE(resource->list);
  std::vector<Row> rows{PlacementGroupRow(CreatedGroup()), PlacementGroupRow(InfeasibleGroup())};
  EXPECT_THAT(Lines(FormatIndexedTable(resource->Columns(false), rows)),
              ElementsAre("    PLACEMENT_GROUP_ID                NAME      CREATOR_JOB_ID    STATE",
                          "0   5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a  trainers  01000000          "
                          "CREATED",
                          "1   6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b                              "
                          "PENDING"));
  // --detail: a line per bundle, with its node.
  auto detail = Lines(FormatIndexedTable(resource->Columns(true), rows));
  ASSERT_EQ(detail.size(), 4u);
  EXPECT_THAT(detail[0], ::testing::StartsWith(
                             "    PLACEMENT_GROUP_ID                NAME      CREATOR_JOB_ID    "
                             "STATE    STRATEGY     RAY_NAMESPACE    IS_DETACHED    BUNDLES"));
  EXPECT_THAT(detail[0],
              ::testing::EndsWith("STATE_MESSAGE                                            "
                                  "SCHEDULING_ATTEMPTS    CREATION_LATENCY_MS    "
                                  "CREATE_TIME_MS    REMOVED_TIME_MS"));
  EXPECT_THAT(detail[1],
              ::testing::HasSubstr("CREATED  PACK         app              False          - "
                                   "{bundle_index: 0, node_id: abababababababababababababababab, "
                                   "unit_resources: {CPU: 1.0}}"));
  EXPECT_THAT(detail[1],
              ::testing::HasSubstr("  1                      42                     1000"));
  EXPECT_THAT(detail[2],
              ::testing::HasSubstr("- {bundle_index: 1, node_id: abababababababababababababababab, "
                                   "unit_resources: {CPU: 1.0}}"));
  EXPECT_THAT(detail[3],
              ::testing::HasSubstr("PENDING  STRICT_PACK                   True           - "
                                   "{bundle_index: 0, node_id: null, unit_resources: {GPU: 8.0}}"));
  EXPECT_THAT(detail[3], ::testing::HasSubstr("infeasible: STRICT_PACK of 1 bundle"));
}

TEST(PlacementGroupRowTest, YamlOfOneGroup) {
  const StateResource* resource = FindStateResource("placement-groups");
  Row row = Project(PlacementGroupRow(CreatedGroup()), resource->Columns(true));
  EXPECT_THAT(
      Lines(ToYaml(row)),
      ElementsAre("---", "placement_group_id: 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", "name: trainers",
                  "creator_job_id: '01000000'", "state: CREATED", "strategy: PACK",
                  "ray_namespace: app", "is_detached: false", "bundles:", "-   bundle_index: 0",
                  "    node_id: abababababababababababababababab",
                  "    unit_resources:", "        CPU: 1.0", "-   bundle_index: 1",
                  "    node_id: abababababababababababababababab", "    unit_resources:",
                  "        CPU: 1.0", "state_message: null", "scheduling_attempts: 1",
                  "creation_latency_ms: 42", "create_time_ms: 1000", "removed_time_ms: null"));
}

}  // namespace
}  // namespace moray::cli
