// ActorScheduler against scripted peers in this process (a fake raylet leasing fake workers, on
// real loopback connections of the framed channel): creation, a worker lost before the factory
// answered, a lease the raylet rejects.
#include "gcs/actor_scheduler.h"

#include <memory>

#include "common/id.h"
#include "core_worker/testing/fake_peers.h"
#include "gcs/actor_manager.h"
#include "gcs/gcs_table_storage.h"
#include "gcs/job_manager.h"
#include "gcs/node_manager.h"
#include "gtest/gtest.h"

namespace moray::gcs {
namespace {

using core::testing::FakeRaylet;
using core::testing::FakeWorker;
using rpc::testing::OnLoop;
using rpc::testing::WaitUntil;

const std::string kActor(16, 'a');

class ActorSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fakes_.StartThread("fakes");
    loop_.StartThread("gcs_actors");
    ASSERT_TRUE(jobs_.AddJob(proto::JobInfo()).ok());
    OnLoop(&loop_, [&] {
      pool_ = std::make_unique<rpc::ConnectionPool>(&loop_, &pool_service_);
      scheduler_ = std::make_unique<ActorScheduler>(&loop_, pool_.get(), &actors_, &nodes_, &jobs_);
      scheduler_->AddMethods(&pool_service_);
    });
  }
  void TearDown() override {
    OnLoop(&loop_, [&] {
      scheduler_->Shutdown();
      scheduler_.reset();
      pool_.reset();
    });
    loop_.Stop();
    fakes_.Stop();
  }
  void AddNode(const FakeRaylet& raylet) {
    proto::NodeInfo node;
    node.set_node_id(std::string(16, 'n'));
    node.set_node_ip("127.0.0.1");
    node.set_raylet_port(raylet.port());
    (*node.mutable_resources_total())["CPU"] = 1;
    ASSERT_TRUE(nodes_.RegisterNode(node).ok());
  }
  // Registers the actor and asks the scheduler to create it.
  void Create(int max_restarts = 0) {
    proto::ActorInfo info;
    info.set_actor_id(kActor);
    info.set_job_id(JobIdFromInt(1).Binary());
    info.set_class_name("Counter");
    ASSERT_TRUE(actors_.Register(info).ok());
    proto::TaskSpec spec;
    spec.set_type(proto::ACTOR_CREATION_TASK);
    spec.set_task_id(NewTaskId(JobIdFromInt(1)).Binary());
    spec.set_job_id(JobIdFromInt(1).Binary());
    spec.set_actor_id(kActor);
    spec.set_name("Counter.__init__");
    spec.mutable_actor_creation()->set_max_restarts(max_restarts);
    OnLoop(&loop_, [&] { scheduler_->Schedule(spec); });
  }
  proto::ActorInfo Actor() { return *actors_.Get(ActorId::FromBinary(kActor)); }
  bool StateIs(proto::ActorState state) {
    auto info = actors_.Get(ActorId::FromBinary(kActor));
    return info.ok() && info->state() == state;
  }

  rpc::EventLoop fakes_;
  rpc::EventLoop loop_;
  InMemoryTableStorage storage_;
  NodeManager nodes_{&storage_};
  JobManager jobs_{&storage_};
  ActorManager actors_{&storage_};
  rpc::Service pool_service_{"gcs pool"};
  std::unique_ptr<rpc::ConnectionPool> pool_;      // loop thread
  std::unique_ptr<ActorScheduler> scheduler_;      // loop thread
};

TEST_F(ActorSchedulerTest, AnActorIsAliveAtTheWorkerTheRayletLeased) {
  FakeWorker worker(&fakes_);
  FakeRaylet raylet(&fakes_, {&worker});
  AddNode(raylet);
  Create();
  ASSERT_TRUE(WaitUntil([&] { return StateIs(proto::ALIVE); }, absl::Seconds(20)))
      << Actor().DebugString();
  EXPECT_EQ(Actor().address().port(), worker.address().port());
  EXPECT_EQ(worker.received(), std::vector<std::string>{"Counter.__init__#0"});
}

TEST_F(ActorSchedulerTest, AWorkerLostBeforeTheFactoryAnsweredIsReplacedByAFreshLease) {
  // The first worker's connection drops before it answers the creation push; the raylet
  // retires it (as a real one kills a worker returned broken) and leases the second.
  FakeWorker lost(&fakes_);
  lost.set_on_push([](FakeWorker&, const std::shared_ptr<rpc::Connection>& owner,
                      const proto::PushTasksRequest&) { owner->Close(); });
  FakeWorker fresh(&fakes_);
  FakeRaylet raylet(&fakes_, {&lost, &fresh});
  AddNode(raylet);
  Create();
  ASSERT_TRUE(WaitUntil([&] { return StateIs(proto::ALIVE); }, absl::Seconds(30)))
      << Actor().DebugString();
  // Attempt 0 lost with its worker, attempt 1 ran on the fresh one; no restart was charged (the
  // actor never lived).
  EXPECT_EQ(lost.received(), std::vector<std::string>{"Counter.__init__#0"});
  EXPECT_EQ(fresh.received(), std::vector<std::string>{"Counter.__init__#1"});
  EXPECT_EQ(Actor().address().port(), fresh.address().port());
  EXPECT_EQ(Actor().num_restarts(), 0);
  // The lost worker's lease went back marked broken.
  bool returned_broken = false;
  for (const auto& r : raylet.returned()) returned_broken |= r.disconnect;
  EXPECT_TRUE(returned_broken);
}

TEST_F(ActorSchedulerTest, ALeaseTheRayletRejectsMakesTheActorDeadWithTheReason) {
  FakeWorker worker(&fakes_);
  FakeRaylet raylet(&fakes_, {&worker});
  raylet.set_on_lease([](const proto::RequestWorkerLeaseRequest&, const FakeRaylet::Responder& r) {
    r.Fail(absl::InvalidArgumentError("no such resource 'TPU'"));
    return true;
  });
  AddNode(raylet);
  Create();
  ASSERT_TRUE(WaitUntil([&] { return StateIs(proto::DEAD); }, absl::Seconds(20)))
      << Actor().DebugString();
  EXPECT_NE(Actor().death_cause().message().find("no such resource 'TPU'"), std::string::npos)
      << Actor().DebugString();
  EXPECT_TRUE(worker.received().empty());
}

}  // namespace
}  // namespace moray::gcs
