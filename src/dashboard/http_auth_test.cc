#include "rpc/http_auth.h"

#include "gtest/gtest.h"

namespace moray::dashboard {

using rpc::CheckBearer;
namespace {

rpc::AuthConfig Token(std::string token) {
  return {.mode = rpc::AuthMode::kToken, .token = std::move(token), .source = "test"};
}

TEST(HttpAuthTest, MissingHeaderOrOtherSchemeIs401) {
  auto missing = CheckBearer(Token("secret"), "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->http_status, 401);
  EXPECT_EQ(missing->message.find("secret"), std::string::npos);
  auto basic = CheckBearer(Token("secret"), "Basic c2VjcmV0");
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->http_status, 401);
}

TEST(HttpAuthTest, WrongTokenIs403AndNeverShowsATokenTheRightOnePasses) {
  auto wrong = CheckBearer(Token("secret"), "Bearer guess");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->http_status, 403);
  EXPECT_EQ(wrong->message.find("secret"), std::string::npos);
  EXPECT_EQ(wrong->message.find("guess"), std::string::npos);
  EXPECT_FALSE(CheckBearer(Token("secret"), "Bearer secret"));
  EXPECT_FALSE(CheckBearer(Token("secret"), "bearer secret "));  // scheme is case-insensitive
  EXPECT_TRUE(CheckBearer(Token("secret"), "Bearer secret2"));
  EXPECT_TRUE(CheckBearer(Token("secret"), "Bearer "));
}

TEST(HttpAuthTest, DisabledChecksNothing) {
  rpc::AuthConfig disabled{.mode = rpc::AuthMode::kDisabled};
  EXPECT_FALSE(CheckBearer(disabled, ""));
  EXPECT_FALSE(CheckBearer(disabled, "Bearer anything"));
}

}  // namespace
}  // namespace moray::dashboard
