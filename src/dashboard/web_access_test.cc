#include "dashboard/web_access.h"

#include <filesystem>
#include <fstream>

#include "absl/time/time.h"
#include "dashboard/browser_sessions.h"
#include "dashboard/web_dir.h"
#include "gtest/gtest.h"

namespace moray::dashboard {
namespace {

rpc::AuthConfig Token(std::string token) {
  return {.mode = rpc::AuthMode::kToken, .token = std::move(token), .source = "test"};
}

TEST(BrowserSessionsTest, OpenedSessionsAreValidUntilClosedOrExpired) {
  BrowserSessions sessions;
  absl::Time now = absl::FromUnixSeconds(1000);
  std::string id = sessions.Open(now);
  EXPECT_EQ(id.size(), 64u);
  EXPECT_TRUE(sessions.Valid(id, now));
  EXPECT_FALSE(sessions.Valid(id, now + kSessionLifetime));
  EXPECT_FALSE(sessions.Valid("", now));
  EXPECT_FALSE(sessions.Valid(id.substr(1), now));
  EXPECT_NE(sessions.Open(now), id);
  sessions.Close(id);
  EXPECT_FALSE(sessions.Valid(id, now));
}

TEST(BrowserSessionsTest, KeepsAtMostMaxSessionsOldestForgottenFirst) {
  BrowserSessions sessions;
  absl::Time now = absl::FromUnixSeconds(1000);
  std::string first = sessions.Open(now);
  std::string last;
  for (size_t i = 0; i < kMaxSessions; ++i) last = sessions.Open(now);
  EXPECT_FALSE(sessions.Valid(first, now));
  EXPECT_TRUE(sessions.Valid(last, now));
}

TEST(BrowserSessionsTest, CookieHeaderParsingAndSetCookie) {
  EXPECT_EQ(CookieValue("a=1; moray_dashboard_session=abc ; b=2", kSessionCookie), "abc");
  EXPECT_EQ(CookieValue("moray_dashboard_sessionx=abc", kSessionCookie), "");
  EXPECT_EQ(CookieValue("", kSessionCookie), "");
  std::string set = SessionCookie("abc");
  EXPECT_NE(set.find("moray_dashboard_session=abc;"), std::string::npos);
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(SessionCookie("").find("Max-Age=0"), std::string::npos);
}

TEST(WebAccessTest, BearerCookieRedirectAndDeny) {
  BrowserSessions sessions;
  const auto auth = Token("secret");
  const std::string cookie = std::string(kSessionCookie) + "=" + sessions.Open();
  auto decide = [&](std::string_view method, std::string_view path, std::string_view bearer,
                    std::string_view cookie_header) {
    return DecideAccess(auth, sessions, {method, path, bearer, cookie_header});
  };
  EXPECT_EQ(decide("GET", "/api/v0/tasks", "Bearer secret", "").kind, AccessDecision::kAllow);
  EXPECT_EQ(decide("POST", "/api/jobs/", "Bearer secret", "").kind, AccessDecision::kAllow);
  auto wrong = decide("GET", "/api/v0/tasks", "Bearer nope", cookie);
  EXPECT_EQ(wrong.kind, AccessDecision::kDeny);  // a wrong token is not rescued by a cookie
  EXPECT_EQ(wrong.failure.http_status, 403);
  EXPECT_EQ(decide("GET", "/api/v0/tasks", "", cookie).kind, AccessDecision::kAllow);
  EXPECT_EQ(decide("GET", "/tasks.html", "", cookie).kind, AccessDecision::kAllow);
  EXPECT_EQ(decide("POST", "/logout", "", cookie).kind, AccessDecision::kAllow);
  auto post = decide("POST", "/api/jobs/", "", cookie);  // a cookie only reads
  EXPECT_EQ(post.kind, AccessDecision::kDeny);
  EXPECT_EQ(post.failure.http_status, 403);
  EXPECT_EQ(decide("GET", "/", "", "").kind, AccessDecision::kRedirectToLogin);
  EXPECT_EQ(decide("GET", "/tasks.html", "", "moray_dashboard_session=forged").kind,
            AccessDecision::kRedirectToLogin);
  auto api = decide("GET", "/api/v0/tasks", "", "");
  EXPECT_EQ(api.kind, AccessDecision::kDeny);
  EXPECT_EQ(api.failure.http_status, 401);
  EXPECT_EQ(decide("GET", "/login.html", "", "").kind, AccessDecision::kAllow);
  EXPECT_EQ(decide("POST", "/login", "", "").kind, AccessDecision::kAllow);
  EXPECT_EQ(decide("GET", "/app.js", "", "").kind, AccessDecision::kDeny);
  rpc::AuthConfig disabled{.mode = rpc::AuthMode::kDisabled};
  EXPECT_EQ(DecideAccess(disabled, sessions, {"POST", "/api/jobs/", "", ""}).kind,
            AccessDecision::kAllow);
}

TEST(WebAccessTest, NextStaysOnThisServer) {
  EXPECT_EQ(SafeNext("/tasks.html?x=1"), "/tasks.html?x=1");
  EXPECT_EQ(SafeNext(""), "/");
  EXPECT_EQ(SafeNext("//evil.example/"), "/");
  EXPECT_EQ(SafeNext("http://evil.example/"), "/");
  EXPECT_EQ(SafeNext("/\\evil.example"), "/");
  EXPECT_EQ(SafeNext("/a\r\nSet-Cookie: x"), "/");
}

TEST(WebDirTest, FoundBesideTheExecutablesBinDirectoryOrNamed) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("web_dir_test_" + std::to_string(getpid()));
  fs::create_directories(root / "bin");
  auto missing = WebDirOf((root / "bin" / "moray").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("share/moray/dashboard/index.html"), std::string::npos);
  fs::create_directories(root / "share" / "moray" / "dashboard");
  std::ofstream(root / "share" / "moray" / "dashboard" / "index.html") << "<html></html>";
  auto found = WebDirOf((root / "bin" / "moray").string());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, (fs::canonical(root) / "share" / "moray" / "dashboard").string());
  fs::remove_all(root);
}

}  // namespace
}  // namespace moray::dashboard
