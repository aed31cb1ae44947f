// DebugService on a real loopback connection: stack dumps of a child this process started (it
// plays the raylet), refusals, the time limit (the loop keeps answering meanwhile), the gdb
// fallback, and store listings — each call made with the CLI role, as `moray stack` does.
#include "raylet/debug_service.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "raylet/process.h"
#include "rpc/handshake.h"
#include "rpc/testing/fake_server.h"

namespace moray::raylet {
namespace {

using rpc::testing::FakeServer;

class DebugServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rpc::SetProcessRole(proto::ROLE_CLI);
    loop_.StartThread("debug_test");
    client_loop_.StartThread("debug_client");
    auto child = Spawn({.argv = {"/bin/sleep", "120"}, .env = {}});
    ASSERT_TRUE(child.ok()) << child.status();
    child_ = *child;
    // A method answered at once, to show the loop is free while a tool runs.
    service_.Sync<proto::HealthCheckRequest, proto::HealthCheckReply>(
        proto::RAYLET_HEALTH_CHECK, rpc::kAnyMember,
        [](const rpc::Peer&, const proto::HealthCheckRequest&, proto::HealthCheckReply*) {
          return absl::OkStatus();
        });
  }
  void TearDown() override {
    rpc::testing::OnLoop(&loop_, [this] { debug_.reset(); });
    server_.reset();
    if (child_.pid > 0) {
      SignalProcessGroup(child_.pid, SIGKILL);
      int status;
      waitpid(child_.pid, &status, 0);
      close(child_.pidfd);
    }
    rpc::SetProcessRole(proto::ROLE_DRIVER);
  }
  void Start(DebugServiceOptions options) {
    if (!options.worker_of_pid) {
      options.worker_of_pid = [pid = child_.pid, worker = worker_](pid_t asked) {
        return asked == pid ? std::optional<WorkerId>(worker) : std::nullopt;
      };
    }
    rpc::testing::OnLoop(&loop_, [&] {
      debug_ = std::make_unique<DebugService>(&loop_, std::move(options));
      debug_->RegisterMethods(&service_);
    });
    server_ = std::make_unique<FakeServer>(&loop_, &service_);
  }
  template <typename Reply>
  absl::Status Call(uint16_t method, const google::protobuf::MessageLite& request, Reply* reply,
                    absl::Duration timeout = absl::Seconds(60)) {
    auto conn =
        rpc::Connection::Connect(&client_loop_, "127.0.0.1", server_->port(), absl::Seconds(5));
    if (!conn.ok()) return conn.status();
    struct Waiter {
      absl::Notification done;
      absl::Status status;
      rpc::Frame frame;
    };
    auto waiter = std::make_shared<Waiter>();
    rpc::testing::OnLoop(&client_loop_, [&] {
      (*conn)->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                           [](const std::shared_ptr<rpc::Connection>&) {});
      (*conn)->Call(method, request, [waiter](absl::Status status, rpc::Frame&& frame) {
        waiter->status = std::move(status);
        waiter->frame = std::move(frame);
        waiter->done.Notify();
      });
    });
    absl::Status result = waiter->done.WaitForNotificationWithTimeout(timeout)
                              ? waiter->status
                              : absl::DeadlineExceededError("no reply");
    if (result.ok()) result = waiter->frame.ParseBody(reply);
    rpc::testing::OnLoop(&client_loop_, [&] { (*conn)->Close(); });
    return result;
  }
  absl::StatusOr<proto::DumpStackReply> Dump(pid_t pid, int64_t timeout_ms = 0) {
    proto::DumpStackRequest request;
    request.set_pid(pid);
    request.set_timeout_ms(timeout_ms);
    proto::DumpStackReply reply;
    if (auto s = Call(proto::RAYLET_DUMP_STACK, request, &reply); !s.ok()) return s;
    return reply;
  }

  rpc::EventLoop loop_;
  rpc::EventLoop client_loop_;
  rpc::Service service_{"raylet"};
  std::unique_ptr<DebugService> debug_;  // loop thread
  std::unique_ptr<FakeServer> server_;
  Child child_;
  const WorkerId worker_ = WorkerId::FromBinary(std::string(16, 'w'));
};

TEST_F(DebugServiceTest, DumpsTheStacksOfItsOwnWorker) {
  if (!DebugService::StackCommand({"eu-stack", "gdb"}, 1).ok()) {
    GTEST_SKIP() << "neither eu-stack nor gdb is installed";
  }
  Start({});
  auto reply = Dump(child_.pid);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_NE(reply->text().find("#0"), std::string::npos) << reply->text();
  EXPECT_NE(reply->text().find("sleep"), std::string::npos) << reply->text();
  EXPECT_EQ(WorkerId::FromBinary(reply->worker_id()), worker_);
  EXPECT_NE(reply->tool().find(std::to_string(child_.pid)), std::string::npos) << reply->tool();
}

TEST_F(DebugServiceTest, FallsBackToGdbWhenEuStackIsMissing) {
  if (!DebugService::StackCommand({"gdb"}, 1).ok()) GTEST_SKIP() << "gdb is not installed";
  Start({.stack_tools = {"/nonexistent/eu-stack", "gdb"}});
  auto reply = Dump(child_.pid);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_NE(reply->tool().find("gdb -batch"), std::string::npos) << reply->tool();
  EXPECT_NE(reply->text().find("#0"), std::string::npos) << reply->text();
}

TEST_F(DebugServiceTest, RefusesPidsThatAreNotItsLiveWorkersBeforeRunningAnything) {
  Start({});
  auto other = Dump(getpid());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(other.status().message().find("is not a live worker of this node's raylet"),
            std::string::npos)
      << other.status();
  EXPECT_EQ(Dump(0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Dump(-3).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DebugServiceTest, OnlyTheCliMayCall) {
  Start({});
  rpc::SetProcessRole(proto::ROLE_WORKER);
  auto refused = Dump(child_.pid);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  proto::ListStoreObjectsReply listing;
  EXPECT_EQ(
      Call(proto::RAYLET_LIST_STORE_OBJECTS, proto::ListStoreObjectsRequest(), &listing).code(),
      absl::StatusCode::kPermissionDenied);
}

TEST_F(DebugServiceTest, NoToolInstalledIsAClearError) {
  Start({.stack_tools = {"/nonexistent/eu-stack", "/nonexistent/gdb"}});
  auto reply = Dump(child_.pid);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(reply.status().message().find("no stack tool is installed"), std::string::npos)
      << reply.status();
}

TEST_F(DebugServiceTest, AToolThatHangsIsKilledAtItsLimitWhileTheLoopKeepsAnswering) {
  const std::string dir = ::testing::TempDir() + "/debug_service_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string tool = dir + "/hanging-tool";
  std::ofstream(tool) << "#!/bin/sh\nexec sleep 60\n";
  chmod(tool.c_str(), 0755);
  Start({.stack_tools = {tool}});
  absl::Notification dumped;
  absl::Status dump_status;
  std::thread dumper([&] {
    dump_status = Dump(child_.pid, /*timeout_ms=*/1500).status();
    dumped.Notify();
  });
  // While the tool runs, the loop answers other calls at once.
  absl::SleepFor(absl::Milliseconds(200));
  const absl::Time asked = absl::Now();
  proto::HealthCheckReply health;
  EXPECT_TRUE(Call(proto::RAYLET_HEALTH_CHECK, proto::HealthCheckRequest(), &health).ok());
  EXPECT_LT(absl::Now() - asked, absl::Seconds(1));
  EXPECT_FALSE(dumped.HasBeenNotified());
  ASSERT_TRUE(dumped.WaitForNotificationWithTimeout(absl::Seconds(30)));
  dumper.join();
  EXPECT_EQ(dump_status.code(), absl::StatusCode::kDeadlineExceeded) << dump_status;
  EXPECT_NE(dump_status.message().find("did not finish within"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_F(DebugServiceTest, ListsTheStoreOffTheLoopWithinTheCap) {
  int64_t asked_limit = -1;
  Start({.list_store_objects =
             [&asked_limit](int64_t limit) -> absl::StatusOr<proto::ListStoreObjectsReply> {
           asked_limit = limit;
           proto::ListStoreObjectsReply reply;
           reply.set_total(7);
           return reply;
         },
         .max_store_objects = 50});
  proto::ListStoreObjectsRequest request;
  request.set_limit(1000);
  proto::ListStoreObjectsReply reply;
  ASSERT_TRUE(Call(proto::RAYLET_LIST_STORE_OBJECTS, request, &reply).ok());
  EXPECT_EQ(reply.total(), 7);
  EXPECT_EQ(asked_limit, 50);
}

}  // namespace
}  // namespace moray::raylet
