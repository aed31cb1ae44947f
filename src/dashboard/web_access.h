// Who may reach what on the dashboard's HTTP server, and the login/logout routes.
//
// A request passes with a valid `Authorization: Bearer <cluster token>` (any method, as the Jobs
// API always took it), or with a browser session cookie (browser_sessions.h) for reading
// (GET/HEAD) and POST /logout. The login page and its style/script are public. Anything else is
// refused: a page (`/`, `*.html`) is redirected to the login page; the API answers 401/403 with a
// JSON error (http_auth.h). With RAY_AUTH_MODE=disabled everything passes and /login goes to `/`.
//
//   InstallWebAccess(server, auth, sessions);   // pre-routing check + POST /login, /logout
#pragma once

#include <string>
#include <string_view>

#include "dashboard/browser_sessions.h"
#include "httplib.h"
#include "rpc/auth.h"
#include "rpc/http_auth.h"

namespace moray::dashboard {

using rpc::AuthFailure;
using rpc::CheckBearer;

struct AccessDecision {
  enum Kind { kAllow, kRedirectToLogin, kDeny } kind = kAllow;
  AuthFailure failure;  // kDeny
};

struct AccessRequest {
  std::string_view method;
  std::string_view path;
  std::string_view authorization;  // header value, "" if absent
  std::string_view cookie;         // header value, "" if absent
};

AccessDecision DecideAccess(const rpc::AuthConfig& auth, const BrowserSessions& sessions,
                            const AccessRequest& request);

// Where a login may send the browser afterwards: `next` if it is a path on this server ("/x",
// never "//host" or a URL), else "/".
std::string SafeNext(std::string_view next);

// The pre-routing access check, the security headers of every answer, and the routes
// POST /login (form fields token, next), GET /login, POST /logout.
void InstallWebAccess(httplib::Server& server, const rpc::AuthConfig& auth,
                      BrowserSessions& sessions);

}  // namespace moray::dashboard
