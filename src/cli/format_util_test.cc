#include "cli/format_util.h"

#include "gtest/gtest.h"

namespace moray::cli {
namespace {

TEST(FormatPyFloatTest, MatchesPythonRepr) {
  EXPECT_EQ(FormatPyFloat(2), "2.0");
  EXPECT_EQ(FormatPyFloat(0), "0.0");
  EXPECT_EQ(FormatPyFloat(0.5), "0.5");
  EXPECT_EQ(FormatPyFloat(0.0001), "0.0001");
  EXPECT_EQ(FormatPyFloat(0.00001), "1e-05");
  EXPECT_EQ(FormatPyFloat(1.5e-7), "1.5e-07");
  EXPECT_EQ(FormatPyFloat(123.25), "123.25");
  EXPECT_EQ(FormatPyFloat(17693551412.0), "17693551412.0");
  EXPECT_EQ(FormatPyFloat(1e16), "1e+16");
  EXPECT_EQ(FormatPyFloat(1.25e17), "1.25e+17");
  EXPECT_EQ(FormatPyFloat(-3), "-3.0");
  EXPECT_EQ(FormatPyFloat(0.1 + 0.2), "0.30000000000000004");
}

TEST(FormatBytesTest, HumanUnitsLikeRayStatus) {
  EXPECT_EQ(FormatBytes(0), "0B");
  EXPECT_EQ(FormatBytes(512), "512B");
  EXPECT_EQ(FormatBytes(1536), "1.50KiB");
  EXPECT_EQ(FormatBytes(20.0 * 1024 * 1024), "20.00MiB");
  EXPECT_EQ(FormatBytes(4.05 * 1024 * 1024 * 1024), "4.05GiB");
  EXPECT_EQ(FormatBytes(1024.0 * 1024 * 1024 * 1024), "1024.00GiB");
}

TEST(FormatDateTimeTest, MicrosecondLayout) {
  std::string text = FormatDateTime(absl::FromUnixMicros(1700000000123456));
  ASSERT_EQ(text.size(), 26u) << text;  // YYYY-MM-DD HH:MM:SS.ffffff
  EXPECT_EQ(text.substr(19), ".123456");
  EXPECT_EQ(text[4], '-');
  EXPECT_EQ(text[10], ' ');
}

TEST(CellTextTest, ScalarsMapsAndLists) {
  EXPECT_EQ(CellText(Row()), "");
  EXPECT_EQ(CellText(Row(true)), "True");
  EXPECT_EQ(CellText(Row(false)), "False");
  EXPECT_EQ(CellText(Row(42)), "42");
  EXPECT_EQ(CellText(Row(1.0)), "1.0");
  EXPECT_EQ(CellText(Row("x")), "x");
  Row map = Row::object();
  map["memory"] = 1024.0;
  map["CPU"] = 2.0;
  EXPECT_EQ(CellText(map), "CPU: 2.0\nmemory: 1024.0");  // sorted
  EXPECT_EQ(CellText(Row::array({"a", "b"})), "- a\n- b");
  EXPECT_EQ(FilterText(Row(true)), "True");
}

TEST(CellTextTest, NestedValuesOnOneLineInTheirOwnOrder) {
  Row bundle = Row::object();
  bundle["bundle_index"] = 0;
  bundle["node_id"] = Row();
  bundle["unit_resources"] = Row::object({{"GPU", 1.0}, {"CPU", 2.0}});
  Row list = Row::array({bundle, Row::array({1, 2}), Row::object()});
  EXPECT_EQ(CellText(list),
            "- {bundle_index: 0, node_id: null, unit_resources: {GPU: 1.0, CPU: 2.0}}\n"
            "- [1, 2]\n"
            "- {}");
  EXPECT_EQ(CellText(Row::object({{"a", Row::array({"x"})}})), "a: [x]");
}

}  // namespace
}  // namespace moray::cli
