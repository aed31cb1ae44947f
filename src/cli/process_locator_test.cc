#include "cli/process_locator.h"

#include "gtest/gtest.h"

namespace moray::cli {
namespace {

TEST(ParseProcessTargetTest, DecimalDigitsAreAPid) {
  auto target = ParseProcessTarget("4242");
  ASSERT_TRUE(target.ok()) << target.status();
  ASSERT_TRUE(std::holds_alternative<int>(*target));
  EXPECT_EQ(std::get<int>(*target), 4242);
  auto spaced = ParseProcessTarget(" 17 ");
  ASSERT_TRUE(spaced.ok()) << spaced.status();
  EXPECT_EQ(std::get<int>(*spaced), 17);
}

TEST(ParseProcessTargetTest, ThirtyTwoHexDigitsAreAnActorOrTaskIdInLowerCase) {
  const std::string hex = "0100000055C0FFEE0123456789ABCDEF";
  auto target = ParseProcessTarget(hex);
  ASSERT_TRUE(target.ok()) << target.status();
  ASSERT_TRUE(std::holds_alternative<ActorOrTaskId>(*target));
  EXPECT_EQ(std::get<ActorOrTaskId>(*target).hex, "0100000055c0ffee0123456789abcdef");
  // All digits but id-long: an id, not a pid.
  auto digits = ParseProcessTarget(std::string(32, '1'));
  ASSERT_TRUE(digits.ok()) << digits.status();
  EXPECT_TRUE(std::holds_alternative<ActorOrTaskId>(*digits));
}

TEST(ParseProcessTargetTest, AnythingElseIsAnErrorNamingTheText) {
  for (const char* bad : {"", "abc", "12ab", "-5", "0", "99999999999", "0x1234",
                          "0100000055c0ffee0123456789abcde",      // 31 digits
                          "0100000055c0ffee0123456789abcdef0",    // 33 digits
                          "0100000055c0ffee0123456789abcdeg"}) {  // not hex
    auto target = ParseProcessTarget(bad);
    ASSERT_FALSE(target.ok()) << "'" << bad << "' parsed";
    EXPECT_EQ(target.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(target.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << target.status();
  }
  EXPECT_NE(ParseProcessTarget("xyz").status().message().find("32 hex digits"), std::string::npos);
  EXPECT_NE(ParseProcessTarget("0").status().message().find("not a pid"), std::string::npos);
}

TEST(ParseNodeIdTest, HexOrAnErrorNamingTheFlag) {
  auto id = ParseNodeId("00112233445566778899AABBCCDDEEFF");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->Hex(), "00112233445566778899aabbccddeeff");
  for (const char* bad : {"", "zz", "00112233445566778899aabbccddee", "1234"}) {
    auto parsed = ParseNodeId(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("--node-id"), std::string::npos);
  }
}

}  // namespace
}  // namespace moray::cli
