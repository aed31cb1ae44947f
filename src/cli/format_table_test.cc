#include "cli/format_table.h"

#include "absl/time/clock.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

Row NodeLike(const std::string& id, bool head, double cpu) {
  Row row = Row::object();
  row["node_id"] = id;
  row["is_head_node"] = head;
  row["resources_total"] = Row::object({{"CPU", cpu}, {"GPU", 1.0}});
  row["pid"] = 7;
  return row;
}

TEST(FormatIndexedTableTest, PlainLayoutWithIndexAndMultiLineCells) {
  std::string table = FormatIndexedTable({"node_id", "is_head_node", "resources_total", "pid"},
                                         {NodeLike("abc", true, 2), NodeLike("defghi", false, 4)});
  // Widths: index max(0+2, 1) = 2; NODE_ID max(7+2, 6) = 9; IS_HEAD_NODE 14;
  // RESOURCES_TOTAL 17; PID 5. Two spaces between columns; trailing spaces trimmed.
  EXPECT_THAT(Lines(table),
              ElementsAre("    NODE_ID    IS_HEAD_NODE    RESOURCES_TOTAL    PID",
                          "0   abc        True            CPU: 2.0           7",
                          "                               GPU: 1.0",
                          "1   defghi     False           CPU: 4.0           7",
                          "                               GPU: 1.0"));
}

TEST(FormatIndexedTableTest, WideValuesWidenTheColumn) {
  Row row = Row::object();
  row["a"] = "a-much-longer-value";
  row["b"] = Row();
  EXPECT_THAT(Lines(FormatIndexedTable({"a", "b"}, {row})),
              ElementsAre("    A                    B", "0   a-much-longer-value"));
}

ListResult TwoNodes() {
  ListResult result;
  result.resource = "nodes";
  result.rows = {NodeLike("abc", true, 2), NodeLike("defghi", false, 4)};
  result.total = 2;
  return result;
}

TEST(FormatListTest, DefaultLayout) {
  auto lines = Lines(FormatList(TwoNodes(), {"node_id", "is_head_node"}, OutputFormat::kDefault,
                                absl::Now()));
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_THAT(lines[0], MatchesRegex("======== List: [0-9]{4}-[0-9]{2}-[0-9]{2} "
                                     "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} ========"));
  EXPECT_EQ(lines[1], "Stats:");
  EXPECT_EQ(lines[2], "------------------------------");
  EXPECT_EQ(lines[3], "Total: 2");
  EXPECT_EQ(lines[4], "");
  EXPECT_EQ(lines[5], "Table:");
  EXPECT_EQ(lines[6], "------------------------------");
  EXPECT_EQ(lines[7], "    NODE_ID    IS_HEAD_NODE");
  EXPECT_EQ(lines[8], "0   abc        True");
  EXPECT_EQ(lines[9], "1   defghi     False");
}

TEST(FormatListTest, TableFormatIsTheTableAlone) {
  auto lines = Lines(FormatList(TwoNodes(), {"node_id"}, OutputFormat::kTable, absl::Now()));
  EXPECT_THAT(lines, ElementsAre("    NODE_ID", "0   abc", "1   defghi"));
}

TEST(FormatListTest, EmptyResult) {
  ListResult empty{.resource = "tasks"};
  EXPECT_EQ(FormatList(empty, {"task_id"}, OutputFormat::kDefault, absl::Now()),
            "No resource in the cluster\n");
  EXPECT_EQ(FormatList(empty, {"task_id"}, OutputFormat::kTable, absl::Now()),
            "No resource in the cluster\n");
  EXPECT_EQ(FormatList(empty, {"task_id"}, OutputFormat::kJson, absl::Now()), "[]\n");
  EXPECT_EQ(FormatList(empty, {"task_id"}, OutputFormat::kYaml, absl::Now()), "---\n[]\n");
}

TEST(FormatListTest, JsonProjectsToColumnsWithLowerCaseKeys) {
  std::string json = FormatList(TwoNodes(), {"node_id", "is_head_node"}, OutputFormat::kJson,
                                absl::Now());
  auto parsed = nlohmann::ordered_json::parse(json);
  ASSERT_TRUE(parsed.is_array());
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0].size(), 2u);  // only the chosen columns
  EXPECT_EQ(parsed[0]["node_id"], "abc");
  EXPECT_EQ(parsed[0]["is_head_node"], true);
  EXPECT_EQ(parsed[0].begin().key(), "node_id");  // column order kept
}

TEST(FormatListTest, YamlIsAListOfMappings) {
  std::string yaml = FormatList(TwoNodes(), {"node_id", "resources_total"}, OutputFormat::kYaml,
                                absl::Now());
  EXPECT_THAT(Lines(yaml), ElementsAre("---", "-   node_id: abc", "    resources_total:",
                                       "        CPU: 2.0", "        GPU: 1.0",
                                       "-   node_id: defghi", "    resources_total:",
                                       "        CPU: 4.0", "        GPU: 1.0"));
}

TEST(ListWarningsTest, TruncationAndDrops) {
  ListResult result{.resource = "tasks", .total = 2500, .num_truncated = 2400};
  result.rows.resize(100);
  EXPECT_EQ(ListWarnings(result),
            "Warning: 100 (out of 2500) tasks were shown. Use --limit to see more.\n");
  result.num_truncated = 0;
  result.num_dropped = 3;
  EXPECT_THAT(ListWarnings(result), HasSubstr("dropped 3 tasks records"));
  result.num_dropped = 0;
  EXPECT_EQ(ListWarnings(result), "");
}

TEST(ListWarningsTest, EvictedRecordsAndLostEventsAreNamedApart) {
  ListResult result{
      .resource = "tasks", .num_dropped = 12, .num_evicted = 10, .num_events_dropped = 2};
  const std::string warnings = ListWarnings(result);
  EXPECT_THAT(warnings, HasSubstr("Warning: the GCS dropped 10 task records"));
  EXPECT_THAT(warnings, HasSubstr("--task-events-max-num-task-in-gcs"));
  EXPECT_THAT(warnings, HasSubstr("Warning: 2 tasks events were dropped before reaching the GCS"));
  EXPECT_THAT(warnings, ::testing::Not(HasSubstr("the cluster dropped")));
}

TEST(ParseOutputFormatTest, KnownAndUnknown) {
  EXPECT_EQ(*ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(*ParseOutputFormat("YAML"), OutputFormat::kYaml);
  EXPECT_EQ(*ParseOutputFormat("default"), OutputFormat::kDefault);
  EXPECT_EQ(*ParseOutputFormat("table"), OutputFormat::kTable);
  auto bad = ParseOutputFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "--format must be one of default, table, json or yaml, not 'xml'");
}

}  // namespace
}  // namespace moray::cli
