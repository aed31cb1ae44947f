// The GCS's one port as the cluster sees it: the handshake (no token, a wrong token), roles per
// method, the bad-frame policy, deadlines and reconnects of GcsClient, NODE_DIED pushed to core
// workers, and the two loops — a handler blocked on the service loop never holds up the health
// checks on the actor loop, nor does a raylet whose connect hangs.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/testing/named_ids.h"
#include "gcs/gcs_client.h"
#include "gcs/gcs_server.h"
#include "gcs/testing/framed_peer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raylet.pb.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"
#include "rpc/service.h"
#include "rpc/testing/loopback.h"
#include "worker.pb.h"

namespace moray::gcs {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }

// This process's identity for the test's duration: a token and a role of its own.
class Identity {
 public:
  Identity() : auth_(rpc::ProcessAuth()) {}
  ~Identity() {
    rpc::SetProcessAuth(auth_);
    rpc::SetProcessRole(proto::ROLE_DRIVER);  // unit_test_main's
  }
  void Token(std::string token) {
    rpc::SetProcessAuth({rpc::AuthMode::kToken, std::move(token), "test"});
  }
  void Role(proto::PeerRole role) { rpc::SetProcessRole(role); }

 private:
  const rpc::AuthConfig auth_;
};

absl::StatusOr<std::unique_ptr<GcsClient>> ConnectAs(proto::PeerRole role, int port,
                                                     GcsClientOptions options = {}) {
  rpc::SetProcessRole(role);
  auto client = GcsClient::Connect(Address(port), absl::Seconds(10), options);
  rpc::SetProcessRole(proto::ROLE_DRIVER);
  return client;
}

class GcsPortTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()); }
  GcsServer server_{{.host = "127.0.0.1", .port = 0}};
  Identity identity_;
};

TEST_F(GcsPortTest, NoTokenIsRefusedWithUnauthenticatedSayingWhatIsMissing) {
  identity_.Token("");
  auto client = GcsClient::Connect(Address(server_.port()), absl::Seconds(10));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnauthenticated) << client.status();
  EXPECT_THAT(std::string(client.status().message()),
              HasSubstr("the Moray GCS at " + Address(server_.port()) + " refused this driver"));
  EXPECT_THAT(std::string(client.status().message()), HasSubstr("sent no auth token"));

  // A peer that ignores the refusal gets it on every call it queued.
  testing::FramedPeer peer;
  ASSERT_TRUE(peer.Connect(server_.port()).ok());
  auto nodes = peer.Call<proto::GetAllNodesReply>(proto::GET_ALL_NODES, proto::GetAllNodesRequest());
  EXPECT_EQ(nodes.status().code(), absl::StatusCode::kUnauthenticated) << nodes.status();
}

TEST_F(GcsPortTest, AWrongTokenIsRefusedWithUnauthenticatedAndNeverShown) {
  const std::string wrong = "0123456789abcdef-not-the-cluster-token";
  identity_.Token(wrong);
  auto client = GcsClient::Connect(Address(server_.port()), absl::Seconds(10));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnauthenticated) << client.status();
  EXPECT_THAT(std::string(client.status().message()), HasSubstr("not this cluster's"));
  EXPECT_THAT(std::string(client.status().message()), Not(HasSubstr(wrong)));
}

TEST_F(GcsPortTest, EachMethodAdmitsItsRoles) {
  auto cli = ConnectAs(proto::ROLE_CLI, server_.port());
  ASSERT_TRUE(cli.ok()) << cli.status();
  proto::NodeInfo node;
  node.set_node_id(std::string(16, 'n'));
  absl::Status registered = (*cli)->RegisterNode(node);
  EXPECT_EQ(registered.code(), absl::StatusCode::kPermissionDenied) << registered;
  EXPECT_THAT(std::string(registered.message()), HasSubstr("a CLI may not call method"));
  EXPECT_THAT(std::string(registered.message()), HasSubstr("RegisterNode"));
  EXPECT_EQ((*cli)->AddJob(proto::JobInfo()).status().code(), absl::StatusCode::kPermissionDenied);
  // Reads and the KV are for every member, on the same connection.
  EXPECT_TRUE((*cli)->GetAllNodes().ok());
  EXPECT_TRUE((*cli)->KvPut("ns", "k", "v", true).ok());

  auto raylet = ConnectAs(proto::ROLE_RAYLET, server_.port());
  ASSERT_TRUE(raylet.ok()) << raylet.status();
  EXPECT_TRUE((*raylet)->RegisterNode(node).ok());

  // Actor methods are for core workers.
  identity_.Role(proto::ROLE_CLI);
  testing::FramedPeer peer;
  ASSERT_TRUE(peer.Connect(server_.port()).ok());
  auto created =
      peer.Call<proto::CreateActorReply>(proto::CREATE_ACTOR, proto::CreateActorRequest());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kPermissionDenied) << created.status();
}

TEST_F(GcsPortTest, ABadFrameGetsAnErrorReplyAndTheConnectionStaysUp) {
  testing::FramedPeer peer;
  ASSERT_TRUE(peer.Connect(server_.port()).ok());
  // GetTasksRequest's field 1 is a StateFilter; this string's bytes begin with a tag of field 0.
  proto::KvGetRequest garbage;
  garbage.set_ns(std::string("\0\0", 2));
  auto bad = peer.CallRaw(proto::GET_TASKS, garbage);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("malformed request"));
  auto unknown = peer.CallRaw(399, proto::GetAllNodesRequest());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnimplemented) << unknown.status();
  EXPECT_TRUE(peer.CallRaw(proto::GET_ALL_NODES, proto::GetAllNodesRequest()).ok());
  EXPECT_FALSE(peer.closed());
}

TEST_F(GcsPortTest, TaskEventsComeOneWayFromCoreWorkersAndAsCallsFromRaylets) {
  testing::FramedPeer worker;
  ASSERT_TRUE(worker.Connect(server_.port()).ok());
  proto::ReportTaskEventsRequest batch;
  batch.add_events()->set_task_id(moray::testing::NamedId<TaskId>("task-1").Binary());
  batch.set_dropped(3);
  worker.Send(proto::REPORT_TASK_EVENTS, batch);
  auto raylet = ConnectAs(proto::ROLE_RAYLET, server_.port());
  ASSERT_TRUE(raylet.ok()) << raylet.status();
  proto::TaskEvent relayed;
  relayed.set_task_id(moray::testing::NamedId<TaskId>("task-2").Binary());
  ASSERT_TRUE((*raylet)->ReportTaskEvents({relayed}, 1).ok());
  // The one-way batch went first on its own connection; a call on it after proves it arrived.
  ASSERT_TRUE(worker.CallRaw(proto::GET_ALL_NODES, proto::GetAllNodesRequest()).ok());
  auto tasks = (*raylet)->GetTasks({}, 0);
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  EXPECT_EQ(tasks->total(), 2);
  EXPECT_EQ(tasks->num_dropped(), 4);
  // A CLI reports none.
  auto cli = ConnectAs(proto::ROLE_CLI, server_.port());
  ASSERT_TRUE(cli.ok());
  EXPECT_EQ((*cli)->ReportTaskEvents({relayed}).code(), absl::StatusCode::kPermissionDenied);
}

TEST(GcsClientReconnectTest, AGoneGcsIsUnavailableNamingItsAddressAndANewOneIsFoundAgain) {
  auto first = std::make_unique<GcsServer>(GcsServerConfig{.host = "127.0.0.1", .port = 0});
  ASSERT_TRUE(first->Start().ok());
  const int port = first->port();
  GcsClientOptions options;
  options.reconnect_backoff = {.initial = absl::Milliseconds(20), .max = absl::Milliseconds(200)};
  auto client = GcsClient::Connect(Address(port), absl::Seconds(10), options);
  ASSERT_TRUE(client.ok()) << client.status();
  first.reset();
  auto gone = (*client)->GetAllNodes();
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kUnavailable) << gone.status();
  EXPECT_THAT(std::string(gone.status().message()),
              HasSubstr("GCS GetAllNodes at " + Address(port)));

  GcsServer second({.host = "127.0.0.1", .port = port});
  ASSERT_TRUE(second.Start().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  absl::StatusOr<std::vector<proto::NodeInfo>> nodes = gone;
  while (!nodes.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // the client's back-off, not a synchronisation
    nodes = (*client)->GetAllNodes();
  }
  EXPECT_TRUE(nodes.ok()) << nodes.status();
}

// Storage whose KV read of a key holding "slow" blocks until released: a handler that takes long.
class SlowKvStorage : public InMemoryTableStorage {
 public:
  absl::StatusOr<std::optional<std::string>> Get(Table table, std::string_view key) override {
    if (table == Table::kKv && key.find("slow") != std::string_view::npos) {
      absl::MutexLock lock(&mu_);
      ++blocked_;
      mu_.Await(absl::Condition(&released_));
    }
    return InMemoryTableStorage::Get(table, key);
  }
  bool WaitUntilBlocked(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](int* n) { return *n > 0; }, &blocked_),
                                timeout);
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }

 private:
  absl::Mutex mu_;
  int blocked_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// A raylet that answers health checks and counts them.
class FakeRaylet {
 public:
  FakeRaylet() {
    loop_.StartThread("fake_raylet");
    service_.Sync<proto::HealthCheckRequest, proto::HealthCheckReply>(
        proto::RAYLET_HEALTH_CHECK, rpc::kAnyMember,
        [this](const rpc::Peer&, const proto::HealthCheckRequest&, proto::HealthCheckReply*) {
          absl::MutexLock lock(&mu_);
          ++checks_;
          return absl::OkStatus();
        });
    absl::Notification listening;
    loop_.Post([&] {
      auto server = rpc::Server::Listen(&loop_, "127.0.0.1", 0,
                                        [this](std::shared_ptr<rpc::Connection> conn) {
                                          conns_.push_back(conn);
                                          conn->SetHandlers(
                                              [this](const std::shared_ptr<rpc::Connection>& c,
                                                     rpc::Frame&& f) {
                                                service_.Dispatch(c, std::move(f));
                                              },
                                              nullptr);
                                        });
      if (server.ok()) server_ = *std::move(server);
      listening.Notify();
    });
    listening.WaitForNotification();
  }
  ~FakeRaylet() {
    absl::Notification done;
    loop_.Post([&] {
      server_.reset();
      for (auto& c : conns_) c->Close();
      done.Notify();
    });
    done.WaitForNotification();
    loop_.Stop();
  }
  int port() const { return server_ ? server_->port() : 0; }
  int checks() {
    absl::MutexLock lock(&mu_);
    return checks_;
  }
  // True once at least `n` checks arrived, false after `timeout`.
  bool WaitForChecks(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return checks_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  rpc::EventLoop loop_;
  rpc::Service service_{"fake raylet"};
  std::unique_ptr<rpc::Server> server_;
  std::vector<std::shared_ptr<rpc::Connection>> conns_;  // loop thread
  absl::Mutex mu_;
  int checks_ ABSL_GUARDED_BY(mu_) = 0;
};

proto::NodeInfo NodeAt(char id, int raylet_port) {
  proto::NodeInfo node;
  node.set_node_id(std::string(16, id));
  node.set_node_ip("127.0.0.1");
  node.set_raylet_port(raylet_port);
  return node;
}

// The handlers of the GCS port run on the service loop and the health checks on the actor loop,
// so a state query that takes long (here: one blocked in storage until released) delays neither
// the checks nor the verdict on a healthy node. With one loop for both the checks would stop, and
// after failure_threshold periods the node would be declared dead.
TEST(GcsLoopsTest, AHandlerBlockedOnTheServiceLoopDoesNotHoldUpHealthChecks) {
  auto storage = std::make_unique<SlowKvStorage>();
  SlowKvStorage* slow = storage.get();
  GcsServer server({.host = "127.0.0.1",
                    .port = 0,
                    .health_check = {.period = absl::Milliseconds(50),
                                     .timeout = absl::Seconds(1),
                                     .failure_threshold = 5},
                    .storage = std::move(storage)});
  ASSERT_TRUE(server.Start().ok());
  FakeRaylet raylet;
  auto client = ConnectAs(proto::ROLE_RAYLET, server.port());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->RegisterNode(NodeAt('h', raylet.port())).ok());
  ASSERT_TRUE(raylet.WaitForChecks(2, absl::Seconds(10)));

  std::atomic<bool> answered{false};
  absl::StatusOr<std::optional<std::string>> value;
  std::thread query([&] {
    value = (*client)->KvGet("ns", "slow");
    answered = true;
  });
  ASSERT_TRUE(slow->WaitUntilBlocked(absl::Seconds(10)));
  const int before = raylet.checks();
  EXPECT_TRUE(raylet.WaitForChecks(before + 10, absl::Seconds(20)))
      << "health checks stopped while a handler was busy";
  EXPECT_FALSE(answered.load());
  slow->Release();
  query.join();
  EXPECT_TRUE(value.ok()) << value.status();
  auto nodes = (*client)->GetAllNodes();
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ((*nodes)[0].state(), proto::NODE_ALIVE);
}

TEST(GcsLoopsTest, ACallPastItsDeadlineIsDeadlineExceededNamingTheMethod) {
  auto storage = std::make_unique<SlowKvStorage>();
  SlowKvStorage* slow = storage.get();
  GcsServer server({.host = "127.0.0.1", .port = 0, .storage = std::move(storage)});
  ASSERT_TRUE(server.Start().ok());
  GcsClientOptions options;
  options.rpc_timeout = absl::Milliseconds(300);
  auto client = GcsClient::Connect(Address(server.port()), absl::Seconds(10), options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto value = (*client)->KvGet("ns", "slow");
  EXPECT_EQ(value.status().code(), absl::StatusCode::kDeadlineExceeded) << value.status();
  EXPECT_THAT(std::string(value.status().message()),
              HasSubstr("GCS KvGet at " + Address(server.port())));
  slow->Release();
  EXPECT_TRUE((*client)->KvGet("ns", "other").ok()) << "the connection outlives a late reply";
}

TEST(GcsLoopsTest, ANodeDeclaredDeadIsPushedToCoreWorkersOnly) {
  GcsServer server({.host = "127.0.0.1",
                    .port = 0,
                    .health_check = {.period = absl::Milliseconds(20),
                                     .timeout = absl::Milliseconds(200),
                                     .failure_threshold = 2}});
  ASSERT_TRUE(server.Start().ok());
  testing::FramedPeer worker;  // a driver (unit_test_main's role)
  ASSERT_TRUE(worker.Connect(server.port()).ok());
  ASSERT_TRUE(worker.CallRaw(proto::GET_ALL_NODES, proto::GetAllNodesRequest()).ok());
  Identity identity;
  identity.Role(proto::ROLE_CLI);
  testing::FramedPeer cli;
  ASSERT_TRUE(cli.Connect(server.port()).ok());
  ASSERT_TRUE(cli.CallRaw(proto::GET_ALL_NODES, proto::GetAllNodesRequest()).ok());
  auto raylet = ConnectAs(proto::ROLE_RAYLET, server.port());
  ASSERT_TRUE(raylet.ok());
  // A raylet port nobody listens on: every check fails.
  int dead_port = 0;
  {
    FakeRaylet gone;
    dead_port = gone.port();
  }
  ASSERT_TRUE((*raylet)->RegisterNode(NodeAt('d', dead_port)).ok());
  auto died = worker.WaitForPush<proto::NodeInfo>(
      proto::WORKER_NODE_DIED, [](const proto::NodeInfo& n) { return n.node_id() == std::string(16, 'd'); },
      absl::Seconds(20));
  ASSERT_TRUE(died.ok()) << died.status();
  EXPECT_EQ(died->state(), proto::NODE_DEAD);
  EXPECT_THAT(died->state_message(), HasSubstr("health check failed"));
  auto none = cli.WaitForPush<proto::NodeInfo>(
      proto::WORKER_NODE_DIED, [](const proto::NodeInfo&) { return true; }, absl::Milliseconds(200));
  EXPECT_FALSE(none.ok()) << "the CLI got NODE_DIED";
}

// Nothing on the actor loop waits for a connect: a raylet whose SYNs go unanswered fails one check
// per period (its queued check times out), so it is declared dead on the usual schedule — long
// before its connect would time out — while a healthy node next to it is checked all along.
TEST(GcsLoopsTest, ARayletWhoseConnectHangsIsDeadOnTimeAndOthersAreStillChecked) {
  const HealthCheckOptions checks{.period = absl::Milliseconds(50),
                                  .timeout = absl::Milliseconds(100),
                                  .failure_threshold = 5};
  GcsServer server({.host = "127.0.0.1", .port = 0, .health_check = checks});
  ASSERT_TRUE(server.Start().ok());
  rpc::testing::HangingPort hanging;
  ASSERT_GT(hanging.port(), 0);
  FakeRaylet healthy;
  testing::FramedPeer worker;
  ASSERT_TRUE(worker.Connect(server.port()).ok());
  ASSERT_TRUE(worker.CallRaw(proto::GET_ALL_NODES, proto::GetAllNodesRequest()).ok());
  auto raylet = ConnectAs(proto::ROLE_RAYLET, server.port());
  ASSERT_TRUE(raylet.ok());
  ASSERT_TRUE((*raylet)->RegisterNode(NodeAt('k', healthy.port())).ok());
  ASSERT_TRUE(healthy.WaitForChecks(1, absl::Seconds(10)));
  const absl::Time registered = absl::Now();
  ASSERT_TRUE((*raylet)->RegisterNode(NodeAt('h', hanging.port())).ok());
  auto died = worker.WaitForPush<proto::NodeInfo>(
      proto::WORKER_NODE_DIED, [](const proto::NodeInfo& n) { return n.node_id() == std::string(16, 'h'); },
      absl::Seconds(20));
  ASSERT_TRUE(died.ok()) << died.status();
  const absl::Duration took = absl::Now() - registered;
  // About period * threshold + timeout (0.35 s); the pool's connect timeout is 5 s.
  EXPECT_LT(took, absl::Seconds(4)) << "the verdict waited for the connect";
  EXPECT_THAT(died->state_message(), HasSubstr("did not answer a health check"));
  const int before = healthy.checks();
  EXPECT_TRUE(healthy.WaitForChecks(before + 5, absl::Seconds(10)));
  auto nodes = (*raylet)->GetAllNodes();
  ASSERT_TRUE(nodes.ok());
  for (const auto& node : *nodes) {
    if (node.node_id() == std::string(16, 'k')) EXPECT_EQ(node.state(), proto::NODE_ALIVE);
  }
}

}  // namespace
}  // namespace moray::gcs
