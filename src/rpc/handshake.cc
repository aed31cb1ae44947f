#include "rpc/handshake.h"

#include <atomic>
#include <mutex>

#include "absl/strings/str_cat.h"

#ifndef MORAY_VERSION
#error "MORAY_VERSION is set by src/rpc/CMakeLists.txt"
#endif

namespace moray::rpc {
namespace {
std::atomic<proto::PeerRole> process_role{proto::ROLE_UNKNOWN};
std::mutex version_mutex;
std::string& TestVersion() {
  static auto* version = new std::string();
  return *version;
}
}  // namespace

std::string_view MorayVersion() { return MORAY_VERSION; }

void SetProcessRole(proto::PeerRole role) { process_role.store(role); }

void SetVersionForTesting(std::string version) {
  std::lock_guard<std::mutex> lock(version_mutex);
  TestVersion() = std::move(version);
}

LocalIdentity GetLocalIdentity() {
  LocalIdentity identity;
  identity.role = process_role.load();
  const AuthConfig& auth = ProcessAuth();
  identity.require_token = auth.mode == AuthMode::kToken;
  identity.token = auth.token;
  std::lock_guard<std::mutex> lock(version_mutex);
  if (!TestVersion().empty()) identity.version = TestVersion();
  return identity;
}

const char* RoleName(proto::PeerRole role) {
  switch (role) {
    case proto::ROLE_DRIVER: return "driver";
    case proto::ROLE_WORKER: return "worker";
    case proto::ROLE_RAYLET: return "raylet";
    case proto::ROLE_GCS: return "GCS";
    case proto::ROLE_CLI: return "CLI";
    default: return "unknown peer";
  }
}

absl::Status CheckHello(const proto::Hello& hello, const LocalIdentity& local, Roles accepted,
                        const std::string& peer) {
  if (hello.version() != local.version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version mismatch: this ", RoleName(local.role), " runs Moray ", local.version,
        " and the ", RoleName(hello.role()), " at ", peer, " runs Moray ",
        hello.version().empty() ? "(no version)" : hello.version(),
        "; every process of a cluster must run the same Moray version"));
  }
  if (local.require_token) {
    if (hello.token().empty()) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the ", RoleName(hello.role()), " at ", peer,
          " sent no auth token, and this cluster requires one (RAY_AUTH_MODE=token): set "
          "RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH, or use the token in ~/.ray/auth_token of the "
          "user who started the cluster"));
    }
    if (!TokensEqual(hello.token(), local.token)) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the ", RoleName(hello.role()), " at ", peer,
          " sent an auth token that is not this cluster's (the token is wrong or from another "
          "cluster)"));
    }
  }
  if ((accepted & RoleBit(hello.role())) == 0) {
    return absl::PermissionDeniedError(absl::StrCat("this port does not serve a ",
                                                    RoleName(hello.role()), " (peer ", peer, ")"));
  }
  return absl::OkStatus();
}

}  // namespace moray::rpc
