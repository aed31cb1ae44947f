// The layer above the channel: handshake (token, version, role), error statuses, services' bad
// frame policy, non-blocking connects and the connection pool. Real sockets on loopback.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

#include "gtest/gtest.h"
#include "raylet.pb.h"
#include "worker.pb.h"
#include "transfer.pb.h"
#include "rpc/channel.h"
#include "rpc/connection_pool.h"
#include "rpc/handshake.h"
#include "rpc/service.h"
#include "rpc/testing/loopback.h"

namespace moray::rpc {
namespace {

// Runs `fn` on `loop` and waits for it (with a deadline).
template <typename F>
void OnLoop(EventLoop* loop, F fn) {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  loop->Post([&] {
    fn();
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
}

// The status a call ends with (waits up to 10 s).
class CallResult {
 public:
  Connection::ReplyCallback Callback() {
    return [this](absl::Status status, Frame&& frame) {
      std::lock_guard<std::mutex> lock(mutex_);
      status_ = std::move(status);
      frame_ = std::move(frame);
      done_ = true;
      cv_.notify_all();
    };
  }
  absl::Status Wait(std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return done_; })) {
      return absl::DeadlineExceededError("the test's wait ran out");
    }
    return status_;
  }
  Frame frame() {
    std::lock_guard<std::mutex> lock(mutex_);
    return frame_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  absl::Status status_;
  Frame frame_;
};

// A server whose service answers GET_OBJECT (any member) and FREE_OBJECTS (the GCS only).
class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_ = ProcessAuth();
    server_loop_.StartThread("server");
    client_loop_.StartThread("client");
    service_.Sync<proto::GetObjectRequest, proto::GetObjectReply>(
        proto::WORKER_GET_OBJECT, kAnyMember,
        [](const Peer&, const proto::GetObjectRequest& request, proto::GetObjectReply* reply) {
          if (request.object_id() == "fail") return absl::NotFoundError("no object 'fail'");
          return absl::OkStatus();
        });
    service_.Sync<proto::FreeObjectsRequest, proto::BorrowerReply>(
        proto::TRANSFER_FREE_OBJECTS, RoleBit(proto::ROLE_GCS),
        [](const Peer&, const proto::FreeObjectsRequest&, proto::BorrowerReply* reply) {
          return absl::OkStatus();
        });
    Listen(kAnyMember);
  }
  void TearDown() override {
    SetProcessAuth(auth_);
    SetVersionForTesting("");
    OnLoop(&server_loop_, [this] {
      server_.reset();
      for (auto& c : accepted_) c->Close();
      accepted_.clear();
    });
    server_loop_.Stop();
    client_loop_.Stop();
  }
  void Listen(Roles roles, absl::Duration hello_timeout = absl::Seconds(10)) {
    OnLoop(&server_loop_, [&] {
      server_.reset();
      auto server = Server::Listen(
          &server_loop_, "127.0.0.1", 0,
          [this](std::shared_ptr<Connection> c) {
            accepted_.push_back(c);
            c->SetHandlers([this](const std::shared_ptr<Connection>& conn,
                                  Frame&& frame) { service_.Dispatch(conn, std::move(frame)); },
                           nullptr);
          },
          roles, hello_timeout);
      ASSERT_TRUE(server.ok()) << server.status();
      server_ = std::move(*server);
    });
  }
  std::shared_ptr<Connection> Connect() {
    auto conn = Connection::Connect(&client_loop_, "127.0.0.1", server_->port(), absl::Seconds(5));
    EXPECT_TRUE(conn.ok()) << conn.status();
    (*conn)->SetHandlers([](const std::shared_ptr<Connection>&, Frame&&) {}, nullptr);
    return *conn;
  }
  absl::Status Get(const std::shared_ptr<Connection>& conn, const std::string& id = "x") {
    proto::GetObjectRequest request;
    request.set_object_id(id);
    CallResult result;
    conn->Call(proto::WORKER_GET_OBJECT, request, result.Callback());
    return result.Wait();
  }

  AuthConfig auth_;  // this process's, restored after each test
  EventLoop server_loop_;
  EventLoop client_loop_;
  Service service_{"test"};
  std::unique_ptr<Server> server_;                       // server loop
  std::vector<std::shared_ptr<Connection>> accepted_;    // server loop
};

TEST_F(WireTest, TheRightTokenIsServedAndAnErrorReplyCarriesItsStatus) {
  auto conn = Connect();
  EXPECT_TRUE(Get(conn).ok());
  absl::Status failed = Get(conn, "fail");
  EXPECT_EQ(failed.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(failed.message(), "no object 'fail'");
  EXPECT_TRUE(Get(conn).ok()) << "an error reply leaves the connection up";
}

TEST_F(WireTest, AWrongTokenIsRefusedAndTheCallSaysSoWithoutTheToken) {
  SetProcessAuth({AuthMode::kToken, "not-the-cluster-token", "test"});
  auto conn = Connect();
  absl::Status status = Get(conn);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_NE(status.message().find("not this cluster's"), std::string::npos) << status;
  EXPECT_EQ(status.message().find("not-the-cluster-token"), std::string::npos) << status;
  EXPECT_EQ(status.message().find(auth_.token), std::string::npos) << status;
  EXPECT_EQ(conn->close_status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(WireTest, NoTokenIsRefused) {
  SetProcessAuth({AuthMode::kToken, "", "test"});
  absl::Status status = Get(Connect());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_NE(status.message().find("sent no auth token"), std::string::npos) << status;
}

TEST_F(WireTest, AnotherVersionIsRefusedNamingBoth) {
  SetVersionForTesting("0.0.1-other");
  absl::Status status = Get(Connect());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("0.0.1-other"), std::string::npos) << status;
  EXPECT_NE(status.message().find(std::string(MorayVersion())), std::string::npos) << status;
}

TEST_F(WireTest, APortRefusesARoleItDoesNotServe) {
  Listen(RoleBit(proto::ROLE_RAYLET));
  absl::Status status = Get(Connect());  // this process is a driver
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
}

TEST_F(WireTest, DisabledAuthServesAPeerWithoutToken) {
  SetProcessAuth({AuthMode::kDisabled, "", ""});
  Listen(kAnyMember);  // the server takes the identity it has when it listens
  EXPECT_TRUE(Get(Connect()).ok());
}

TEST_F(WireTest, GarbageIsRefusedAndNeverDispatched) {
  int fd = testing::ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  // A well-formed frame header for GET_OBJECT, before any Hello.
  char frame[16] = {0};
  frame[4] = static_cast<char>(proto::WORKER_GET_OBJECT);
  frame[8] = 1;
  ASSERT_EQ(write(fd, frame, sizeof(frame)), 16);
  // The server answers with an error reply and closes: read until EOF.
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) got.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_EQ(n, 0) << "the server closes the connection";
  EXPECT_NE(got.find("not a Moray handshake"), std::string::npos);
}

TEST_F(WireTest, APeerThatNeverSaysHelloIsDropped) {
  Listen(kAnyMember, absl::Milliseconds(200));
  int fd = testing::ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  char buf[64];
  EXPECT_EQ(read(fd, buf, sizeof(buf)), 0) << "the server closes the silent connection";
  close(fd);
}

TEST_F(WireTest, ServicePolicyUnknownMalformedAndRoleRefusedCallsGetErrorsAndTheConnectionStays) {
  auto conn = Connect();
  CallResult unknown;
  conn->Call(proto::WORKER_PUSH_TASKS, proto::PushTasksRequest(), unknown.Callback());
  EXPECT_EQ(unknown.Wait().code(), absl::StatusCode::kUnimplemented);

  // A body that does not parse as GetObjectRequest: its field 2 (an Address) made of bytes
  // whose first tag has field number 0. RpcStatus's field 2 is a string, so it carries them.
  proto::RpcStatus garbage;
  garbage.set_message(std::string("\0\0", 2));
  CallResult malformed;
  conn->Call(proto::WORKER_GET_OBJECT, garbage, malformed.Callback());
  absl::Status bad = malformed.Wait();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_NE(bad.message().find("malformed request"), std::string::npos) << bad;

  CallResult role;
  conn->Call(proto::TRANSFER_FREE_OBJECTS, proto::FreeObjectsRequest(), role.Callback());
  EXPECT_EQ(role.Wait().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Get(conn).ok()) << "refusals leave the connection up";
}

TEST_F(WireTest, AConnectThePeerNeverAnswersDoesNotBlockTheLoop) {
  testing::HangingPort hanging;
  ASSERT_NE(hanging.port(), 0);
  std::shared_ptr<Connection> conn;
  OnLoop(&client_loop_, [&] {
    auto c = Connection::Connect(&client_loop_, "127.0.0.1", hanging.port(),
                                 absl::Milliseconds(1500));
    ASSERT_TRUE(c.ok()) << c.status();
    conn = *c;
    conn->SetHandlers([](const std::shared_ptr<Connection>&, Frame&&) {}, nullptr);
  });
  CallResult call;
  conn->Call(proto::WORKER_GET_OBJECT, proto::GetObjectRequest(), call.Callback());
  // While the connect hangs, the loop runs other work.
  for (int i = 0; i < 20; ++i) OnLoop(&client_loop_, [] {});
  absl::Status status = call.Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_NE(status.message().find("timed out connecting to 127.0.0.1:"), std::string::npos);
}

TEST_F(WireTest, ThePoolSharesOneConnectionTellsItsUsersWhenItClosesAndBacksOff) {
  ConnectionPool pool(&client_loop_, nullptr);
  Endpoint endpoint{"127.0.0.1", server_->port()};
  std::shared_ptr<Connection> first;
  std::shared_ptr<Connection> second;
  OnLoop(&client_loop_, [&] {
    first = *pool.Get(endpoint);
    second = *pool.Get(endpoint);
  });
  EXPECT_EQ(first, second);
  EXPECT_TRUE(Get(first).ok());
  std::mutex mutex;
  std::condition_variable cv;
  absl::Status why;
  bool told = false;
  OnLoop(&client_loop_, [&] {
    pool.OnClose(endpoint, [&](const absl::Status& status) {
      std::lock_guard<std::mutex> lock(mutex);
      why = status;
      told = true;
      cv.notify_all();
    });
  });
  OnLoop(&server_loop_, [&] {
    for (auto& c : accepted_) c->Close();
  });
  {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return told; }));
    EXPECT_EQ(why.code(), absl::StatusCode::kUnavailable) << why;
  }
  // A new Get reconnects; after the server is gone, a failed connect backs off.
  OnLoop(&client_loop_, [&] { EXPECT_NE(*pool.Get(endpoint), first); });
  OnLoop(&server_loop_, [&] {
    server_.reset();
    for (auto& c : accepted_) c->Close();
  });
  absl::Status refused;
  // The first failure is the connect itself (at once or from the loop); the next Get, within
  // the back-off, does not try again.
  for (int attempt = 0; attempt < 100; ++attempt) {
    absl::StatusOr<std::shared_ptr<Connection>> got;
    OnLoop(&client_loop_, [&] { got = pool.Get(endpoint); });
    if (!got.ok()) {
      refused = got.status();
      break;
    }
    Get(*got);  // fails; the pool records it
  }
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  absl::StatusOr<std::shared_ptr<Connection>> again;
  OnLoop(&client_loop_, [&] { again = pool.Get(endpoint); });
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("not trying 127.0.0.1:"), std::string::npos)
      << again.status();
}

TEST(BackoffTest, GrowsToItsCapWithJitter) {
  Backoff backoff({absl::Milliseconds(100), absl::Seconds(1), 2.0});
  absl::Duration first = backoff.Next();
  EXPECT_GE(first, absl::Milliseconds(80));
  EXPECT_LE(first, absl::Milliseconds(120));
  for (int i = 0; i < 10; ++i) backoff.Next();
  absl::Duration capped = backoff.Next();
  EXPECT_GE(capped, absl::Milliseconds(800));
  EXPECT_LE(capped, absl::Milliseconds(1200));
  backoff.Reset();
  EXPECT_LE(backoff.Next(), absl::Milliseconds(120));
}

}  // namespace
}  // namespace moray::rpc
