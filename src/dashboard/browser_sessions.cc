#include "dashboard/browser_sessions.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rpc/auth.h"

namespace moray::dashboard {

std::string BrowserSessions::Open(absl::Time now) {
  std::string id = rpc::GenerateToken();
  absl::MutexLock lock(&mu_);
  while (!sessions_.empty() && sessions_.front().expires <= now) sessions_.pop_front();
  if (sessions_.size() >= kMaxSessions) sessions_.pop_front();
  sessions_.push_back({id, now + kSessionLifetime});
  return id;
}

bool BrowserSessions::Valid(std::string_view id, absl::Time now) const {
  if (id.empty()) return false;
  absl::MutexLock lock(&mu_);
  bool found = false;
  for (const auto& session : sessions_) {
    // Every entry is compared, so the time taken does not say which prefix matched.
    if (rpc::TokensEqual(id, session.id) && session.expires > now) found = true;
  }
  return found;
}

void BrowserSessions::Close(std::string_view id) {
  absl::MutexLock lock(&mu_);
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (rpc::TokensEqual(id, it->id)) {
      sessions_.erase(it);
      return;
    }
  }
}

std::string CookieValue(std::string_view cookie_header, std::string_view name) {
  const absl::string_view header(cookie_header.data(), cookie_header.size());
  const absl::string_view wanted(name.data(), name.size());
  for (absl::string_view part : absl::StrSplit(header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    size_t eq = part.find('=');
    if (eq == absl::string_view::npos) continue;
    if (absl::StripAsciiWhitespace(part.substr(0, eq)) == wanted) {
      return std::string(absl::StripAsciiWhitespace(part.substr(eq + 1)));
    }
  }
  return "";
}

std::string SessionCookie(std::string_view id) {
  if (id.empty()) {
    return absl::StrCat(kSessionCookie, "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  }
  return absl::StrCat(
      kSessionCookie, "=", absl::string_view(id.data(), id.size()),
      "; Path=/; HttpOnly; SameSite=Strict; Max-Age=", absl::ToInt64Seconds(kSessionLifetime));
}

}  // namespace moray::dashboard
