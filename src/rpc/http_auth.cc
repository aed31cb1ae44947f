#include "rpc/http_auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace moray::rpc {

std::optional<AuthFailure> CheckBearer(const rpc::AuthConfig& auth,
                                       std::string_view authorization) {
  if (auth.mode == rpc::AuthMode::kDisabled) return std::nullopt;
  constexpr absl::string_view kScheme = "Bearer ";
  const absl::string_view header(authorization.data(), authorization.size());
  if (!absl::StartsWithIgnoreCase(header, kScheme)) {
    return AuthFailure{401,
                       "this Moray endpoint needs the cluster's auth token: send "
                       "'Authorization: Bearer <token>' (`moray get-auth-token` prints it)"};
  }
  const absl::string_view token = absl::StripAsciiWhitespace(header.substr(kScheme.size()));
  if (!rpc::TokensEqual(std::string_view(token.data(), token.size()), auth.token)) {
    return AuthFailure{403, "the auth token does not match this cluster's"};
  }
  return std::nullopt;
}

}  // namespace moray::rpc
