// GcsClient::Connect against a GCS that answers slowly: a loaded machine can take hundreds of
// milliseconds to accept a connection and answer its handshake (Hello) and first call, which must
// not read as "no GCS" while the caller's timeout lasts.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gcs/gcs_client.h"
#include "gcs/gcs_server.h"
#include "gtest/gtest.h"

namespace moray::gcs {
namespace {

// A TCP relay on loopback that holds each new connection for `delay` before it starts passing
// bytes to `upstream_port` and back: a peer whose handshake is slow.
class SlowRelay {
 public:
  SlowRelay(int upstream_port, std::chrono::milliseconds delay)
      : upstream_port_(upstream_port), delay_(delay) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~SlowRelay() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (auto& t : pumps_) t.join();
    close(listen_fd_);
  }
  int port() const { return port_; }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      pumps_.emplace_back([this, client] { Pump(client); });
    }
  }
  void Pump(int client) {
    std::this_thread::sleep_for(delay_);  // the slowness this relay stands for
    int upstream = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      char buf[16384];
      bool open = true;
      while (open && !stop_) {
        if (poll(fds, 2, 50) <= 0) continue;
        for (int i = 0; i < 2 && open; ++i) {
          if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          ssize_t n = read(fds[i].fd, buf, sizeof(buf));
          open = n > 0 && write(fds[1 - i].fd, buf, n) == n;
        }
      }
    }
    close(upstream);
    close(client);
  }

  const int upstream_port_;
  const std::chrono::milliseconds delay_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> pumps_;  // acceptor thread only, joined after it
};

TEST(GcsClientTest, ConnectWaitsForASlowHandshake) {
  GcsServer server({.host = "127.0.0.1", .port = 0, .max_task_records = 10});
  ASSERT_TRUE(server.Start().ok());
  // Well beyond the 100 ms that the gRPC client was once told a connection attempt may take: only
  // the caller's timeout bounds the first contact.
  SlowRelay relay(server.port(), std::chrono::milliseconds(600));
  ASSERT_GT(relay.port(), 0);
  auto client = GcsClient::Connect("127.0.0.1:" + std::to_string(relay.port()), absl::Seconds(20));
  ASSERT_TRUE(client.ok()) << client.status();
  auto nodes = (*client)->GetAllNodes();
  EXPECT_TRUE(nodes.ok()) << nodes.status();
}

}  // namespace
}  // namespace moray::gcs
