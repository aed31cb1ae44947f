// TaskExecutor's capture of placement groups: what the code running in a task or an actor hands
// on to the work it submits (CapturedStrategy), for the task's own thread, another thread of the
// process while the task runs, and an actor's calls. Tasks are pushed over a real loopback
// connection, as an owner does.
#include "core_worker/task_executor.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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

// No arguments, no refs: the executor's needs of the rest of the core worker, answered empty;
// it counts how the refs serialized into return values were disposed of.
class NoRefsHost : public TaskExecutionHost {
 public:
  absl::StatusOr<std::vector<StoredObject>> GetArgs(const std::vector<ObjectId>&,
                                                    const std::vector<rpc::Address>&) override {
    return absl::UnimplementedError("no arguments in this test");
  }
  void AcquireTaskRefs(const proto::TaskSpec&) override {}
  void ReleaseTaskRefs(const proto::TaskSpec& spec) override {
    if (on_release) on_release(spec);
  }
  std::vector<proto::NestedRef> TakeReturnRefs(const rpc::Address&) override {
    ++taken;
    return {};
  }
  void DropReturnRefs() override { ++dropped; }
  void CancelChildren(const TaskId&, bool) override {}

  // Runs after a task's reply is sent, before the executor takes its next task (set before
  // pushing).
  std::function<void(const proto::TaskSpec&)> on_release;
  std::atomic<int> taken = 0;    // return refs registered for a receiver
  std::atomic<int> dropped = 0;  // return refs nobody receives
};

// A worker's executor behind a loopback server, and an owner connection that pushes to it.
class Worker : public testing::CoreHarness {
 public:
  // `execute`: what tasks do (default: record what they capture, return their name);
  // `on_cancel`: the executor's cancel hook.
  explicit Worker(TaskExecutor::ExecuteFn execute = {}, TaskExecutor::CancelHook on_cancel = {})
      : CoreHarness("worker") {
    executor_ = std::make_unique<TaskExecutor>(&context_, &host_, std::move(on_cancel));
    service_.Raw(proto::WORKER_PUSH_TASKS, rpc::kAnyMember,
                 [this](const rpc::Peer& peer, rpc::Frame&& frame) {
                   executor_->OnPushTasks(peer, std::move(frame));
                 });
    service_.OneWay<proto::CancelTaskRequest>(
        proto::WORKER_CANCEL_TASK, rpc::kAnyMember,
        [this](const rpc::Peer& peer, proto::CancelTaskRequest&& request) {
          executor_->OnCancelTask(peer, request);
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
          for (auto& reply : *replies.mutable_replies()) {
            replies_[TaskId::FromBinary(reply.task_id())] = std::move(reply);
          }
        },
        nullptr);
    if (execute) {
      runner_ = std::thread([this, execute] { executor_->RunLoop(execute); });
      return;
    }
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
        result.returns.push_back(spec.name());
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
  void Cancel(const proto::TaskSpec& spec, bool force = false) {
    proto::CancelTaskRequest request;
    request.set_task_id(spec.task_id());
    request.set_force(force);
    owner_->Send(proto::WORKER_CANCEL_TASK, request);
  }
  bool WaitForReplies(int n) {
    return WaitUntil([&] {
      std::lock_guard<std::mutex> lock(mu_);
      return static_cast<int>(replies_.size()) >= n;
    });
  }
  // The reply to `spec`, once it came (empty before).
  std::optional<proto::TaskReply> ReplyTo(const proto::TaskSpec& spec) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = replies_.find(TaskId::FromBinary(spec.task_id()));
    if (it == replies_.end()) return std::nullopt;
    return it->second;
  }
  proto::TaskReply WaitForReply(const proto::TaskSpec& spec) {
    std::optional<proto::TaskReply> reply;
    EXPECT_TRUE(WaitUntil([&] { return (reply = ReplyTo(spec)).has_value(); }));
    return reply.value_or(proto::TaskReply());
  }
  proto::SchedulingStrategy Seen(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.at(name);
  }
  TaskExecutor& executor() { return *executor_; }
  NoRefsHost& host() { return host_; }

 private:
  NoRefsHost host_;
  std::unique_ptr<TaskExecutor> executor_;
  std::unique_ptr<rpc::testing::FakeServer> server_;
  rpc::EventLoop owner_loop_;
  std::shared_ptr<rpc::Connection> owner_;
  std::thread runner_;
  std::mutex mu_;
  std::map<TaskId, proto::TaskReply> replies_;             // guarded by mu_
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

// Refs a task serialized into its values are registered for the owner only when the reply
// carries a value to hold them; a failed task's, or one returning nothing, are let go at once
// (before, they were registered with their owners for a receiver that never held them).
TEST(TaskExecutorReturnRefsTest, OnlyARepliedValueRegistersItsRefs) {
  Worker worker([](const proto::TaskSpec& spec, const auto&) {
    TaskResult result;
    if (spec.name() == "fails") {
      result.error.set_type(proto::TASK_EXECUTION_EXCEPTION);
      result.error.set_message("boom");
    } else if (spec.name() == "returns") {
      result.returns.push_back("value");
    }
    return result;
  });
  proto::TaskSpec returns = Spec("returns", proto::NORMAL_TASK);
  returns.set_num_returns(1);
  proto::TaskSpec fails = Spec("fails", proto::NORMAL_TASK);
  fails.set_num_returns(1);
  proto::TaskSpec nothing = Spec("nothing", proto::NORMAL_TASK);
  nothing.set_num_returns(0);
  for (const auto* spec : {&returns, &fails, &nothing}) {
    worker.Push(*spec);
    worker.WaitForReply(*spec);
  }
  EXPECT_EQ(worker.ReplyTo(fails)->error().type(), proto::TASK_EXECUTION_EXCEPTION);
  EXPECT_EQ(worker.ReplyTo(returns)->returns_size(), 1);
  EXPECT_EQ(worker.host().taken.load(), 1);    // "returns"
  EXPECT_EQ(worker.host().dropped.load(), 2);  // "fails", "nothing"
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

proto::TaskSpec WithReturns(proto::TaskSpec spec, int num_returns) {
  spec.set_num_returns(num_returns);
  return spec;
}

// Several returns: one ReturnObject per slot, in order, each with its own id; an error (or a
// wrong number of values) is the reply's error, which the owner puts in every slot.
TEST(TaskExecutorReturnsTest, EachSlotIsRepliedInOrderAndAnErrorFailsTheWholeTask) {
  const std::string big(200 * 1024, 'b');
  Worker worker([&](const proto::TaskSpec& spec, const auto&) {
    TaskResult result;
    if (spec.name() == "fails") {
      result.error.set_type(proto::TASK_EXECUTION_EXCEPTION);
      result.error.set_message("boom");
      result.app_error = true;
    } else if (spec.name() == "two of three") {
      result.returns = {"a", "b"};
    } else {
      result.returns = {"a", big, "c"};
    }
    return result;
  });
  const proto::TaskSpec three = WithReturns(Spec("three", proto::NORMAL_TASK), 3);
  const proto::TaskSpec fails = WithReturns(Spec("fails", proto::NORMAL_TASK), 3);
  const proto::TaskSpec short_one = WithReturns(Spec("two of three", proto::NORMAL_TASK), 3);
  const proto::TaskSpec none = WithReturns(Spec("none", proto::NORMAL_TASK), 0);
  for (const auto* spec : {&three, &fails, &short_one, &none}) worker.Push(*spec);

  const proto::TaskReply ok = worker.WaitForReply(three);
  EXPECT_EQ(ok.error().type(), proto::ERROR_NONE);
  ASSERT_EQ(ok.returns_size(), 3);
  const TaskId task_id = TaskId::FromBinary(three.task_id());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ok.returns(i).object_id(), ObjectIdForReturn(task_id, i + 1).Binary()) << i;
  }
  EXPECT_EQ(ok.returns(0).data(), "a");
  EXPECT_EQ(ok.returns(1).data(), big);  // no object store in this test: inline
  EXPECT_EQ(ok.returns(2).data(), "c");

  const proto::TaskReply failed = worker.WaitForReply(fails);
  EXPECT_EQ(failed.error().message(), "boom");
  EXPECT_TRUE(failed.retryable_app_error());
  EXPECT_EQ(failed.returns_size(), 0);

  const proto::TaskReply wrong = worker.WaitForReply(short_one);
  EXPECT_EQ(wrong.error().type(), proto::TASK_EXECUTION_EXCEPTION);
  EXPECT_NE(wrong.error().message().find("returned 2 values, but num_returns is 3"),
            std::string::npos)
      << wrong.error().message();

  const proto::TaskReply nothing = worker.WaitForReply(none);
  EXPECT_EQ(nothing.error().type(), proto::ERROR_NONE);
  EXPECT_EQ(nothing.returns_size(), 0);
}

// Cancel on the worker: a queued task is answered TASK_CANCELLED without running; a running one
// gets the hook (on the loop thread), and the error it then ends with is reported as
// TASK_CANCELLED; a finished one is left alone.
TEST(TaskExecutorCancelTest, QueuedTasksAreDroppedAndRunningOnesGetTheHook) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<TaskId> hooked;    // guarded by mu
  std::vector<std::string> ran;  // guarded by mu
  Worker worker(
      [&](const proto::TaskSpec& spec, const auto&) {
        TaskResult result;
        std::unique_lock<std::mutex> lock(mu);
        ran.push_back(spec.name());
        if (spec.name() == "loops") {
          // Runs until the hook says it is cancelled (as the C++ API's next call would throw).
          if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return !hooked.empty(); })) {
            result.returns = {"never cancelled"};
            return result;
          }
          result.error.set_type(proto::TASK_EXECUTION_EXCEPTION);
          result.error.set_message("TaskCancelledException");
          result.app_error = true;
          return result;
        }
        result.returns = {spec.name()};
        return result;
      },
      [&](const TaskId& task_id) {
        std::lock_guard<std::mutex> lock(mu);
        hooked.push_back(task_id);
        cv.notify_all();
      });
  const proto::TaskSpec done = WithReturns(Spec("done", proto::NORMAL_TASK), 1);
  const proto::TaskSpec loops = WithReturns(Spec("loops", proto::NORMAL_TASK), 1);
  const proto::TaskSpec queued = WithReturns(Spec("queued", proto::NORMAL_TASK), 1);
  worker.Push(done);
  EXPECT_EQ(worker.WaitForReply(done).returns(0).data(), "done");
  worker.Cancel(done);  // finished: nothing happens
  worker.Push(loops);
  worker.Push(queued);
  ASSERT_TRUE(WaitUntil(
      [&] { return worker.executor().CurrentTaskId() == TaskId::FromBinary(loops.task_id()); }));

  worker.Cancel(queued);
  const proto::TaskReply dropped = worker.WaitForReply(queued);
  EXPECT_EQ(dropped.error().type(), proto::TASK_CANCELLED);
  EXPECT_FALSE(worker.ReplyTo(loops).has_value());  // still running

  worker.Cancel(loops);
  const proto::TaskReply interrupted = worker.WaitForReply(loops);
  EXPECT_EQ(interrupted.error().type(), proto::TASK_CANCELLED);
  EXPECT_FALSE(interrupted.retryable_app_error());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(hooked, std::vector<TaskId>{TaskId::FromBinary(loops.task_id())});
  EXPECT_EQ(ran, (std::vector<std::string>{"done", "loops"}));  // "queued" never ran
}

// A cancel that arrives after the task's code returned — its reply already sent, the executor
// not yet on to its next task — finds nothing running: no hook (which in Python would interrupt
// whatever the thread runs next), and no mark left behind.
TEST(TaskExecutorCancelTest, ACancelAfterTheTaskReturnedIsANoOp) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;        // guarded by mu
  std::vector<TaskId> hooked;  // guarded by mu
  Worker worker(
      [](const proto::TaskSpec& spec, const auto&) {
        TaskResult result;
        result.returns = {spec.name()};
        return result;
      },
      [&](const TaskId& task_id) {
        std::lock_guard<std::mutex> lock(mu);
        hooked.push_back(task_id);
      });
  const proto::TaskSpec first = WithReturns(Spec("first", proto::NORMAL_TASK), 1);
  const proto::TaskSpec queued = WithReturns(Spec("queued", proto::NORMAL_TASK), 1);
  // The executor stays between "first"'s reply and its next task until released.
  worker.host().on_release = [&](const proto::TaskSpec& spec) {
    if (spec.name() != "first") return;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(20), [&] { return release; });
  };
  worker.Push(first);
  worker.Push(queued);
  EXPECT_EQ(worker.WaitForReply(first).returns(0).data(), "first");
  worker.Cancel(first);
  // Cancels are handled in order: once "queued" is answered cancelled, "first"'s was handled.
  worker.Cancel(queued);
  EXPECT_EQ(worker.WaitForReply(queued).error().type(), proto::TASK_CANCELLED);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(hooked.empty());
    release = true;
  }
  cv.notify_all();
}

}  // namespace
}  // namespace moray::core
