// Browser logins to the dashboard. A browser cannot send `Authorization: Bearer` when it
// navigates, so the login page posts the cluster token once (POST /login) and gets back a cookie
// naming a session: a fresh random id (rpc::GenerateToken), never the token itself, HttpOnly,
// SameSite=Strict, Path=/, valid for kSessionLifetime. Sessions live in the dashboard's memory
// (a restarted dashboard asks again); at most kMaxSessions, the oldest forgotten first.
//
// A cookie only reads: requests that change something (POST/PUT/DELETE of the Jobs API) still
// need the Bearer header, because SameSite does not tell ports apart — another page served from
// the same host could otherwise make the browser submit a job.
//
//   BrowserSessions sessions;
//   std::string id = sessions.Open();                      // after the token checked out
//   res.set_header("Set-Cookie", SessionCookie(id));
//   bool ok = sessions.Valid(CookieValue(req.get_header_value("Cookie"), kSessionCookie));
#pragma once

#include <deque>
#include <string>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace moray::dashboard {

inline constexpr char kSessionCookie[] = "moray_dashboard_session";
inline constexpr absl::Duration kSessionLifetime = absl::Hours(12);
inline constexpr size_t kMaxSessions = 256;

class BrowserSessions {
 public:
  // A new session id, valid until now + kSessionLifetime.
  std::string Open(absl::Time now = absl::Now());
  // Whether `id` names an open, unexpired session (constant-time per comparison).
  bool Valid(std::string_view id, absl::Time now = absl::Now()) const;
  // Forgets `id` (logout); unknown ids are ignored.
  void Close(std::string_view id);

 private:
  struct Session {
    std::string id;
    absl::Time expires;
  };
  mutable absl::Mutex mu_;
  std::deque<Session> sessions_ ABSL_GUARDED_BY(mu_);  // oldest first
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "" if absent.
std::string CookieValue(std::string_view cookie_header, std::string_view name);

// The Set-Cookie value that stores `id`; with an empty id, one that deletes the cookie.
std::string SessionCookie(std::string_view id);

}  // namespace moray::dashboard
