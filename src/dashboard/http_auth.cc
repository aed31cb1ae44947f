#include "dashboard/http_auth.h"

#include <cctype>

namespace moray::dashboard {
namespace {

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::optional<AuthFailure> CheckBearer(const rpc::AuthConfig& auth,
                                       std::string_view authorization) {
  if (auth.mode == rpc::AuthMode::kDisabled) return std::nullopt;
  constexpr std::string_view kScheme = "Bearer ";
  if (!StartsWithIgnoreCase(authorization, kScheme)) {
    return AuthFailure{401,
                       "this Moray dashboard needs the cluster's auth token: send "
                       "'Authorization: Bearer <token>' (`moray get-auth-token` prints it)"};
  }
  if (!rpc::TokensEqual(Trim(authorization.substr(kScheme.size())), auth.token)) {
    return AuthFailure{403, "the auth token does not match this cluster's"};
  }
  return std::nullopt;
}

}  // namespace moray::dashboard
