// `moray get-auth-token [--generate]`: the cluster token of this user, for copying to another
// machine (a driver or a node joining from there). The only place Moray ever prints a token.
//
// stdout is the bare token alone, so `$(moray get-auth-token)` is the token; everything else goes
// to stderr. Without a token it fails (exit 1) naming every place it looked.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "rpc/auth.h"

namespace moray::cli {
namespace {

int RunGetAuthToken(bool generate) {
  bool created = false;
  // Whatever RAY_AUTH_MODE says: the token is shown (or made) even while auth is disabled.
  absl::StatusOr<rpc::AuthConfig> auth =
      generate ? rpc::EnsureAuthTokenFile(&created) : rpc::LoadAuthToken();
  if (!auth.ok()) {
    std::cerr << "moray get-auth-token: " << auth.status().message() << "\n";
    return 1;
  }
  if (created) {
    std::cerr << "Created a cluster auth token in " << auth->source << " (mode 0600).\n";
  } else if (generate) {
    std::cerr << "A cluster auth token exists already (" << auth->source
              << "); printing it instead of generating another.\n";
  }
  if (auto mode = rpc::LoadAuthConfig(); mode.ok() && mode->mode == rpc::AuthMode::kDisabled) {
    std::cerr << "Note: authentication is disabled here (RAY_AUTH_MODE=disabled).\n";
  }
  std::cout << auth->token << std::endl;
  return 0;
}

}  // namespace

void AddAuthCommands(CLI::App& app) {
  auto generate = std::make_shared<bool>(false);
  auto* get = app.add_subcommand(
      "get-auth-token", "Print the cluster auth token of this user (RAY_AUTH_TOKEN, "
                        "RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token)");
  get->add_flag("--generate", *generate,
                "Create ~/.ray/auth_token (0600) with a new random token if no source has one");
  get->callback([generate] { std::exit(RunGetAuthToken(*generate)); });
}

}  // namespace moray::cli
