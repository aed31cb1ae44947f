// A server's methods, registered as typed handlers, and the one policy for frames that are not
// what a method expects (docs/wire.md).
//
//   rpc::Service service("raylet");
//   service.Unary<proto::RequestWorkerLeaseRequest, proto::RequestWorkerLeaseReply>(
//       proto::RAYLET_REQUEST_WORKER_LEASE, rpc::kCoreWorkers,
//       [this](const rpc::Peer& peer, proto::RequestWorkerLeaseRequest&& request,
//              rpc::Responder<proto::RequestWorkerLeaseReply> respond) {
//         ... respond(reply) now or later, or respond.Fail(absl::InvalidArgumentError(...)) ...
//       });
//   service.OneWay<proto::ReturnWorkerRequest>(proto::RAYLET_RETURN_WORKER, rpc::kCoreWorkers,
//       [this](const rpc::Peer& peer, proto::ReturnWorkerRequest&& request) { ... });
//   conn->SetHandlers([&](auto& c, rpc::Frame&& f) { service.Dispatch(c, std::move(f)); }, ...);
//
// The policy: a method this service does not have, a body that does not parse, or a method the
// peer's role may not call gets an error reply (InvalidArgument / Unimplemented /
// PermissionDenied) when it was a call; each kind is logged once per method per process; the
// connection stays up. (A frame over the size limit closes the connection in the channel.)
//
// Metrics: with EnableLatencyMetric, each dispatch of a registered method records how long its
// handler ran on the loop (two clock reads and three relaxed atomic adds on a series made at
// registration; a handler that answers later records only its synchronous part).
//
// Thread model: register every method (and enable the metric) before the first Dispatch; Dispatch
// runs on the connection's loop thread, and so do handlers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "metrics/metrics.h"
#include "rpc/channel.h"

namespace moray::rpc {

// The connection a frame came on, and who sent it.
struct Peer {
  const std::shared_ptr<Connection>& conn;
  proto::PeerRole role;
};

// Answers one call, now or later (copyable; answer once). A one-way frame (seq 0) has nothing to
// answer: responding does nothing.
template <typename Reply>
class Responder {
 public:
  Responder(std::shared_ptr<Connection> conn, Frame request)
      : conn_(std::move(conn)), method_(request.method), seq_(request.seq) {}
  void operator()(const Reply& reply) const {
    if (seq_ != 0) conn_->Reply(RequestHeader(), reply);
  }
  void Fail(const absl::Status& status) const {
    if (seq_ != 0) conn_->ReplyError(RequestHeader(), status);
  }
  // The reply followed by raw bytes (Connection::ReplyWithPayload; bulk data).
  void ReplyWithPayload(const Reply& reply, std::string_view payload) const {
    if (seq_ != 0) conn_->ReplyWithPayload(RequestHeader(), reply, payload);
  }
  // The reply, or the status when it is not OK.
  void operator()(const absl::StatusOr<Reply>& reply) const {
    if (reply.ok()) {
      (*this)(*reply);
    } else {
      Fail(reply.status());
    }
  }
  const std::shared_ptr<Connection>& connection() const { return conn_; }

 private:
  Frame RequestHeader() const {
    Frame header;
    header.method = method_;
    header.seq = seq_;
    return header;
  }
  std::shared_ptr<Connection> conn_;
  uint16_t method_;
  uint64_t seq_;
};

// Frames that come back on a connection this process opened (a pool's, say) carry no role: the
// peer is the one this process chose to call. Methods served on such connections (replies pushed
// back, like task replies) accept this.
inline constexpr Roles kCalledPeer = RoleBit(proto::ROLE_UNKNOWN);

// Whether `status`, how a call on `conn` failed, is the connection's failure (it closed, or never
// opened, so the request or its answer was lost) rather than an error reply from the peer (the
// peer answered; the connection stays up). Call it from the call's callback.
inline bool IsConnectionFailure(const Connection& conn, const absl::Status& status) {
  return !status.ok() && conn.closed() && conn.close_status() == status;
}

class Service {
 public:
  using RawHandler = std::function<void(const Peer&, Frame&&)>;

  explicit Service(std::string name) : name_(std::move(name)) {}

  // A call answered through the Responder.
  template <typename Request, typename Reply>
  void Unary(uint16_t method, Roles roles,
             std::function<void(const Peer&, Request&&, Responder<Reply>)> handler) {
    Add(method, roles, [this, handler = std::move(handler)](const Peer& peer, Frame&& frame) {
      Request request;
      if (!Parse(peer, frame, &request)) return;
      handler(peer, std::move(request), Responder<Reply>(peer.conn, std::move(frame)));
    });
  }
  // A call answered at once: the reply, or the handler's error status.
  template <typename Request, typename Reply>
  void Sync(uint16_t method, Roles roles,
            std::function<absl::Status(const Peer&, const Request&, Reply*)> handler) {
    Add(method, roles, [this, handler = std::move(handler)](const Peer& peer, Frame&& frame) {
      Request request;
      if (!Parse(peer, frame, &request)) return;
      Reply reply;
      absl::Status status = handler(peer, request, &reply);
      if (frame.seq == 0) return;
      if (status.ok()) {
        peer.conn->Reply(frame, reply);
      } else {
        peer.conn->ReplyError(frame, status);
      }
    });
  }
  // A one-way message.
  template <typename Request>
  void OneWay(uint16_t method, Roles roles, std::function<void(const Peer&, Request&&)> handler) {
    Add(method, roles, [this, handler = std::move(handler)](const Peer& peer, Frame&& frame) {
      Request request;
      if (!Parse(peer, frame, &request)) return;
      handler(peer, std::move(request));
    });
  }
  // The frame as it came (bodies parsed on an arena, raw payloads); the handler parses it and
  // answers a malformed one with Malformed().
  void Raw(uint16_t method, Roles roles, RawHandler handler) {
    Add(method, roles, std::move(handler));
  }

  // The single entry point for a connection's frames.
  void Dispatch(const std::shared_ptr<Connection>& conn, Frame&& frame);
  // Applies the malformed-body policy to `frame` (for Raw handlers).
  void Malformed(const Peer& peer, const Frame& frame, const absl::Status& status);

  const std::string& name() const { return name_; }

  // Records each method's handler time in `latency` (milliseconds; labels Method, the name
  // `method_name` gives, and Component, this service's name). `latency` must outlive the service.
  void EnableLatencyMetric(metrics::Histogram* latency,
                           std::function<std::string(uint16_t)> method_name);
  // The family of EnableLatencyMetric: `name` is Ray's moray_grpc_server_req_process_time_ms
  // for the raylet; the GCS uses moray_gcs_server_req_process_time_ms, so the head's endpoint,
  // which carries both, has each family once.
  static metrics::Histogram& LatencyFamily(
      metrics::Registry* registry,
      const std::string& name = "moray_grpc_server_req_process_time_ms");

 private:
  struct Method {
    Roles roles;
    RawHandler handler;
    metrics::HistogramCell* latency = nullptr;
  };
  void Add(uint16_t method, Roles roles, RawHandler handler);
  template <typename Request>
  bool Parse(const Peer& peer, const Frame& frame, Request* request) {
    absl::Status parsed = frame.ParseBody(request);
    if (parsed.ok()) return true;
    Malformed(peer, frame, parsed);
    return false;
  }
  // Error reply (for a call) and one log line per (method, kind).
  void Refuse(const Peer& peer, const Frame& frame, const absl::Status& status, int kind);

  const std::string name_;
  std::unordered_map<uint16_t, Method> methods_;
  metrics::Histogram* latency_ = nullptr;
  std::function<std::string(uint16_t)> method_name_;
};

}  // namespace moray::rpc
