// HTTP authentication (the dashboard, the nodes' /metrics endpoints): every request carries the
// cluster token (rpc/auth.h) as `Authorization: Bearer <token>`. Without the header (or another
// scheme) the answer is 401, with a wrong token 403; the body is JSON {"error": "..."} and never
// shows a token. Comparison is constant-time (rpc::TokensEqual). With RAY_AUTH_MODE=disabled
// nothing is checked.
//
//   if (auto failure = CheckBearer(auth, req.get_header_value("Authorization"))) {
//     res.status = failure->http_status; ...
//   }
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rpc/auth.h"

namespace moray::rpc {

struct AuthFailure {
  int http_status = 401;  // 401 or 403
  std::string message;
};

// `authorization`: the header's value ("" when absent). nullopt: allowed.
std::optional<AuthFailure> CheckBearer(const AuthConfig& auth, std::string_view authorization);

}  // namespace moray::rpc
