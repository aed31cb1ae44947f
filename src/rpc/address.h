// Addresses of cluster members, as types: an Endpoint is where a peer listens (the one key of a
// connection, rpc::ConnectionPool); an Address is an Endpoint plus who listens there (a worker or
// a raylet, with its node). proto::Address is their form in messages; text ("ip:port") only at the
// edges (flags, logs, serialized references).
//
//   rpc::Address owner = rpc::Address::FromProto(ref.owner());
//   pool->Get(owner.endpoint);
//   owner.ToProto(reply.mutable_owner());
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "common.pb.h"
#include "common/id.h"

namespace moray::rpc {

// Where a peer listens: an IPv4 address and a port.
struct Endpoint {
  std::string ip;
  int port = 0;

  // "ip:port".
  static absl::StatusOr<Endpoint> Parse(std::string_view address);
  std::string ToString() const;
  bool empty() const { return ip.empty() && port == 0; }
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  bool operator<(const Endpoint& other) const {
    return port != other.port ? port < other.port : ip < other.ip;
  }
  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(std::move(h), e.ip, e.port);
  }
};

// A worker (or driver) or a raylet: where it listens and who it is.
struct Address {
  Endpoint endpoint;
  NodeId node_id;
  WorkerId worker_id;  // nil for a raylet

  static Address FromProto(const proto::Address& address);
  void ToProto(proto::Address* out) const;
  proto::Address ToProto() const;
  bool empty() const { return endpoint.empty() && node_id.IsNil() && worker_id.IsNil(); }

  // "ip:port:worker_hex" — how references carry their owner inside serialized values.
  std::string ToString() const;
  static std::optional<Address> Parse(std::string_view text);

  friend bool operator==(const Address&, const Address&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Address& a) {
    return H::combine(std::move(h), a.endpoint, a.node_id, a.worker_id);
  }
};

// Where a core worker or raylet listens, from its message.
inline Endpoint EndpointOf(const proto::Address& address) {
  return Endpoint{address.ip(), address.port()};
}

}  // namespace moray::rpc
