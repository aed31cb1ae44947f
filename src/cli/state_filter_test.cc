#include "cli/state_filter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseFilterTest, EqualAndNotEqual) {
  auto eq = ParseFilter("state=RUNNING");
  ASSERT_TRUE(eq.ok());
  EXPECT_EQ(eq->key(), "state");
  EXPECT_EQ(eq->op(), "=");
  EXPECT_EQ(eq->value(), "RUNNING");

  auto ne = ParseFilter(" STATE != finished ");
  ASSERT_TRUE(ne.ok());
  EXPECT_EQ(ne->key(), "state");  // keys lower-cased, both sides trimmed
  EXPECT_EQ(ne->op(), "!=");
  EXPECT_EQ(ne->value(), "finished");

  auto empty_value = ParseFilter("error_type=");
  ASSERT_TRUE(empty_value.ok());
  EXPECT_EQ(empty_value->value(), "");

  auto value_with_equals = ParseFilter("name=a=b");
  ASSERT_TRUE(value_with_equals.ok());
  EXPECT_EQ(value_with_equals->value(), "a=b");
}

TEST(ParseFilterTest, RejectsMissingOperatorOrKey) {
  for (const char* text : {"foo", "", "=x", "!=x", "  =x"}) {
    auto filter = ParseFilter(text);
    ASSERT_FALSE(filter.ok()) << text;
    EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ParseFilter("foo").status().message(),
            "--filter must be KEY=VALUE or KEY!=VALUE, not 'foo'");
}

TEST(RowMatchesTest, CaseInsensitiveAndAnded) {
  Row row = Row::object();
  row["state"] = "ALIVE";
  row["is_head_node"] = true;
  row["pid"] = 42;
  row["state_message"] = Row();
  auto f = [](const char* text) { return *ParseFilter(text); };
  EXPECT_TRUE(RowMatches(row, {f("state=alive")}));
  EXPECT_FALSE(RowMatches(row, {f("state!=Alive")}));
  EXPECT_TRUE(RowMatches(row, {f("is_head_node=true"), f("pid=42")}));
  EXPECT_FALSE(RowMatches(row, {f("is_head_node=true"), f("pid=43")}));
  EXPECT_TRUE(RowMatches(row, {f("state_message=")}));  // null compares as empty
  EXPECT_TRUE(RowMatches(row, {}));
}

TEST(CheckFilterKeysTest, UnknownKeyNamesValidOnes) {
  auto status = CheckFilterKeys({*ParseFilter("colour=red")}, {"node_id", "state"}, "nodes");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "unknown filter key 'colour' for nodes; valid keys: node_id, state");
  EXPECT_TRUE(CheckFilterKeys({*ParseFilter("state=x")}, {"node_id", "state"}, "nodes").ok());
}

}  // namespace
}  // namespace moray::cli
