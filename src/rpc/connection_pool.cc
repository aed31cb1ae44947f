#include "rpc/connection_pool.h"

#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace moray::rpc {

absl::Duration Backoff::Next() {
  double scale = 1.0;
  for (int i = 0; i < failures_ && scale * absl::ToDoubleSeconds(options_.initial) <
                                       absl::ToDoubleSeconds(options_.max);
       ++i) {
    scale *= options_.multiplier;
  }
  ++failures_;
  absl::Duration wait = std::min(options_.initial * scale, options_.max);
  thread_local std::minstd_rand random(std::random_device{}());
  const double jitter = 0.8 + 0.4 * (static_cast<double>(random() % 1000) / 1000.0);
  return wait * jitter;
}

ConnectionPool::ConnectionPool(EventLoop* loop, Service* service, Options options)
    : loop_(loop), service_(service), options_(options) {}

ConnectionPool::~ConnectionPool() {
  *alive_ = false;
  for (auto& [endpoint, entry] : entries_) entry.conn->Close();
}

absl::StatusOr<std::shared_ptr<Connection>> ConnectionPool::Get(const Endpoint& endpoint) {
  auto it = entries_.find(endpoint);
  if (it != entries_.end()) {
    if (!it->second.conn->closed()) return it->second.conn;
    // Closed, and its close handler has not run yet (Get from a failed call's callback, which
    // runs first): its users are told now, not when a new connection closes.
    OnClosed(endpoint, it->second.conn);
  }
  auto failed = failures_.find(endpoint);
  const absl::Time now = absl::Now();
  if (failed != failures_.end() && now < failed->second.retry_at) {
    return absl::UnavailableError(absl::StrCat(
        failed->second.last.message(), " (not trying ", endpoint.ToString(), " again for ",
        absl::FormatDuration(absl::Trunc(failed->second.retry_at - now, absl::Milliseconds(1))),
        ")"));
  }
  auto conn = Connection::Connect(loop_, endpoint.ip, endpoint.port, options_.connect_timeout);
  if (!conn.ok()) {
    Failures& f = failures_[endpoint];
    f.last = conn.status();
    f.retry_at = now + f.backoff.Next();
    return conn.status();
  }
  std::shared_ptr<Connection> connection = *conn;
  entries_[endpoint].conn = connection;
  std::weak_ptr<bool> alive = alive_;
  Service* service = service_;
  connection->SetHandlers(
      [service](const std::shared_ptr<Connection>& c, Frame&& frame) {
        if (service != nullptr) {
          service->Dispatch(c, std::move(frame));
        } else if (frame.seq != 0) {
          c->ReplyError(frame, absl::UnimplementedError("this peer serves no calls"));
        }
      },
      [this, alive, endpoint](const std::shared_ptr<Connection>& c) {
        if (alive.lock() && *alive.lock()) OnClosed(endpoint, c);
      });
  return connection;
}

void ConnectionPool::OnClosed(const Endpoint& endpoint, const std::shared_ptr<Connection>& conn) {
  auto it = entries_.find(endpoint);
  if (it == entries_.end() || it->second.conn != conn) return;
  const absl::Status why = conn->close_status();
  if (conn->ever_connected()) {
    failures_.erase(endpoint);
  } else {
    Failures& f = failures_[endpoint];
    f.last = why;
    f.retry_at = absl::Now() + f.backoff.Next();
  }
  auto callbacks = std::move(it->second.on_close);
  entries_.erase(it);
  for (auto& [id, callback] : callbacks) callback(why);
}

uint64_t ConnectionPool::OnClose(const Endpoint& endpoint, CloseCallback on_close) {
  auto it = entries_.find(endpoint);
  if (it == entries_.end()) {
    on_close(absl::NotFoundError(absl::StrCat("no connection to ", endpoint.ToString())));
    return 0;
  }
  uint64_t id = next_id_++;
  it->second.on_close.emplace(id, std::move(on_close));
  return id;
}

void ConnectionPool::CancelOnClose(const Endpoint& endpoint, uint64_t id) {
  auto it = entries_.find(endpoint);
  if (it != entries_.end()) it->second.on_close.erase(id);
}

void ConnectionPool::Close(const Endpoint& endpoint) {
  auto it = entries_.find(endpoint);
  if (it != entries_.end()) it->second.conn->Close();
}

}  // namespace moray::rpc
