// The handshake every TCP connection of the framed channel starts with (docs/wire.md): the
// connecting side sends Hello {version, token, role} as its first frame; the accepting side checks
// them before it dispatches anything else, and refuses (error reply, then close) a peer of another
// version, without the cluster's token, or in a role the port does not accept.
//
//   rpc::SetProcessAuth(*rpc::LoadAuthConfig());   // rpc/auth.h: the token and the mode
//   rpc::SetProcessRole(proto::ROLE_RAYLET);        // what this process is
//
// Thread model: a process's composition root sets both before it connects or listens;
// GetLocalIdentity() returns a copy and is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rpc.pb.h"
#include "rpc/auth.h"

namespace moray::rpc {

// The frame method of Hello (reserved by the channel; no proto Method uses it).
inline constexpr uint16_t kHelloMethod = 0xFFFF;

// The Moray version this binary was built as (CMake's project version).
std::string_view MorayVersion();

// What this process says about itself in a Hello, and what it demands of peers.
struct LocalIdentity {
  proto::PeerRole role = proto::ROLE_UNKNOWN;
  std::string token;           // sent in every Hello; checked against peers' when require_token
  bool require_token = true;   // token mode: a peer without the matching token is refused
  std::string version = std::string(MorayVersion());
};
void SetProcessRole(proto::PeerRole role);
// The process's role, ProcessAuth()'s token and mode, and the version.
LocalIdentity GetLocalIdentity();
// Tests: Hellos of this process claim `version` from now on ("" restores the real one).
void SetVersionForTesting(std::string version);

// A set of roles (bit 1 << role). kAnyMember: every role but unknown.
using Roles = uint32_t;
constexpr Roles RoleBit(proto::PeerRole role) { return Roles{1} << static_cast<int>(role); }
inline constexpr Roles kAnyMember = RoleBit(proto::ROLE_DRIVER) | RoleBit(proto::ROLE_WORKER) |
                                    RoleBit(proto::ROLE_RAYLET) | RoleBit(proto::ROLE_GCS) |
                                    RoleBit(proto::ROLE_CLI);
inline constexpr Roles kCoreWorkers = RoleBit(proto::ROLE_DRIVER) | RoleBit(proto::ROLE_WORKER);
const char* RoleName(proto::PeerRole role);

// The accepting side's check of a Hello, against `local` (the identity the server was started
// with) and the roles its port accepts. OK, or the status the refusal carries: Unauthenticated
// (no token / wrong token), FailedPrecondition (another version, naming both), PermissionDenied
// (a role this port does not serve). Messages never contain a token.
absl::Status CheckHello(const proto::Hello& hello, const LocalIdentity& local, Roles accepted,
                        const std::string& peer);

}  // namespace moray::rpc
