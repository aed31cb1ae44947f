// TaskExecutor's capture of placement groups: what the code running in a task or an actor hands
// on to the work it submits (CapturedStrategy), for the task's own thread, another thread of the
// process while the task runs, and an actor's calls. Tasks are pushed over a real loopback
// connection, as an owner does.
#include "core_worker/task_executor.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/id.h"
#include "core_worker/testing/core_harness.h"
#include "gtest/gtest.h"

namespace moray::core {
namespace {

using rpc::testing::OnLoop;
using rpc::testing::WaitUntil;

// No arguments, no refs: the executor's needs of the rest of the core worker, answered empty.
class NoRefsHost : public TaskExecutionHost {
 public:
  absl::StatusOr<std::vector<StoredObject>> GetArgs(const std::vector<ObjectId>&,
                                                    const std::vector<rpc::Address>&) override {
    return absl::UnimplementedError("no arguments in this test");
  }
  void AcquireTaskRefs(const proto::TaskSpec&) override {}
  void ReleaseTaskRefs(const proto::TaskSpec&) override {}
  std::vector<proto::NestedRef> TakeReturnRefs(const rpc::Address&) override { return {}; }
};

// A worker's executor behind a loopback server, and an owner connection that pushes to it.
class Worker : public testing::CoreHarness {
 public:
  Worker() : CoreHarness("worker") {
    executor_ = std::make_unique<TaskExecutor>(&context_, &host_);
    service_.Raw(proto::WORKER_PUSH_TASKS, rpc::kAnyMember,
                 [this](const rpc::Peer& peer, rpc::Frame&& frame) {
                   executor_->OnPushTasks(peer, std::move(frame));
                 });
    server_ = std::make_unique<rpc::testing::FakeServer>(&loop_, &service_);
    owner_loop_.StartThread("owner_io");
    auto conn =
        rpc::Connection::Connect(&owner_loop_, "127.0.0.1", server_->port(), absl::Seconds(5));
    EXPECT_TRUE(conn.ok()) << conn.status();
    owner_ = *conn;
    owner_->SetHandlers(
        [this](const std::shared_ptr<rpc::Connection>&, rpc::Frame&& frame) {
          proto::TaskRepliesRequest replies;
          if (frame.method != proto::WORKER_TASK_REPLIES || !frame.ParseBody(&replies).ok()) return;
          std::lock_guard<std::mutex> lock(mu_);
          replies_ += replies.replies_size();
        },
        nullptr);
    runner_ = std::thread([this] {
      executor_->RunLoop([this](const proto::TaskSpec& spec, const auto&) {
        proto::SchedulingStrategy own = executor_->CapturedStrategy();
        proto::SchedulingStrategy spawned;
        if (spec.name() == "spawns") {
          // Another thread of the process while the task runs: the main thread's task counts.
          std::thread other([&] { spawned = executor_->CapturedStrategy(); });
          other.join();
        }
        std::lock_guard<std::mutex> lock(mu_);
        seen_[spec.name()] = own;
        if (spec.name() == "spawns") seen_["spawned thread"] = spawned;
        TaskResult result;
        result.data = spec.name();
        return result;
      });
    });
  }
  ~Worker() {
    executor_->Stop();
    runner_.join();
    owner_->Close();
    owner_loop_.Stop();
    server_.reset();
    OnLoop(&loop_, [] {});
    executor_.reset();
  }

  void Push(const proto::TaskSpec& spec) {
    proto::PushTasksRequest push;
    *push.add_tasks() = spec;
    owner_->Send(proto::WORKER_PUSH_TASKS, push);
  }
  bool WaitForReplies(int n) {
    return WaitUntil([&] {
      std::lock_guard<std::mutex> lock(mu_);
      return replies_ >= n;
    });
  }
  proto::SchedulingStrategy Seen(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.at(name);
  }
  TaskExecutor& executor() { return *executor_; }

 private:
  NoRefsHost host_;
  std::unique_ptr<TaskExecutor> executor_;
  std::unique_ptr<rpc::testing::FakeServer> server_;
  rpc::EventLoop owner_loop_;
  std::shared_ptr<rpc::Connection> owner_;
  std::thread runner_;
  std::mutex mu_;
  int replies_ = 0;                                        // guarded by mu_
  std::map<std::string, proto::SchedulingStrategy> seen_;  // guarded by mu_
};

proto::TaskSpec Spec(const std::string& name, proto::TaskType type,
                     const proto::SchedulingStrategy& strategy = {}) {
  proto::TaskSpec spec;
  spec.set_task_id(NewTaskId(JobIdFromInt(1)).Binary());
  spec.set_name(name);
  spec.set_function_name(name);
  spec.set_type(type);
  *spec.mutable_scheduling_strategy() = strategy;
  return spec;
}

proto::SchedulingStrategy InGroup(const PlacementGroupId& group, int bundle_index, bool capture) {
  proto::SchedulingStrategy strategy;
  strategy.set_kind(proto::SchedulingStrategy::PLACEMENT_GROUP);
  strategy.set_placement_group_id(group.Binary());
  strategy.set_bundle_index(bundle_index);
  strategy.set_capture_child_tasks(capture);
  return strategy;
}

TEST(TaskExecutorCaptureTest, ACapturingTaskPassesItsGroupOnWhileItRuns) {
  Worker worker;
  const PlacementGroupId group = NewPlacementGroupId(JobIdFromInt(1));
  worker.Push(Spec("spawns", proto::NORMAL_TASK, InGroup(group, 1, /*capture=*/true)));
  worker.Push(Spec("in group, no capture", proto::NORMAL_TASK, InGroup(group, 0, false)));
  worker.Push(Spec("plain", proto::NORMAL_TASK));
  ASSERT_TRUE(worker.WaitForReplies(3));
  for (const char* name : {"spawns", "spawned thread"}) {
    const proto::SchedulingStrategy captured = worker.Seen(name);
    EXPECT_EQ(captured.kind(), proto::SchedulingStrategy::PLACEMENT_GROUP) << name;
    EXPECT_EQ(captured.placement_group_id(), group.Binary()) << name;
    EXPECT_EQ(captured.bundle_index(), -1) << name;  // any bundle
    EXPECT_TRUE(captured.capture_child_tasks()) << name;
  }
  EXPECT_EQ(worker.Seen("in group, no capture").kind(), proto::SchedulingStrategy::DEFAULT);
  EXPECT_EQ(worker.Seen("plain").kind(), proto::SchedulingStrategy::DEFAULT);
  // Between tasks nothing is captured.
  EXPECT_EQ(worker.executor().CapturedStrategy().kind(), proto::SchedulingStrategy::DEFAULT);
}

TEST(TaskExecutorCaptureTest, ACapturingActorPassesItsGroupOnFromEveryCall) {
  Worker worker;
  const PlacementGroupId group = NewPlacementGroupId(JobIdFromInt(1));
  proto::TaskSpec creation =
      Spec("create", proto::ACTOR_CREATION_TASK, InGroup(group, 0, /*capture=*/true));
  creation.set_actor_id(NewActorId(JobIdFromInt(1)).Binary());
  worker.Push(creation);
  proto::TaskSpec call = Spec("call", proto::ACTOR_TASK);
  call.set_actor_id(creation.actor_id());
  worker.Push(call);
  ASSERT_TRUE(worker.WaitForReplies(2));
  for (const char* name : {"create", "call"}) {
    EXPECT_EQ(worker.Seen(name).placement_group_id(), group.Binary()) << name;
    EXPECT_EQ(worker.Seen(name).bundle_index(), -1) << name;
  }
  // The actor's threads between calls too.
  EXPECT_EQ(worker.executor().CapturedStrategy().placement_group_id(), group.Binary());
}

}  // namespace
}  // namespace moray::core
