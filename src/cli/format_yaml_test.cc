#include "cli/format_yaml.h"

#include "gtest/gtest.h"

namespace moray::cli {
namespace {

TEST(YamlScalarTest, QuotesWhatYamlWouldMisread) {
  EXPECT_EQ(YamlScalar(Row("plain")), "plain");
  EXPECT_EQ(YamlScalar(Row("16310a0f0a45af5c")), "16310a0f0a45af5c");  // hex id with letters
  EXPECT_EQ(YamlScalar(Row("01000000")), "'01000000'");                  // would read as a number
  EXPECT_EQ(YamlScalar(Row("1.5")), "'1.5'");
  EXPECT_EQ(YamlScalar(Row("1e5")), "'1e5'");
  EXPECT_EQ(YamlScalar(Row("")), "''");
  EXPECT_EQ(YamlScalar(Row("true")), "'true'");
  EXPECT_EQ(YamlScalar(Row("No")), "'No'");
  EXPECT_EQ(YamlScalar(Row("null")), "'null'");
  EXPECT_EQ(YamlScalar(Row("- dash")), "'- dash'");
  EXPECT_EQ(YamlScalar(Row("a: b")), "'a: b'");
  EXPECT_EQ(YamlScalar(Row("it's")), "it's");
  EXPECT_EQ(YamlScalar(Row("'quoted'")), "'''quoted'''");
  EXPECT_EQ(YamlScalar(Row("line1\nline2")), "\"line1\\nline2\"");
  EXPECT_EQ(YamlScalar(Row("/usr/bin/app --flag")), "/usr/bin/app --flag");
}

TEST(YamlScalarTest, NonStrings) {
  EXPECT_EQ(YamlScalar(Row()), "null");
  EXPECT_EQ(YamlScalar(Row(true)), "true");
  EXPECT_EQ(YamlScalar(Row(7)), "7");
  EXPECT_EQ(YamlScalar(Row(1.0)), "1.0");
  EXPECT_EQ(YamlScalar(Row::object()), "{}");
  EXPECT_EQ(YamlScalar(Row::array()), "[]");
}

TEST(ToYamlTest, NestedBlocksInPyYamlStyle) {
  Row task = Row::object();
  task["task_id"] = "abc";
  task["attempt_number"] = 0;
  task["required_resources"] = Row::object({{"CPU", 1.0}});
  task["argv"] = Row::array({"./app", "--x"});
  task["labels"] = Row::object();
  Row list = Row::array({task});
  EXPECT_EQ(ToYaml(list),
            "---\n"
            "-   task_id: abc\n"
            "    attempt_number: 0\n"
            "    required_resources:\n"
            "        CPU: 1.0\n"
            "    argv:\n"
            "    - ./app\n"
            "    - --x\n"
            "    labels: {}\n");
  EXPECT_EQ(ToYaml(task, /*explicit_start=*/false).substr(0, 13), "task_id: abc\n");
}

TEST(ToYamlTest, ListOfLists) {
  Row value = Row::array({Row::array({1, 2}), Row::array()});
  EXPECT_EQ(ToYaml(value), "---\n-   - 1\n    - 2\n- []\n");
}

}  // namespace
}  // namespace moray::cli
