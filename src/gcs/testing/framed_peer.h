// Tests: a member of the cluster talking to the GCS port by hand, as a core worker does (calls,
// one-way messages, pushed ACTOR_UPDATEs), with this process's handshake identity at Connect.
//
//   FramedPeer peer;
//   ASSERT_TRUE(peer.Connect(server.port()).ok());
//   auto reply = peer.Call<proto::CreateActorReply>(proto::CREATE_ACTOR, request);
//   auto update = peer.WaitForPush<proto::ActorInfo>(proto::ACTOR_UPDATE, [](auto& a) {...});
//
// Thread model: the peer's own event loop does the I/O; every method blocks the test's thread.
#pragma once

#include <deque>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"

namespace moray::gcs::testing {

class FramedPeer {
 public:
  FramedPeer() { loop_.StartThread("test_peer"); }
  ~FramedPeer() {
    Close();
    absl::Notification drained;
    loop_.Post([&drained] { drained.Notify(); });
    drained.WaitForNotification();
    loop_.Stop();
  }

  absl::Status Connect(int port) {
    auto conn = rpc::Connection::Connect(&loop_, "127.0.0.1", port, absl::Seconds(10));
    if (!conn.ok()) return conn.status();
    conn_ = *conn;
    conn_->SetHandlers(
        [this](const std::shared_ptr<rpc::Connection>&, rpc::Frame&& frame) {
          absl::MutexLock lock(&mu_);
          pushes_.push_back(std::move(frame));
        },
        nullptr);
    return absl::OkStatus();
  }
  void Close() {
    if (conn_) conn_->Close();
  }
  bool closed() const { return conn_->closed(); }

  // The raw reply frame, or the call's status.
  absl::StatusOr<rpc::Frame> CallRaw(uint16_t method, const google::protobuf::MessageLite& request,
                                     absl::Duration timeout = absl::Seconds(10)) {
    struct Result {
      absl::Notification done;
      absl::Status status;
      rpc::Frame frame;
    };
    auto result = std::make_shared<Result>();
    conn_->Call(method, request, [result](absl::Status status, rpc::Frame&& frame) {
      result->status = std::move(status);
      result->frame = std::move(frame);
      result->done.Notify();
    });
    if (!result->done.WaitForNotificationWithTimeout(timeout)) {
      return absl::DeadlineExceededError("the test's wait for a reply ran out");
    }
    if (!result->status.ok()) return result->status;
    return std::move(result->frame);
  }
  template <typename Reply>
  absl::StatusOr<Reply> Call(uint16_t method, const google::protobuf::MessageLite& request) {
    auto frame = CallRaw(method, request);
    if (!frame.ok()) return frame.status();
    Reply reply;
    if (auto parsed = frame->ParseBody(&reply); !parsed.ok()) return parsed;
    return reply;
  }
  void Send(uint16_t method, const google::protobuf::MessageLite& message) {
    conn_->Send(method, message);
  }

  // The first frame pushed with `method` whose message satisfies `match` (earlier ones that do
  // not are dropped); DeadlineExceeded after `timeout`.
  template <typename Message>
  absl::StatusOr<Message> WaitForPush(uint16_t method, std::function<bool(const Message&)> match,
                                      absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::MutexLock lock(&mu_);
    while (true) {
      while (!pushes_.empty()) {
        rpc::Frame frame = std::move(pushes_.front());
        pushes_.pop_front();
        Message message;
        if (frame.method == method && frame.ParseBody(&message).ok() && match(message)) {
          return message;
        }
      }
      if (mu_.AwaitWithDeadline(absl::Condition(
                                    +[](std::deque<rpc::Frame>* q) { return !q->empty(); },
                                    &pushes_),
                                deadline) == false) {
        return absl::DeadlineExceededError("no such frame was pushed in time");
      }
    }
  }

 private:
  rpc::EventLoop loop_;
  std::shared_ptr<rpc::Connection> conn_;
  absl::Mutex mu_;
  std::deque<rpc::Frame> pushes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moray::gcs::testing
