// Plain loopback sockets for tests of the wire: a listener, a blocking client that gives up
// instead of hanging, a port whose connects hang, and a port nothing listens on.
#pragma once

#include "absl/time/time.h"

namespace moray::rpc::testing {

// A blocking listening socket on 127.0.0.1 (any free port, written to `port`); -1 on failure.
int ListenLoopback(int backlog, int* port);

// A blocking client socket connected to 127.0.0.1:`port` whose reads give up after
// `read_timeout` (a test fails rather than hangs); -1 if the connect fails.
int ConnectLoopback(int port, absl::Duration read_timeout = absl::Seconds(10));

// A port that was free a moment ago (bound, then closed): connects to it are refused.
int UnusedLoopbackPort();

// A port whose connects hang: its listener's accept queue (backlog 0) is full, so the kernel
// drops every further SYN, as a host that drops packets would — all on loopback.
class HangingPort {
 public:
  HangingPort();
  ~HangingPort();
  HangingPort(const HangingPort&) = delete;
  HangingPort& operator=(const HangingPort&) = delete;
  int port() const { return port_; }  // 0 if it could not be set up

 private:
  int listener_ = -1;
  int fillers_[4] = {-1, -1, -1, -1};
  int port_ = 0;
};

}  // namespace moray::rpc::testing
