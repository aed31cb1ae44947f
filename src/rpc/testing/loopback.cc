#include "rpc/testing/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace moray::rpc::testing {
namespace {
sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}
}  // namespace

int ListenLoopback(int backlog, int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(fd, backlog) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

int ConnectLoopback(int port, absl::Duration read_timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval timeout = absl::ToTimeval(read_timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr = Loopback(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int UnusedLoopbackPort() {
  int port = 0;
  int fd = ListenLoopback(1, &port);
  if (fd < 0) return 0;
  close(fd);
  return port;
}

HangingPort::HangingPort() {
  int port = 0;
  listener_ = ListenLoopback(0, &port);
  if (listener_ < 0) return;
  // Fill the queue: once full, further SYNs are dropped and connects stay in progress.
  sockaddr_in addr = Loopback(port);
  for (int& filler : fillers_) {
    filler = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    connect(filler, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  port_ = port;
}

HangingPort::~HangingPort() {
  for (int filler : fillers_) {
    if (filler >= 0) close(filler);
  }
  if (listener_ >= 0) close(listener_);
}

}  // namespace moray::rpc::testing
