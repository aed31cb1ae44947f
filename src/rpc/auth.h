// The cluster's authentication token: where a process finds it, how a cluster gets one, and the
// one the process presents (the channel's HELLO carries it; docs/wire.md, "Handshake").
//
// Ray's model and names. RAY_AUTH_MODE is `token` (the default) or `disabled`. In token mode every
// process of a cluster holds the same secret, found in this order:
//   1. RAY_AUTH_TOKEN        the token itself
//   2. RAY_AUTH_TOKEN_PATH   a file holding it
//   3. ~/.ray/auth_token     ($HOME), written 0600 by `moray start --head`, by the embedded cluster
//                            of ray::Init(), or by `moray get-auth-token --generate`
// Services and workers receive the token in their environment (AuthEnvironment), never in argv.
// The token's value is never logged or printed, except by `moray get-auth-token`.
//
//   // main() of a process that joins a cluster:
//   absl::StatusOr<AuthConfig> auth = LoadAuthConfig();
//   if (!auth.ok()) { /* print auth.status().message(), exit 1 */ }
//   SetProcessAuth(*auth);
//   // a starter of services:
//   absl::StatusOr<AuthConfig> auth = EnsureAuthToken(&created);   // may create ~/.ray/auth_token
//   child_env = AuthEnvironment(*auth);
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace moray::rpc {

enum class AuthMode { kToken, kDisabled };

struct AuthConfig {
  AuthMode mode = AuthMode::kToken;
  std::string token;   // empty when disabled
  std::string source;  // where the token came from, for messages: "RAY_AUTH_TOKEN", a file path,
                       // "generated"; never the token
};

// "token" or "disabled".
std::string_view AuthModeName(AuthMode mode);

// The process's configuration from its environment. Errors (none names a token's value):
//   InvalidArgument  RAY_AUTH_MODE is neither token nor disabled (case-insensitive; unset or
//                    empty means token); a source that is set but empty after trimming (an
//                    empty RAY_AUTH_TOKEN, or a file holding only whitespace)
//   NotFound         token mode and no source holds a token; the message names every place
//                    searched and how to create one. Also RAY_AUTH_TOKEN_PATH naming a file that
//                    does not exist.
//   other codes      a token file that exists but cannot be read (the message names the file
//                    and the errno text)
// The token is trimmed of whitespace at both ends. Disabled mode reads no source.
[[nodiscard]] absl::StatusOr<AuthConfig> LoadAuthConfig();

// The token from its sources whatever RAY_AUTH_MODE says (mode kToken in the result), with
// LoadAuthConfig's errors; for `moray get-auth-token`, which shows a token even while
// authentication is disabled.
[[nodiscard]] absl::StatusOr<AuthConfig> LoadAuthToken();

// 256 random bits from getrandom(2) (/dev/urandom if the kernel has no getrandom) as 64
// lowercase hex characters. Aborts the process if the system has no source of randomness at all:
// there is no safe token to return then.
std::string GenerateToken();

// $HOME/.ray/auth_token; the password database's home directory when HOME is unset or empty.
std::string DefaultTokenPath();

// For `moray start --head` and the embedded cluster of ray::Init(): in token mode, the token
// LoadAuthConfig finds, or, when no source has one, a new token written to DefaultTokenPath() and
// the config loaded back from that file (`*created` set). The directory is created 0700 if
// missing; the file is written to a 0600 temporary in that directory and hard-linked into place,
// so it is never partial and never readable by others, and a file another process put there in
// the meantime is kept (two racing starters end with one token). In disabled mode: the disabled
// config, nothing written. Errors: LoadAuthConfig's other than "no source" (a set but missing
// RAY_AUTH_TOKEN_PATH is an error, not a place to write), and failures to write (naming the path).
[[nodiscard]] absl::StatusOr<AuthConfig> EnsureAuthToken(bool* created = nullptr);

// EnsureAuthToken whatever RAY_AUTH_MODE says, for `moray get-auth-token --generate`.
[[nodiscard]] absl::StatusOr<AuthConfig> EnsureAuthTokenFile(bool* created = nullptr);

// Constant-time equality: the time depends only on the two lengths, never on where they differ.
bool TokensEqual(std::string_view a, std::string_view b);

// The process's auth, set by its composition root (the `moray` command that runs, the service
// commands gcs-server and raylet, ray::Init for a driver, RunWorkerProcess for a worker) before it
// connects anywhere, and read by the channel's handshake. Setting it again replaces it (ray::Init
// after ray::Shutdown); a reference returned earlier stays valid (the old config is kept). Until
// the first SetProcessAuth it is token mode with an empty token, which authenticates nowhere.
// Thread-safe.
void SetProcessAuth(AuthConfig config);
const AuthConfig& ProcessAuth();

// The environment for a service or worker process started by this one, so that it uses `config`
// without reading sources again: RAY_AUTH_MODE, and in token mode RAY_AUTH_TOKEN. Put it in the
// child's environment, never in argv, and never log it.
std::vector<std::pair<std::string, std::string>> AuthEnvironment(const AuthConfig& config);

}  // namespace moray::rpc
