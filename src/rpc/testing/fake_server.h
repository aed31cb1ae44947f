// For tests of components that talk to peers: an in-process server on loopback whose
// connections go to an rpc::Service the test builds (a fake raylet, worker, GCS), and two waits.
//
//   rpc::EventLoop fakes;  fakes.StartThread("fakes");
//   rpc::Service service("fake raylet");  service.Unary<...>(...);
//   FakeServer server(&fakes, &service);   // server.port(); server.CloseConnections();
//
// Thread model: the server and its handlers run on `loop`'s thread; CloseConnections and the
// destructor may be called from any thread (they wait for the loop).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"

namespace moray::rpc::testing {

// Runs `fn` on `loop`'s thread and waits for it (at once when called there).
inline void OnLoop(EventLoop* loop, const std::function<void()>& fn) {
  if (loop->InLoopThread()) {
    fn();
    return;
  }
  absl::Notification done;
  loop->Post([&] {
    fn();
    done.Notify();
  });
  done.WaitForNotification();
}

// Polls `condition` until it holds or `timeout` passes.
inline bool WaitUntil(const std::function<bool()>& condition,
                      absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

// A server on 127.0.0.1 (any free port) whose connections go to `service`; it remembers them so
// that a test can drop them all at once.
class FakeServer {
 public:
  FakeServer(EventLoop* loop, Service* service) : loop_(loop), service_(service) {
    OnLoop(loop_, [this] {
      auto server = Server::Listen(loop_, "127.0.0.1", 0,
                                        [this](std::shared_ptr<Connection> conn) {
                                          accepted_.push_back(conn);
                                          conn->SetHandlers(
                                              [this](const std::shared_ptr<Connection>& c,
                                                     Frame&& frame) {
                                                service_->Dispatch(c, std::move(frame));
                                              },
                                              nullptr);
                                        });
      if (server.ok()) server_ = std::move(*server);
    });
  }
  ~FakeServer() {
    OnLoop(loop_, [this] {
      server_.reset();
      for (auto& conn : accepted_) conn->Close();
      accepted_.clear();
    });
  }
  int port() const { return server_ ? server_->port() : 0; }
  // Drops every connection accepted so far (the peer crashed, or the network cut them).
  void CloseConnections() {
    OnLoop(loop_, [this] {
      for (auto& conn : accepted_) conn->Close();
      accepted_.clear();
    });
  }

 private:
  EventLoop* const loop_;
  Service* const service_;
  std::unique_ptr<Server> server_;                  // loop thread
  std::vector<std::shared_ptr<Connection>> accepted_;  // loop thread
};

}  // namespace moray::rpc::testing
