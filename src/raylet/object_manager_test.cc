// ObjectManager with a real object store in-process and a scripted source raylet
// (rpc/testing/fake_server.h) on loopback: chunked pulls, a source that drops the connection
// mid-transfer (retried; or lost once the GCS declares it dead), a source without the object, and
// a requester's time running out.
#include "raylet/object_manager.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/id.h"
#include "common/testing/named_ids.h"
#include "gtest/gtest.h"
#include "object_store/store_client.h"
#include "object_store/store_server.h"
#include "rpc/testing/fake_server.h"

namespace moray::raylet {
namespace {

using rpc::testing::FakeServer;
using rpc::testing::OnLoop;
using rpc::testing::WaitUntil;

constexpr int64_t kSize = 2 * ObjectManager::kChunkBytes + 12345;  // three chunks

char PatternAt(int64_t i) { return static_cast<char>((i * 131) ^ (i >> 11)); }

// Another node's raylet, as far as transfers go: serves chunks of one object of kSize bytes.
// `mode` scripts it.
class FakeSource {
 public:
  enum Mode {
    kServe,             // every chunk
    kDropAfterFirst,    // the first chunk, then drops its connections and serves again
    kDropAndGoSilent,   // the first chunk, then drops its connections and never answers again
    kNotFound,          // "no such object"
  };

  FakeSource(rpc::EventLoop* loop, std::string object_id, Mode mode)
      : object_id_(std::move(object_id)), mode_(mode), service_("fake source raylet") {
    service_.Unary<proto::ReadChunkRequest, proto::ReadChunkReply>(
        proto::TRANSFER_READ_OBJECT_CHUNK, rpc::kAnyMember,
        [this](const rpc::Peer&, proto::ReadChunkRequest&& request,
               rpc::Responder<proto::ReadChunkReply> respond) {
          const int served = served_++;
          if (mode_ == kNotFound || request.object_id() != object_id_) {
            respond.Fail(absl::NotFoundError("not here"));
            return;
          }
          if (mode_ == kDropAndGoSilent && served > 0) {
            if (!dropped_.exchange(true)) server_->CloseConnections();
            silent_.push_back(respond);  // never answered
            return;
          }
          if (mode_ == kDropAfterFirst && served == 1) {
            server_->CloseConnections();
            return;
          }
          std::string bytes(static_cast<size_t>(request.length()), '\0');
          for (int64_t i = 0; i < request.length(); ++i) {
            bytes[static_cast<size_t>(i)] = PatternAt(request.offset() + i);
          }
          proto::ReadChunkReply reply;
          reply.set_size(kSize);
          respond.ReplyWithPayload(reply, bytes);
        });
    server_ = std::make_unique<FakeServer>(loop, &service_);
  }
  int port() const { return server_->port(); }
  int served() const { return served_; }

 private:
  const std::string object_id_;
  const Mode mode_;
  rpc::Service service_;
  std::atomic<int> served_{0};
  std::atomic<bool> dropped_{false};
  std::vector<rpc::Responder<proto::ReadChunkReply>> silent_;  // loop thread
  std::unique_ptr<FakeServer> server_;  // last: it stops dispatching before the rest goes
};

class ObjectManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/moray_object_manager_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    object_store::StoreServerOptions options;
    options.socket_path = dir_ + "/store.sock";
    options.capacity = 64ull << 20;
    auto store = object_store::StoreServer::Start(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    objects_ = std::make_unique<ObjectManager>(store_->socket_path(), kLocalNode);
    ASSERT_TRUE(objects_->Start().ok());
    fakes_.StartThread("fakes");
    objects_->RegisterMethods(&raylet_service_);
    raylet_ = std::make_unique<FakeServer>(&fakes_, &raylet_service_);
    auto conn = rpc::Connection::Connect(&fakes_, "127.0.0.1", raylet_->port(), absl::Seconds(5));
    ASSERT_TRUE(conn.ok()) << conn.status();
    requester_ = *conn;
    requester_->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                            nullptr);
  }
  void TearDown() override {
    requester_->Close();
    raylet_.reset();
    objects_->Stop();
    objects_.reset();
    fakes_.Stop();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void SourceAt(int port, bool alive = true) {
    std::map<NodeId, ObjectManager::NodeAddress> nodes;
    nodes[kSourceNode] = {"127.0.0.1", port, alive};
    objects_->SetClusterView(nodes);
  }
  // Starts a pull of the object from "source-node"; Wait returns how it ended.
  class Pull {
   public:
    absl::Status Wait(absl::Duration timeout = absl::Seconds(20)) {
      if (!done_->WaitForNotificationWithTimeout(timeout)) {
        return absl::DeadlineExceededError("the test's wait ran out");
      }
      std::lock_guard<std::mutex> lock(*mutex_);
      return *status_;
    }
    bool done() const { return done_->HasBeenNotified(); }
    std::shared_ptr<absl::Notification> done_ = std::make_shared<absl::Notification>();
    std::shared_ptr<std::mutex> mutex_ = std::make_shared<std::mutex>();
    std::shared_ptr<absl::Status> status_ = std::make_shared<absl::Status>();
  };
  Pull StartPull(int64_t timeout_ms = 0) {
    proto::PullObjectRequest request;
    request.set_object_id(object_id_);
    request.set_node_id(kSourceNode.Binary());
    request.set_size(kSize);
    request.set_timeout_ms(timeout_ms);
    Pull pull;
    requester_->Call(proto::RAYLET_PULL_OBJECT, request,
                     [pull](absl::Status status, rpc::Frame&&) {
                       {
                         std::lock_guard<std::mutex> lock(*pull.mutex_);
                         *pull.status_ = status;
                       }
                       pull.done_->Notify();
                     });
    return pull;
  }
  // Whether this node's store holds the whole object, byte for byte.
  bool HoldsTheObject() {
    auto client = object_store::StoreClient::Connect(store_->socket_path());
    if (!client.ok()) return false;
    auto buffers = (*client)->Get({ObjectId::FromBinary(object_id_)}, absl::ZeroDuration());
    if (!buffers.ok() || !(*buffers)[0] || (*buffers)[0]->Size() != kSize) return false;
    const char* data = reinterpret_cast<const char*>((*buffers)[0]->Data());
    for (int64_t i = 0; i < kSize; ++i) {
      if (data[i] != PatternAt(i)) return false;
    }
    return true;
  }

  std::string dir_;
  const std::string object_id_ = std::string(ObjectId::kSize, 'o');  // as messages carry it
  const NodeId kLocalNode = moray::testing::NamedId<NodeId>("local-node");
  const NodeId kSourceNode = moray::testing::NamedId<NodeId>("source-node");
  std::unique_ptr<object_store::StoreServer> store_;
  std::unique_ptr<ObjectManager> objects_;
  rpc::EventLoop fakes_;
  rpc::Service raylet_service_{"raylet"};  // what the node manager registers it on
  std::unique_ptr<FakeServer> raylet_;
  std::shared_ptr<rpc::Connection> requester_;  // a core worker of this node
};

TEST_F(ObjectManagerTest, PullsAnObjectInChunks) {
  FakeSource source(&fakes_, object_id_, FakeSource::kServe);
  SourceAt(source.port());
  EXPECT_TRUE(StartPull().Wait().ok());
  EXPECT_EQ(source.served(), 3);
  EXPECT_TRUE(HoldsTheObject());
}

// The source drops the connection after the first chunk: the node is alive as far as anyone
// knows, so the transfer starts over (a new connection from the pool) and completes.
TEST_F(ObjectManagerTest, ASourceThatClosesMidTransferIsTriedAgain) {
  FakeSource source(&fakes_, object_id_, FakeSource::kDropAfterFirst);
  SourceAt(source.port());
  absl::Status pulled = StartPull().Wait();
  EXPECT_TRUE(pulled.ok()) << pulled;
  EXPECT_GE(source.served(), 5) << "3 chunks, after 2 of the attempt that was cut";
  EXPECT_TRUE(HoldsTheObject());
}

// The source drops the connection mid-transfer and goes silent: the pull waits (a slow node is
// not a lost object) until the GCS declares the node dead; then the copy is lost (NotFound).
TEST_F(ObjectManagerTest, ASourceThatClosesMidTransferAndDiesLosesTheCopy) {
  FakeSource source(&fakes_, object_id_, FakeSource::kDropAndGoSilent);
  SourceAt(source.port());
  Pull pull = StartPull();
  ASSERT_TRUE(WaitUntil([&] { return source.served() >= 3; }));
  absl::SleepFor(absl::Milliseconds(300));  // retries keep the pull alive meanwhile
  EXPECT_FALSE(pull.done());
  objects_->MarkNodeDead(kSourceNode);
  absl::Status lost = pull.Wait();
  EXPECT_EQ(lost.code(), absl::StatusCode::kNotFound) << lost;
  EXPECT_NE(lost.message().find("died (the GCS declared it dead)"), std::string::npos) << lost;
  EXPECT_FALSE(HoldsTheObject());
}

TEST_F(ObjectManagerTest, ASourceWithoutTheObjectLosesTheCopy) {
  FakeSource source(&fakes_, object_id_, FakeSource::kNotFound);
  SourceAt(source.port());
  absl::Status lost = StartPull().Wait();
  EXPECT_EQ(lost.code(), absl::StatusCode::kNotFound) << lost;
  EXPECT_NE(lost.message().find("no longer has the object"), std::string::npos) << lost;
}

// A source this raylet cannot reach yet is retried until the requester's time runs out:
// DeadlineExceeded (nothing is known to be lost).
TEST_F(ObjectManagerTest, ARequesterWhoseTimeRunsOutGetsDeadlineExceeded) {
  FakeSource source(&fakes_, object_id_, FakeSource::kServe);
  const int port = source.port();
  {
    // Nothing listens there: every connect is refused.
    FakeSource gone(&fakes_, object_id_, FakeSource::kServe);
    SourceAt(gone.port());
  }
  absl::Status timed_out = StartPull(/*timeout_ms=*/400).Wait();
  EXPECT_EQ(timed_out.code(), absl::StatusCode::kDeadlineExceeded) << timed_out;
  EXPECT_NE(timed_out.message().find("did not arrive from node"), std::string::npos) << timed_out;
  // The node comes back at another address: a new pull succeeds.
  SourceAt(port);
  absl::Status pulled = StartPull().Wait();
  EXPECT_TRUE(pulled.ok()) << pulled;
}

}  // namespace
}  // namespace moray::raylet
