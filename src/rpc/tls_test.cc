// Mutual TLS on the framed channel (rpc/tls.h), with a throwaway CA made by the test. The process
// context is built once from the environment, so this binary turns TLS on before its first
// connection and keeps it on.
#include "rpc/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "rpc/auth.h"
#include "rpc/channel.h"
#include "rpc/service.h"
#include "rpc/testing/loopback.h"
#include "rpc/testing/test_certs.h"
#include "tests/scoped_env.h"
#include "worker.pb.h"

namespace moray::rpc {
namespace {

using testing::ConnectLoopback;

// A TCP relay that records what the client sends: proof of what crosses the wire.
class Relay {
 public:
  explicit Relay(int target_port) : target_port_(target_port) {
    listen_fd_ = testing::ListenLoopback(4, &port_);
    thread_ = std::thread([this] { Run(); });
  }
  ~Relay() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }
  int port() const { return port_; }
  std::string sent() {
    std::lock_guard<std::mutex> lock(mutex_);
    return sent_;
  }

 private:
  void Run() {
    pollfd accept_poll{listen_fd_, POLLIN, 0};
    while (!stop_ && poll(&accept_poll, 1, 50) == 0) {
    }
    if (stop_) return;
    int client = accept(listen_fd_, nullptr, nullptr);
    int server = ConnectLoopback(target_port_);
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    char buf[65536];
    while (!stop_) {
      if (poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof(buf));
        if (n <= 0) {
          stop_ = true;
          break;
        }
        if (i == 0) {
          std::lock_guard<std::mutex> lock(mutex_);
          sent_.append(buf, static_cast<size_t>(n));
        }
        int to = i == 0 ? server : client;
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(to, buf + off, static_cast<size_t>(n - off));
          if (w <= 0) break;
          off += w;
        }
      }
    }
    close(client);
    close(server);
  }
  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::string sent_;
};

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char dir[] = "/tmp/moray_tls_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = new std::string(dir);
    auto ours = testing::MakeTestCerts(*dir_, "ours");
    ASSERT_TRUE(ours.ok()) << ours.status();
    auto theirs = testing::MakeTestCerts(*dir_, "theirs");
    ASSERT_TRUE(theirs.ok()) << theirs.status();
    ours_ = new testing::TestCerts(*ours);
    theirs_ = new testing::TestCerts(*theirs);
    testing::UseTlsEnvironment(*ours_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
  }
  void SetUp() override {
    ASSERT_NE(ours_, nullptr);
    server_loop_.StartThread("server");
    client_loop_.StartThread("client");
    service_.Sync<proto::GetObjectRequest, proto::GetObjectReply>(
        proto::WORKER_GET_OBJECT, kAnyMember,
        [this](const Peer&, const proto::GetObjectRequest& request, proto::GetObjectReply* reply) {
          ++served_;
          reply->mutable_object()->set_data("echo:" + request.object_id());
          return absl::OkStatus();
        });
    std::mutex mutex;
    std::condition_variable cv;
    bool listening = false;
    server_loop_.Post([&] {
      auto server = Server::Listen(&server_loop_, "127.0.0.1", 0, [this](std::shared_ptr<Connection> c) {
        accepted_.push_back(c);
        c->SetHandlers([this](const std::shared_ptr<Connection>& conn,
                              Frame&& frame) { service_.Dispatch(conn, std::move(frame)); },
                       nullptr);
      });
      EXPECT_TRUE(server.ok()) << server.status();
      if (server.ok()) server_ = std::move(*server);
      std::lock_guard<std::mutex> lock(mutex);
      listening = true;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return listening; }));
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    server_loop_.Post([this] {
      server_.reset();
      for (auto& c : accepted_) c->Close();
      accepted_.clear();
    });
    server_loop_.Stop();
    client_loop_.Stop();
  }
  // Calls GET_OBJECT on `port` `count` times; the replies' data, or the first error.
  absl::StatusOr<std::vector<std::string>> Calls(int port, int count, size_t id_size = 8) {
    auto conn = Connection::Connect(&client_loop_, "127.0.0.1", port, absl::Seconds(5));
    if (!conn.ok()) return conn.status();
    (*conn)->SetHandlers([](const std::shared_ptr<Connection>&, Frame&&) {}, nullptr);
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::string> replies(count);
    absl::Status error;
    int done = 0;
    for (int i = 0; i < count; ++i) {
      proto::GetObjectRequest request;
      request.set_object_id(std::to_string(i) + std::string(id_size, 'q'));
      (*conn)->Call(proto::WORKER_GET_OBJECT, request, [&, i](absl::Status status, Frame&& frame) {
        proto::GetObjectReply reply;
        std::lock_guard<std::mutex> lock(mutex);
        if (!status.ok()) {
          error = status;
        } else if (frame.ParseBody(&reply).ok()) {
          replies[i] = reply.object().data();
        }
        ++done;
        cv.notify_all();
      });
    }
    std::unique_lock<std::mutex> lock(mutex);
    if (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == count; })) {
      return absl::DeadlineExceededError("no replies");
    }
    if (!error.ok()) return error;
    return replies;
  }

  static std::string* dir_;
  static testing::TestCerts* ours_;
  static testing::TestCerts* theirs_;
  EventLoop server_loop_;
  EventLoop client_loop_;
  Service service_{"tls-test"};
  std::unique_ptr<Server> server_;
  std::vector<std::shared_ptr<Connection>> accepted_;
  std::atomic<int> served_{0};
};
std::string* TlsTest::dir_ = nullptr;
testing::TestCerts* TlsTest::ours_ = nullptr;
testing::TestCerts* TlsTest::theirs_ = nullptr;

TEST_F(TlsTest, CallsRunOverTlsAndNothingCrossesTheWireInClear) {
  Relay relay(server_->port());
  // Many small frames and a few of several MiB (read straight into place by the channel).
  auto small = Calls(relay.port(), 300);
  ASSERT_TRUE(small.ok()) << small.status();
  for (int i = 0; i < 300; ++i) EXPECT_EQ((*small)[i], "echo:" + std::to_string(i) + "qqqqqqqq");
  const std::string sent = relay.sent();
  EXPECT_GT(sent.size(), 300u * 8);
  EXPECT_EQ(sent.find(ProcessAuth().token), std::string::npos) << "the token crossed in clear";
  EXPECT_EQ(sent.find("qqqqqqqq"), std::string::npos) << "a request crossed in clear";
  auto large = Calls(server_->port(), 3, 5 << 20);
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_EQ((*large)[2].size(), 5u + 1 + (5u << 20));
}

TEST_F(TlsTest, APlaintextPeerIsRefusedBeforeAnythingIsServed) {
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  // A Moray frame header in clear (a client without RAY_USE_TLS would start with its Hello).
  char frame[16] = {0};
  frame[4] = static_cast<char>(0xFF);
  frame[5] = static_cast<char>(0xFF);
  ASSERT_EQ(write(fd, frame, sizeof(frame)), 16);
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
  }
  close(fd);
  EXPECT_LE(n, 0) << "the server closes the connection";
  EXPECT_EQ(served_.load(), 0);
}

TEST_F(TlsTest, ACertificateFromAnotherCaIsRefused) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_use_certificate_chain_file(ctx, theirs_->node_cert.c_str()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey_file(ctx, theirs_->node_key.c_str(), SSL_FILETYPE_PEM), 1);
  int fd = ConnectLoopback(server_->port());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  // TLS 1.3 reports the server's refusal of our certificate at the first read.
  int handshake = SSL_connect(ssl);
  int read_result = 0;
  if (handshake == 1) {
    SSL_write(ssl, "x", 1);
    char buf[16];
    read_result = SSL_read(ssl, buf, sizeof(buf));
  }
  EXPECT_TRUE(handshake != 1 || read_result <= 0) << "the server served a foreign certificate";
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  EXPECT_EQ(served_.load(), 0);
}

TEST(TlsConfigTest, BadSettingsAreNamed) {
  moray::testing::ScopedEnv use("RAY_USE_TLS", "maybe");
  moray::testing::ScopedEnv key("RAY_TLS_SERVER_KEY", std::nullopt);
  auto bad = LoadTlsConfig();
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'maybe'"), std::string::npos);
  setenv("RAY_USE_TLS", "1", 1);
  auto missing = LoadTlsConfig();
  EXPECT_NE(missing.status().message().find("RAY_TLS_SERVER_KEY is not set"), std::string::npos)
      << missing.status();
  setenv("RAY_USE_TLS", "0", 1);
  auto off = LoadTlsConfig();
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled);
}

}  // namespace
}  // namespace moray::rpc
