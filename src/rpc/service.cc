#include "rpc/service.h"

#include <chrono>
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
  if (latency_ != nullptr) {
    methods_[method].latency = latency_->Series({method_name_(method), name_});
  }
}

void Service::EnableLatencyMetric(metrics::Histogram* latency,
                                  std::function<std::string(uint16_t)> method_name) {
  latency_ = latency;
  method_name_ = std::move(method_name);
  for (auto& [number, method] : methods_) {
    method.latency = latency_->Series({method_name_(number), name_});
  }
}

metrics::Histogram& Service::LatencyFamily(metrics::Registry* registry, const std::string& name) {
  static const auto* bounds =
      new std::vector<double>{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000};
  return registry->AddHistogram(
      name, "Time a framed-channel method's handler ran on its event loop, in milliseconds.",
      {"Method", "Component"}, *bounds);
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
  metrics::HistogramCell* latency = it->second.latency;
  if (latency == nullptr) {
    it->second.handler(peer, std::move(frame));
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  it->second.handler(peer, std::move(frame));
  latency->Observe(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
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
