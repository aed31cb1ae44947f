#include "rpc/service.h"

#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace moray::rpc {
namespace {
enum Kind { kUnknownMethod = 0, kMalformed = 1, kRoleRefused = 2 };

// True the first time (service, method, kind) is seen in this process.
bool FirstTime(const std::string& service, uint16_t method, int kind) {
  static std::mutex mutex;
  static auto* seen = new std::set<std::tuple<std::string, uint16_t, int>>();
  std::lock_guard<std::mutex> lock(mutex);
  return seen->emplace(service, method, kind).second;
}
}  // namespace

void Service::Add(uint16_t method, Roles roles, RawHandler handler) {
  methods_[method] = Method{roles, std::move(handler)};
}

void Service::Dispatch(const std::shared_ptr<Connection>& conn, Frame&& frame) {
  Peer peer{conn, conn->peer_role()};
  auto it = methods_.find(frame.method);
  if (it == methods_.end()) {
    Refuse(peer, frame,
           absl::UnimplementedError(absl::StrCat("the ", name_, " service has no method ",
                                                 frame.method)),
           kUnknownMethod);
    return;
  }
  // Unix-socket peers (no handshake) are local to the node and pass.
  if (!conn->unix_socket() && (it->second.roles & RoleBit(peer.role)) == 0) {
    Refuse(peer, frame,
           absl::PermissionDeniedError(absl::StrCat("a ", RoleName(peer.role),
                                                    " may not call method ", frame.method,
                                                    " of the ", name_, " service")),
           kRoleRefused);
    return;
  }
  it->second.handler(peer, std::move(frame));
}

void Service::Malformed(const Peer& peer, const Frame& frame, const absl::Status& status) {
  Refuse(peer, frame,
         absl::InvalidArgumentError(absl::StrCat("malformed request for method ", frame.method,
                                                 " of the ", name_, " service: ",
                                                 status.message())),
         kMalformed);
}

void Service::Refuse(const Peer& peer, const Frame& frame, const absl::Status& status, int kind) {
  if (FirstTime(name_, frame.method, kind)) {
    spdlog::warn("{} (from {} at {}; further ones are not logged)", std::string(status.message()),
                 RoleName(peer.role), peer.conn->peer());
  }
  if (frame.seq != 0) peer.conn->ReplyError(frame, status);
}

}  // namespace moray::rpc
