// NormalTaskSubmitter against in-process peers (testing/fake_peers.h) over real loopback
// connections: a worker that dies before it answers, replies out of order, a worker or a
// spillback raylet that cannot be reached, a raylet that drops the connection mid-call or
// rejects the lease.
#include "core_worker/normal_task_submitter.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>

#include "common/id.h"
#include "core_worker/testing/core_harness.h"
#include "core_worker/testing/fake_peers.h"
#include "gtest/gtest.h"
#include "rpc/testing/loopback.h"
#include "scheduling/group_resources.h"

namespace moray::core {
namespace {

using testing::FakeRaylet;
using testing::FakeWorker;
using testing::OnLoop;
using testing::WaitUntil;


// The owner's side: a core worker's context around the submitter, with its own I/O loop, a
// connection to the (fake) local raylet and the pool for everything else.
class Owner : public testing::CoreHarness {
 public:
  Owner(int raylet_port, SubmitterOptions options) : CoreHarness("owner") {
    OnLoop(&loop_, [&] {
      submitter_ = std::make_unique<NormalTaskSubmitter>(&context_, options);
      service_.Raw(proto::WORKER_TASK_REPLIES, rpc::kCalledPeer,
                   [this](const rpc::Peer& peer, rpc::Frame&& frame) {
                     submitter_->OnTaskReplies(peer, frame);
                   });
      auto raylet = rpc::Connection::Connect(&loop_, "127.0.0.1", raylet_port, absl::Seconds(5));
      ASSERT_TRUE(raylet.ok()) << raylet.status();
      context_.raylet = *raylet;
      context_.raylet->SetHandlers(
          [this](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& f) {
            service_.Dispatch(c, std::move(f));
          },
          nullptr);
    });
  }
  ~Owner() {
    OnLoop(&loop_, [&] {
      context_.shutting_down = true;
      pool_.reset();
      context_.raylet->Close();
      submitter_.reset();
    });
  }

  // Submits a task called `name` (with `strategy`); returns its return object's id.
  ObjectId Submit(const std::string& name, int max_retries = 0,
                  const proto::SchedulingStrategy& strategy = {}) {
    return SubmitWithReturns(name, 1, max_retries, strategy).at(0);
  }
  // As Submit, with `num_returns` return slots: their ids, in order (none for 0; then the
  // task's id is in last_task_id()).
  std::vector<ObjectId> SubmitWithReturns(const std::string& name, int num_returns,
                                          int max_retries = 0,
                                          const proto::SchedulingStrategy& strategy = {}) {
    proto::TaskSpec spec;
    const TaskId task_id = NewTaskId(context_.job_id);
    spec.set_task_id(task_id.Binary());
    spec.set_job_id(context_.job_id.Binary());
    spec.set_name(name);
    spec.set_function_name("f");
    spec.set_num_returns(num_returns);
    spec.set_max_retries(max_retries);
    (*spec.mutable_resources())["CPU"] = 1;
    *spec.mutable_scheduling_strategy() = strategy;
    *spec.mutable_owner() = context_.address_proto;
    std::vector<ObjectId> returns;
    for (int i = 1; i <= num_returns; ++i) {
      returns.push_back(ObjectIdForReturn(task_id, i));
      references_.AddOwned(returns.back());
    }
    last_task_id_ = task_id;
    submitter_->Submit(std::move(spec));
    return returns;
  }
  TaskId last_task_id() const { return last_task_id_; }

  bool Cancel(const ObjectId& return_id, bool force) {
    bool found = false;
    OnLoop(&loop_, [&] { found = submitter_->Cancel(TaskIdOf(return_id), force, true); });
    return found;
  }
  // Whether the task is still pending in the submitter.
  bool Pending(const TaskId& task_id) {
    bool pending = false;
    OnLoop(&loop_, [&] { pending = submitter_->StateOf(task_id).has_value(); });
    return pending;
  }
  // The error type the stored object `id` holds (ERROR_NONE for a value).
  proto::ErrorType ErrorOf(const ObjectId& id) {
    auto objects = store_.WaitAll({id}, absl::Now() + absl::Seconds(20));
    return objects ? (*objects)[0].error.type() : proto::ERROR_NONE;
  }

 private:
  std::unique_ptr<NormalTaskSubmitter> submitter_;     // loop thread after construction
  TaskId last_task_id_;
};

class NormalTaskSubmitterTest : public ::testing::Test {
 protected:
  void SetUp() override { fakes_.StartThread("fakes"); }
  void TearDown() override { fakes_.Stop(); }

  static SubmitterOptions Options() {
    SubmitterOptions options;
    options.max_pending_lease_requests = 1;
    options.lease_idle_timeout = absl::Seconds(30);  // a lease stays while a test runs
    return options;
  }

  rpc::EventLoop fakes_;
};

TEST_F(NormalTaskSubmitterTest, RunsATaskOnALeasedWorker) {
  FakeWorker worker(&fakes_);
  FakeRaylet raylet(&fakes_, {&worker});
  Owner owner(raylet.port(), Options());
  EXPECT_EQ(owner.Result(owner.Submit("a")), "a");
  EXPECT_EQ(worker.received(), std::vector<std::string>{"a#0"});
}

// The worker takes the task and dies before it answers: the reply is lost with the connection.
// The task runs again (a new attempt, on the next worker leased), within max_retries.
TEST_F(NormalTaskSubmitterTest, AWorkerThatDiesBeforeReplyingHasItsTaskRetried) {
  FakeWorker dying(&fakes_);
  FakeWorker healthy(&fakes_);
  dying.set_on_push([](FakeWorker& self, const auto&, const proto::PushTasksRequest&) {
    self.CloseConnections();  // no reply, ever
  });
  FakeRaylet raylet(&fakes_, {&dying, &healthy});
  Owner owner(raylet.port(), Options());
  EXPECT_EQ(owner.Result(owner.Submit("a", /*max_retries=*/1)), "a");
  EXPECT_EQ(dying.received(), std::vector<std::string>{"a#0"});
  EXPECT_EQ(healthy.received(), std::vector<std::string>{"a#1"});
  // The owner told the raylet not to reuse the worker that died.
  ASSERT_TRUE(WaitUntil([&] { return !raylet.returned().empty(); }));
  EXPECT_TRUE(raylet.returned()[0].disconnect);
}

TEST_F(NormalTaskSubmitterTest, AWorkerThatDiesBeforeReplyingFailsATaskWithoutRetries) {
  FakeWorker dying(&fakes_);
  dying.set_on_push([](FakeWorker& self, const auto&, const proto::PushTasksRequest&) {
    self.CloseConnections();
  });
  FakeRaylet raylet(&fakes_, {&dying});
  Owner owner(raylet.port(), Options());
  std::string result = owner.Result(owner.Submit("a", /*max_retries=*/0));
  EXPECT_NE(result.find("died unexpectedly"), std::string::npos) << result;
  EXPECT_NE(result.find("max_retries=0"), std::string::npos) << result;
}

// Pipelined tasks answered in another order than they were sent, each in a frame of its own,
// with a stale reply (an unknown task) among them: each return goes to its own task.
TEST_F(NormalTaskSubmitterTest, RepliesOutOfOrderReachTheirTasks) {
  FakeWorker worker(&fakes_);
  std::shared_ptr<rpc::Connection> owner_conn;
  std::vector<proto::TaskSpec> held;  // fakes' loop
  worker.set_on_push([&](FakeWorker&, const std::shared_ptr<rpc::Connection>& owner,
                         const proto::PushTasksRequest& push) {
    for (const auto& spec : push.tasks()) {
      if (spec.name() == "first") {
        FakeWorker::Reply(owner, {FakeWorker::Ok(spec, "first")});
        continue;
      }
      held.push_back(spec);
    }
    if (held.size() < 3) return;
    proto::TaskSpec stranger = held[0];
    stranger.set_task_id(NewTaskId(JobIdFromInt(1)).Binary());
    FakeWorker::Reply(owner, {FakeWorker::Ok(stranger, "nobody's")});
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      FakeWorker::Reply(owner, {FakeWorker::Ok(*it, it->name())});
    }
  });
  FakeRaylet raylet(&fakes_, {&worker});
  SubmitterOptions options = Options();
  options.pipeline_below = absl::Hours(1);  // every task counts as short: up to 32 in flight
  Owner owner(raylet.port(), options);
  // The first reply tells the submitter how long the function's tasks take.
  ASSERT_EQ(owner.Result(owner.Submit("first")), "first");
  ObjectId b = owner.Submit("b");
  ObjectId c = owner.Submit("c");
  ObjectId d = owner.Submit("d");
  EXPECT_EQ(owner.Result(b), "b");
  EXPECT_EQ(owner.Result(c), "c");
  EXPECT_EQ(owner.Result(d), "d");
  EXPECT_EQ(raylet.requests(), 1) << "one lease served them all";
}

// A lease on a worker whose port does not answer: the connect fails later, on the owner's loop.
// The task never reached a worker, so it goes to the next lease with its retries untouched, and
// the unusable lease is returned.
TEST_F(NormalTaskSubmitterTest, AWorkerThatCannotBeReachedCostsNoRetry) {
  FakeWorker worker(&fakes_);
  FakeRaylet raylet(&fakes_, {&worker});
  proto::Address nowhere;
  nowhere.set_ip("127.0.0.1");
  nowhere.set_port(rpc::testing::UnusedLoopbackPort());
  nowhere.set_worker_id("unreachable");
  std::atomic<int> leases{0};
  raylet.set_on_lease([&](const proto::RequestWorkerLeaseRequest& request,
                          const FakeRaylet::Responder& respond) {
    if (leases++ > 0) return false;  // later ones: the real worker
    respond(FakeRaylet::Grant(request.lease_id(), nowhere));
    return true;
  });
  Owner owner(raylet.port(), Options());
  EXPECT_EQ(owner.Result(owner.Submit("a", /*max_retries=*/0)), "a");
  EXPECT_EQ(worker.received(), std::vector<std::string>{"a#0"});
  ASSERT_TRUE(WaitUntil([&] { return !raylet.returned().empty(); }));
  EXPECT_EQ(raylet.returned()[0].lease_id, 1);
  EXPECT_TRUE(raylet.returned()[0].disconnect);
}

// Spillback to another raylet that drops the connection while the lease request is in flight
// (or cannot be reached at all): the work is placed again through the local raylet.
TEST_F(NormalTaskSubmitterTest, ASpillbackRayletThatClosesMidCallGetsTheWorkPlacedAgain) {
  FakeWorker worker(&fakes_);
  FakeRaylet local(&fakes_, {&worker});
  FakeRaylet remote(&fakes_, {});
  remote.set_on_lease([&](const proto::RequestWorkerLeaseRequest&, const FakeRaylet::Responder&) {
    remote.CloseConnections();  // mid-call: no answer
    return true;
  });
  std::atomic<int> asked{0};
  local.set_on_lease([&](const proto::RequestWorkerLeaseRequest& request,
                         const FakeRaylet::Responder& respond) {
    if (asked++ > 0) return false;  // the second time: granted here
    proto::RequestWorkerLeaseReply spill;
    spill.set_lease_id(request.lease_id());
    *spill.mutable_retry_at_raylet() = remote.address();
    respond(spill);
    return true;
  });
  Owner owner(local.port(), Options());
  EXPECT_EQ(owner.Result(owner.Submit("a")), "a");
  EXPECT_EQ(remote.requests(), 1);
  EXPECT_GE(local.requests(), 2);
}

TEST_F(NormalTaskSubmitterTest, ASpillbackRayletThatCannotBeReachedGetsTheWorkPlacedAgain) {
  FakeWorker worker(&fakes_);
  FakeRaylet local(&fakes_, {&worker});
  const int nowhere = rpc::testing::UnusedLoopbackPort();
  std::atomic<int> asked{0};
  local.set_on_lease([&](const proto::RequestWorkerLeaseRequest& request,
                         const FakeRaylet::Responder& respond) {
    if (asked++ > 0) return false;
    proto::RequestWorkerLeaseReply spill;
    spill.set_lease_id(request.lease_id());
    spill.mutable_retry_at_raylet()->set_ip("127.0.0.1");
    spill.mutable_retry_at_raylet()->set_port(nowhere);
    respond(spill);
    return true;
  });
  Owner owner(local.port(), Options());
  EXPECT_EQ(owner.Result(owner.Submit("a")), "a");
  EXPECT_EQ(worker.received(), std::vector<std::string>{"a#0"});
}

// A rejection is an error reply: the tasks waiting for such a lease fail with its reason.
TEST_F(NormalTaskSubmitterTest, ALeaseRejectionFailsTheTasksWithTheRayletsReason) {
  FakeWorker worker(&fakes_);
  FakeRaylet raylet(&fakes_, {&worker});
  raylet.set_on_lease([](const proto::RequestWorkerLeaseRequest&,
                         const FakeRaylet::Responder& respond) {
    respond.Fail(absl::FailedPreconditionError("could not start a worker for job 01: boom"));
    return true;
  });
  Owner owner(raylet.port(), Options());
  EXPECT_EQ(owner.Result(owner.Submit("a")),
            "error: The raylet could not run the task: could not start a worker for job 01: boom");
  EXPECT_TRUE(worker.received().empty());
}

// Tasks in a placement group lease with their bundle's group-scoped resources and the strategy;
// tasks of another group (or bundle) never share their leases.
TEST_F(NormalTaskSubmitterTest, TasksInAGroupLeaseTheBundlesResources) {
  FakeWorker first(&fakes_);
  FakeWorker second(&fakes_);
  FakeRaylet raylet(&fakes_, {&first, &second});
  std::mutex mu;
  std::vector<proto::RequestWorkerLeaseRequest> requests;  // guarded by mu
  raylet.set_on_lease(
      [&](const proto::RequestWorkerLeaseRequest& request, const FakeRaylet::Responder&) {
        std::lock_guard<std::mutex> lock(mu);
        requests.push_back(request);
        return false;  // granted as usual
      });
  const PlacementGroupId g1 = NewPlacementGroupId(JobIdFromInt(1));
  const PlacementGroupId g2 = NewPlacementGroupId(JobIdFromInt(1));
  auto in_group = [](const PlacementGroupId& group, int bundle_index) {
    proto::SchedulingStrategy strategy;
    strategy.set_kind(proto::SchedulingStrategy::PLACEMENT_GROUP);
    strategy.set_placement_group_id(group.Binary());
    strategy.set_bundle_index(bundle_index);
    return strategy;
  };
  Owner owner(raylet.port(), Options());
  EXPECT_EQ(owner.Result(owner.Submit("a", 0, in_group(g1, 0))), "a");
  EXPECT_EQ(owner.Result(owner.Submit("b", 0, in_group(g2, -1))), "b");
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(requests.size(), 2u);  // b could not reuse a's lease
  const auto cpu = *scheduling::ResourceSet::FromMap({{"CPU", 1}});
  const auto asked_a = scheduling::GroupScoped(cpu, g1, 0).ToMap();
  const auto asked_b = scheduling::GroupScoped(cpu, g2, -1).ToMap();
  auto asked = [&](size_t i) {
    const auto& resources = requests[i].resources();
    return std::map<std::string, double>(resources.begin(), resources.end());
  };
  EXPECT_EQ(asked(0), asked_a);
  EXPECT_EQ(asked(1), asked_b);
  EXPECT_EQ(requests[0].strategy().kind(), proto::SchedulingStrategy::PLACEMENT_GROUP);
  EXPECT_EQ(requests[0].strategy().placement_group_id(), g1.Binary());
  EXPECT_EQ(requests[0].strategy().bundle_index(), 0);
  EXPECT_EQ(requests[1].strategy().placement_group_id(), g2.Binary());
  EXPECT_EQ(requests[1].strategy().bundle_index(), -1);
  EXPECT_NE(requests[0].scheduling_key(), requests[1].scheduling_key());
}

// Several returns: each slot gets its own value, in order; a failure fills every slot.
TEST_F(NormalTaskSubmitterTest, EachReturnSlotGetsItsValue) {
  FakeWorker worker(&fakes_);
  worker.set_on_push([](FakeWorker& self, const auto& owner, const proto::PushTasksRequest& push) {
    const auto& spec = push.tasks(0);
    self.Reply(owner, {spec.name() == "fails"
                           ? FakeWorker::Failed(spec, proto::TASK_EXECUTION_EXCEPTION, "boom")
                           : FakeWorker::OkValues(spec, {"x", "y", "z"})});
  });
  FakeRaylet raylet(&fakes_, {&worker});
  Owner owner(raylet.port(), Options());
  std::vector<ObjectId> three = owner.SubmitWithReturns("three", 3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(owner.Result(three[0]), "x");
  EXPECT_EQ(owner.Result(three[1]), "y");
  EXPECT_EQ(owner.Result(three[2]), "z");
  for (const ObjectId& id : owner.SubmitWithReturns("fails", 3)) {
    EXPECT_EQ(owner.Result(id), "error: boom");
  }
}

// num_returns = 0: the task runs and completes, with nothing to store.
TEST_F(NormalTaskSubmitterTest, ATaskWithoutReturnsRunsAndCompletes) {
  FakeWorker worker(&fakes_);
  worker.set_on_push([](FakeWorker& self, const auto& owner, const proto::PushTasksRequest& push) {
    self.Reply(owner, {FakeWorker::OkValues(push.tasks(0), {})});
  });
  FakeRaylet raylet(&fakes_, {&worker});
  Owner owner(raylet.port(), Options());
  EXPECT_TRUE(owner.SubmitWithReturns("none", 0).empty());
  const TaskId task_id = owner.last_task_id();
  ASSERT_TRUE(WaitUntil([&] { return worker.received().size() == 1; }));
  EXPECT_TRUE(WaitUntil([&] { return !owner.Pending(task_id); }));
}

// A task waiting for a worker (the only one is busy) is cancelled: it never reaches a worker and
// its returns hold TASK_CANCELLED at once.
TEST_F(NormalTaskSubmitterTest, CancellingAQueuedTaskFailsItWithoutRunningIt) {
  FakeWorker worker(&fakes_);
  worker.set_on_push([](FakeWorker&, const auto&, const proto::PushTasksRequest&) {});  // busy
  FakeRaylet raylet(&fakes_, {&worker});
  Owner owner(raylet.port(), Options());
  const ObjectId busy = owner.Submit("busy");
  ASSERT_TRUE(WaitUntil([&] { return worker.received().size() == 1; }));
  std::vector<ObjectId> queued = owner.SubmitWithReturns("queued", 2, /*max_retries=*/3);
  EXPECT_TRUE(owner.Cancel(queued[0], /*force=*/false));
  EXPECT_EQ(owner.ErrorOf(queued[0]), proto::TASK_CANCELLED);
  EXPECT_EQ(owner.ErrorOf(queued[1]), proto::TASK_CANCELLED);
  EXPECT_EQ(worker.received(), std::vector<std::string>{"busy#0"});
  EXPECT_TRUE(worker.cancels().empty());         // nothing to tell the worker
  EXPECT_FALSE(owner.Cancel(queued[0], false));  // done: a no-op
}

// A task on a worker: the owner sends WORKER_CANCEL_TASK. The worker answers with an error (as
// a cancelled task does), or dies (force): either way TASK_CANCELLED, and no retry.
TEST_F(NormalTaskSubmitterTest, CancellingAPushedTaskTellsTheWorkerAndNeverRetries) {
  FakeWorker worker(&fakes_);
  FakeWorker spare(&fakes_);  // a retry would run here
  std::shared_ptr<proto::TaskSpec> running = std::make_shared<proto::TaskSpec>();
  worker.set_on_push([running](FakeWorker&, const auto&, const proto::PushTasksRequest& push) {
    *running = push.tasks(0);  // runs until cancelled
  });
  worker.set_on_cancel([running](FakeWorker& self, const auto& owner,
                                 const proto::CancelTaskRequest& request) {
    if (request.force()) {
      self.CloseConnections();  // the worker process exits
    } else {
      self.Reply(owner,
                 {FakeWorker::Failed(*running, proto::TASK_EXECUTION_EXCEPTION, "interrupted")});
    }
  });
  FakeRaylet raylet(&fakes_, {&worker, &spare});
  Owner owner(raylet.port(), Options());
  const ObjectId gentle = owner.Submit("gentle", /*max_retries=*/3);
  ASSERT_TRUE(WaitUntil([&] { return worker.received().size() == 1; }));
  EXPECT_TRUE(owner.Cancel(gentle, /*force=*/false));
  EXPECT_EQ(owner.ErrorOf(gentle), proto::TASK_CANCELLED);
  ASSERT_EQ(worker.cancels().size(), 1u);
  EXPECT_FALSE(worker.cancels()[0].force());

  const ObjectId forced = owner.Submit("forced", /*max_retries=*/3);
  ASSERT_TRUE(WaitUntil([&] { return worker.received().size() == 2; }));
  EXPECT_TRUE(owner.Cancel(forced, /*force=*/true));
  EXPECT_EQ(owner.ErrorOf(forced), proto::TASK_CANCELLED);
  EXPECT_EQ(worker.received(), (std::vector<std::string>{"gentle#0", "forced#0"}));
  EXPECT_TRUE(spare.received().empty());  // never retried
}

}  // namespace
}  // namespace moray::core
