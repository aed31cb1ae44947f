#include "dashboard/web_access.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace moray::dashboard {
namespace {

bool IsPublic(std::string_view path) {
  return path == "/login" || path == "/login.html" || path == "/login.js" || path == "/style.css" ||
         path == "/favicon.ico";
}

bool IsPage(std::string_view path) { return path == "/" || path.ends_with(".html"); }

// The value of field `name` in the request's query or its form body
// (application/x-www-form-urlencoded), decoded.
std::string FormValue(const httplib::Request& req, const std::string& name) {
  if (req.has_param(name.c_str())) return req.get_param_value(name.c_str());
  for (absl::string_view pair : absl::StrSplit(req.body, '&')) {
    size_t eq = pair.find('=');
    if (eq == absl::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string out;
    absl::string_view value = pair.substr(eq + 1);
    for (size_t i = 0; i < value.size(); ++i) {
      int hi = 0, lo = 0;
      if (value[i] == '+') {
        out += ' ';
      } else if (value[i] == '%' && i + 2 < value.size() && absl::ascii_isxdigit(value[i + 1]) &&
                 absl::ascii_isxdigit(value[i + 2])) {
        hi = absl::ascii_isdigit(value[i + 1]) ? value[i + 1] - '0'
                                               : absl::ascii_tolower(value[i + 1]) - 'a' + 10;
        lo = absl::ascii_isdigit(value[i + 2]) ? value[i + 2] - '0'
                                               : absl::ascii_tolower(value[i + 2]) - 'a' + 10;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        out += value[i];
      }
    }
    return out;
  }
  return "";
}

bool Reads(std::string_view method) { return method == "GET" || method == "HEAD"; }

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

void Redirect(httplib::Response& res, const std::string& location) {
  res.status = 303;
  res.set_header("Location", location);
}

// A cross-site form post to /login would log the victim's browser into this dashboard; a
// browser names the posting page's origin, which must be this server.
bool SameOrigin(const httplib::Request& req) {
  if (!req.has_header("Origin")) return true;
  std::string origin = req.get_header_value("Origin");
  std::string host = req.get_header_value("Host");
  return origin == "http://" + host;
}

}  // namespace

AccessDecision DecideAccess(const rpc::AuthConfig& auth, const BrowserSessions& sessions,
                            const AccessRequest& request) {
  if (auth.mode == rpc::AuthMode::kDisabled || IsPublic(request.path)) return {};
  if (!request.authorization.empty()) {
    if (auto failure = CheckBearer(auth, request.authorization)) {
      return {AccessDecision::kDeny, *failure};
    }
    return {};
  }
  if (sessions.Valid(CookieValue(request.cookie, kSessionCookie))) {
    if (Reads(request.method) || request.path == "/logout") return {};
    return {AccessDecision::kDeny,
            {403,
             "a dashboard login only reads; changing something needs 'Authorization: Bearer "
             "<token>' (`moray get-auth-token` prints it)"}};
  }
  if (Reads(request.method) && IsPage(request.path)) return {AccessDecision::kRedirectToLogin};
  return {AccessDecision::kDeny, *CheckBearer(auth, "")};
}

std::string SafeNext(std::string_view next) {
  if (next.empty() || next[0] != '/' || next.starts_with("//") ||
      next.find('\\') != std::string_view::npos || next.find("://") != std::string_view::npos) {
    return "/";
  }
  for (char c : next) {
    if (static_cast<unsigned char>(c) < 0x20) return "/";
  }
  return std::string(next);
}

void InstallWebAccess(httplib::Server& server, const rpc::AuthConfig& auth,
                      BrowserSessions& sessions) {
  server.set_default_headers({
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "same-origin"},  // "no-referrer" would make Origin "null"
      {"Cache-Control", "no-store"},
      {"Content-Security-Policy",
       "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"},
  });
  server.set_pre_routing_handler([&auth, &sessions](const httplib::Request& req,
                                                    httplib::Response& res) {
    AccessDecision decision = DecideAccess(auth, sessions,
                                           {.method = req.method,
                                            .path = req.path,
                                            .authorization = req.get_header_value("Authorization"),
                                            .cookie = req.get_header_value("Cookie")});
    switch (decision.kind) {
      case AccessDecision::kAllow:
        return httplib::Server::HandlerResponse::Unhandled;
      case AccessDecision::kRedirectToLogin:
        Redirect(res, "/login.html?next=" + UrlEncode(req.path));
        return httplib::Server::HandlerResponse::Handled;
      case AccessDecision::kDeny:
        break;
    }
    res.status = decision.failure.http_status;
    res.set_content(nlohmann::json{{"error", decision.failure.message}}.dump(), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) {
    res.status = 204;  // none; asked by every browser
  });
  server.Get("/login", [&auth](const httplib::Request& req, httplib::Response& res) {
    if (auth.mode == rpc::AuthMode::kDisabled) return Redirect(res, "/");
    Redirect(res, "/login.html?next=" + UrlEncode(SafeNext(FormValue(req, "next"))));
  });
  server.Post("/login", [&auth, &sessions](const httplib::Request& req, httplib::Response& res) {
    const std::string next = SafeNext(FormValue(req, "next"));
    if (auth.mode == rpc::AuthMode::kDisabled) return Redirect(res, next);
    if (!SameOrigin(req)) {
      res.status = 403;
      res.set_content(
          nlohmann::json{{"error", "a login must come from this dashboard's page"}}.dump(),
          "application/json");
      return;
    }
    const std::string token = FormValue(req, "token");
    if (token.empty() || CheckBearer(auth, "Bearer " + token)) {
      return Redirect(res, "/login.html?error=1&next=" + UrlEncode(next));
    }
    res.set_header("Set-Cookie", SessionCookie(sessions.Open()));
    Redirect(res, next);
  });
  server.Post("/logout", [&sessions](const httplib::Request& req, httplib::Response& res) {
    sessions.Close(CookieValue(req.get_header_value("Cookie"), kSessionCookie));
    res.set_header("Set-Cookie", SessionCookie(""));
    Redirect(res, "/login.html");
  });
}

}  // namespace moray::dashboard
