// Connections to peers, one per endpoint, shared by every part of a component that talks to that
// peer; and the one back-off policy for reconnects (docs/wire.md).
//
//   rpc::ConnectionPool pool(&loop, &service);        // service: frames peers send back
//   auto conn = pool.Get(rpc::Endpoint{"10.0.0.2", 7001});
//   if (!conn.ok()) { ... the endpoint is backing off after a failed connect ... }
//   (*conn)->Call(method, request, callback);         // fails with the close status if it closes
//   pool.OnClose(endpoint, [](const absl::Status& why) { ... });
//
// Thread model: a pool belongs to one loop; every method runs on that loop's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/address.h"
#include "rpc/channel.h"
#include "rpc/service.h"

namespace moray::rpc {

// Exponential back-off with ±20% jitter: initial, ×multiplier per failure, capped at max.
class Backoff {
 public:
  struct Options {
    absl::Duration initial = absl::Milliseconds(100);
    absl::Duration max = absl::Seconds(5);
    double multiplier = 2.0;
  };
  Backoff() = default;
  explicit Backoff(Options options) : options_(options) {}
  // The wait before the next attempt; each call lengthens the next.
  absl::Duration Next();
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  Options options_;
  int failures_ = 0;
};

class ConnectionPool {
 public:
  using CloseCallback = std::function<void(const absl::Status& why)>;
  struct Options {
    absl::Duration connect_timeout = absl::Seconds(5);
    Backoff::Options backoff;
  };

  // `service` (borrowed, may be null) handles the frames peers send on pooled connections.
  ConnectionPool(EventLoop* loop, Service* service, Options options);
  ConnectionPool(EventLoop* loop, Service* service) : ConnectionPool(loop, service, Options()) {}
  ~ConnectionPool();  // closes every pooled connection
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // The open (or opening) connection to `endpoint`, or a new one. Unavailable without trying
  // while the endpoint backs off after a failed connect (the message says why and for how long).
  absl::StatusOr<std::shared_ptr<Connection>> Get(const Endpoint& endpoint);
  // Runs `on_close` once, when the pooled connection to `endpoint` closes, with why. Returns an id
  // for CancelOnClose; 0 (and `on_close` runs at once with NotFound) if none is pooled.
  uint64_t OnClose(const Endpoint& endpoint, CloseCallback on_close);
  void CancelOnClose(const Endpoint& endpoint, uint64_t id);
  // Closes the pooled connection to `endpoint`, if any (its close callbacks run).
  void Close(const Endpoint& endpoint);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::shared_ptr<Connection> conn;
    std::map<uint64_t, CloseCallback> on_close;
  };
  struct Failures {
    Backoff backoff;
    absl::Time retry_at;
    absl::Status last;
  };
  void OnClosed(const Endpoint& endpoint, const std::shared_ptr<Connection>& conn);

  EventLoop* const loop_;
  Service* const service_;
  const Options options_;
  std::unordered_map<Endpoint, Entry, absl::Hash<Endpoint>> entries_;
  std::unordered_map<Endpoint, Failures, absl::Hash<Endpoint>> failures_;
  uint64_t next_id_ = 1;
  // Callbacks of connections that outlive the pool check this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace moray::rpc
