#include "rpc/channel.h"

#include <condition_variable>
#include <mutex>
#include <vector>

#include "gtest/gtest.h"
#include "worker.pb.h"

namespace moray::rpc {
namespace {

// Waits for a condition set by loop callbacks, with a deadline.
class Latch {
 public:
  void Set() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++count_;
    cv_.notify_all();
  }
  bool WaitFor(int count, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_loop_.StartThread("server");
    client_loop_.StartThread("client");
    auto server = Server::Listen(&server_loop_, "127.0.0.1", 0, [this](std::shared_ptr<Connection> c) {
      server_conns_.push_back(c);
      c->SetHandlers(
          [this](const std::shared_ptr<Connection>& conn, Frame&& frame) {
            if (frame.method == proto::WORKER_GET_OBJECT) {
              proto::GetObjectRequest request;
              ASSERT_TRUE(frame.ParseBody(&request).ok());
              if (request.object_id() == "no-reply") {  // left pending: the test closes
                held_latch_.Set();
                return;
              }
              proto::GetObjectReply reply;
              if (request.object_id().rfind("payload:", 0) == 0) {
                // Raw bytes after the reply: as many as asked, a pattern.
                std::string payload(std::stoul(request.object_id().substr(8)), '\0');
                for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
                conn->ReplyWithPayload(frame, reply, payload);
                return;
              }
              reply.mutable_object()->set_data("echo:" + request.object_id());
              conn->Reply(frame, reply);
            } else if (frame.method == proto::WORKER_PUSH_TASKS) {
              proto::PushTasksRequest push;
              ASSERT_TRUE(frame.ParseBody(&push).ok());
              std::lock_guard<std::mutex> lock(mutex_);
              for (const auto& t : push.tasks()) received_.push_back(t.name());
              received_latch_.Set();
            }
          },
          [this](const std::shared_ptr<Connection>&) { closed_latch_.Set(); });
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_loop_.Post([this] { server_conns_.clear(); });
    server_loop_.Stop();
    client_loop_.Stop();
  }

  EventLoop server_loop_;
  EventLoop client_loop_;
  std::unique_ptr<Server> server_;
  std::vector<std::shared_ptr<Connection>> server_conns_;  // server loop only
  std::mutex mutex_;
  std::vector<std::string> received_;
  Latch received_latch_;
  Latch closed_latch_;
  Latch held_latch_;  // the server received a "no-reply" request
};

TEST_F(ChannelTest, CallGetsItsReply) {
  auto conn = Connection::Connect(&client_loop_, "127.0.0.1", server_->port(), absl::Seconds(5));
  ASSERT_TRUE(conn.ok()) << conn.status();
  (*conn)->SetHandlers([](const std::shared_ptr<Connection>&, Frame&&) {}, nullptr);
  Latch done;
  std::vector<std::string> replies(100);
  for (int i = 0; i < 100; ++i) {
    proto::GetObjectRequest request;
    request.set_object_id(std::to_string(i));
    (*conn)->Call(proto::WORKER_GET_OBJECT, request, [&, i](absl::Status status, Frame&& frame) {
      ASSERT_TRUE(status.ok());
      proto::GetObjectReply reply;
      ASSERT_TRUE(frame.ParseBody(&reply).ok());
      replies[i] = reply.object().data();
      done.Set();
    });
  }
  ASSERT_TRUE(done.WaitFor(100));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(replies[i], "echo:" + std::to_string(i));
}

TEST_F(ChannelTest, OneWayMessagesArriveInOrderAcrossLargeFrames) {
  auto conn = Connection::Connect(&client_loop_, "127.0.0.1", server_->port(), absl::Seconds(5));
  ASSERT_TRUE(conn.ok());
  (*conn)->SetHandlers([](const std::shared_ptr<Connection>&, Frame&&) {}, nullptr);
  const int kMessages = 2000;
  for (int i = 0; i < kMessages; ++i) {
    proto::PushTasksRequest push;
    auto* task = push.add_tasks();
    task->set_name(std::to_string(i));
    if (i % 500 == 0) task->set_function_name(std::string(3 << 20, 'x'));  // a 3 MiB frame
    (*conn)->Send(proto::WORKER_PUSH_TASKS, push);
  }
  ASSERT_TRUE(received_latch_.WaitFor(kMessages, std::chrono::seconds(30)));
  std::lock_guard<std::mutex> lock(mutex_);
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(received_[i], std::to_string(i));
}

TEST_F(ChannelTest, RepliesWithRawPayloadsOfEverySizeArriveIntact) {
  auto conn = Connection::Connect(&client_loop_, "127.0.0.1", server_->port(), absl::Seconds(5));
  ASSERT_TRUE(conn.ok());
  (*conn)->SetHandlers([](const std::shared_ptr<Connection>&, Frame&&) {}, nullptr);
  // Small ones (through the buffer) and large ones (read straight into place), interleaved.
  const std::vector<size_t> sizes = {0, 10, 300 << 10, 5 << 20, 1, kDirectReadBody, 9 << 20, 64};
  Latch done;
  std::vector<std::string> errors(sizes.size());
  for (size_t k = 0; k < sizes.size(); ++k) {
    proto::GetObjectRequest request;
    request.set_object_id("payload:" + std::to_string(sizes[k]));
    (*conn)->Call(proto::WORKER_GET_OBJECT, request, [&, k](absl::Status status, Frame&& frame) {
      proto::GetObjectReply reply;
      std::string_view payload;
      if (!status.ok() || !frame.ParseBodyWithPayload(&reply, &payload).ok()) {
        errors[k] = "no reply";
      } else if (payload.size() != sizes[k]) {
        errors[k] = "size " + std::to_string(payload.size());
      } else {
        for (size_t i = 0; i < payload.size(); ++i) {
          if (payload[i] != static_cast<char>(i * 7)) {
            errors[k] = "byte " + std::to_string(i);
            break;
          }
        }
      }
      done.Set();
    });
  }
  ASSERT_TRUE(done.WaitFor(static_cast<int>(sizes.size()), std::chrono::seconds(30)));
  for (size_t k = 0; k < sizes.size(); ++k) EXPECT_EQ(errors[k], "") << sizes[k] << " bytes";
}

TEST_F(ChannelTest, PendingCallsFailWhenThePeerCloses) {
  auto conn = Connection::Connect(&client_loop_, "127.0.0.1", server_->port(), absl::Seconds(5));
  ASSERT_TRUE(conn.ok());
  Latch client_closed;
  (*conn)->SetHandlers([](const std::shared_ptr<Connection>&, Frame&&) {},
                       [&](const std::shared_ptr<Connection>&) { client_closed.Set(); });
  // Three calls the server received and will never answer, then the server closes.
  proto::GetObjectRequest request;
  request.set_object_id("no-reply");
  Latch pending_failed;
  std::mutex seen_mutex;
  std::vector<absl::Status> pending_seen;
  for (int i = 0; i < 3; ++i) {
    (*conn)->Call(proto::WORKER_GET_OBJECT, request, [&](absl::Status s, Frame&&) {
      {
        std::lock_guard<std::mutex> lock(seen_mutex);
        pending_seen.push_back(s);
      }
      pending_failed.Set();
    });
  }
  ASSERT_TRUE(held_latch_.WaitFor(3));
  {
    std::lock_guard<std::mutex> lock(seen_mutex);
    EXPECT_TRUE(pending_seen.empty()) << "a call was answered before the close";
  }
  server_loop_.Post([this] {
    for (auto& c : server_conns_) c->Close();
  });
  ASSERT_TRUE(pending_failed.WaitFor(3));
  ASSERT_TRUE(client_closed.WaitFor(1));
  {
    std::lock_guard<std::mutex> lock(seen_mutex);
    ASSERT_EQ(pending_seen.size(), 3u);
    for (const auto& s : pending_seen) EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  }
  // A call made after the close fails too, at once.
  Latch failed;
  absl::Status seen;
  (*conn)->Call(proto::WORKER_GET_OBJECT, request, [&](absl::Status s, Frame&&) {
    seen = s;
    failed.Set();
  });
  ASSERT_TRUE(failed.WaitFor(1));
  EXPECT_EQ(seen.code(), absl::StatusCode::kUnavailable) << seen;
  EXPECT_TRUE(closed_latch_.WaitFor(1));
}

TEST_F(ChannelTest, ConnectToAClosedPortFailsClearly) {
  int port = server_->port();
  server_.reset();
  // Give the loop a round to close the listening socket.
  Latch flushed;
  server_loop_.Post([&] { flushed.Set(); });
  ASSERT_TRUE(flushed.WaitFor(1));
  // Refused at once by the local stack, or when the loop completes the connect: either way the
  // error names the address.
  absl::Status status;
  auto conn = Connection::Connect(&client_loop_, "127.0.0.1", port, absl::Seconds(2));
  if (!conn.ok()) {
    status = conn.status();
  } else {
    Latch failed;
    (*conn)->SetHandlers([](const std::shared_ptr<Connection>&, Frame&&) {}, nullptr);
    (*conn)->Call(proto::WORKER_GET_OBJECT, proto::GetObjectRequest(), [&](absl::Status s, Frame&&) {
      status = s;
      failed.Set();
    });
    ASSERT_TRUE(failed.WaitFor(1));
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("cannot connect to 127.0.0.1:"), std::string::npos) << status;
}

TEST_F(ChannelTest, ANameIsNotResolvedOnTheLoop) {
  auto conn = Connection::Connect(&client_loop_, "localhost", server_->port(), absl::Seconds(2));
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(conn.status().message().find("not an IPv4 address"), std::string::npos);
  auto resolved = ResolveAddress("localhost");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(*resolved, "127.0.0.1");
  EXPECT_FALSE(ResolveAddress("no-such-host.invalid").ok());
}

}  // namespace
}  // namespace moray::rpc
