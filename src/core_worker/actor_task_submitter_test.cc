// ActorTaskSubmitter against in-process peers over real loopback connections: a fake GCS actor
// channel whose ACTOR_UPDATEs the test publishes, and fake actor workers (testing/fake_peers.h).
// Replies out of order, an actor's worker dropping the connection mid-call (then a restart
// elsewhere, or death), and an actor address that cannot be reached.
#include "core_worker/actor_task_submitter.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "core_worker/testing/core_harness.h"
#include "core_worker/testing/fake_peers.h"
#include "rpc/testing/loopback.h"
#include "gtest/gtest.h"
#include "gcs.pb.h"
#include "worker.pb.h"

namespace moray::core {
namespace {

using testing::FakeServer;
using testing::FakeWorker;
using testing::OnLoop;
using testing::WaitUntil;


// The GCS's actor channel, as far as callers see it: subscriptions, and the updates the test
// publishes to every subscriber.
class FakeGcs {
 public:
  explicit FakeGcs(rpc::EventLoop* loop) : loop_(loop), service_("fake gcs") {
    service_.OneWay<proto::SubscribeActorRequest>(
        proto::SUBSCRIBE_ACTOR, rpc::kAnyMember,
        [this](const rpc::Peer& peer, proto::SubscribeActorRequest&&) {
          subscribers_.push_back(peer.conn);
          ++subscriptions_;
          if (!latest_.actor_id().empty()) peer.conn->Send(proto::ACTOR_UPDATE, latest_);
        });
    server_ = std::make_unique<FakeServer>(loop, &service_);
  }
  rpc::Endpoint endpoint() const { return rpc::Endpoint{"127.0.0.1", server_->port()}; }
  // Every subscriber (now and later) gets `info`.
  void Publish(const proto::ActorInfo& info) {
    OnLoop(loop_, [&] {
      latest_ = info;
      for (auto& conn : subscribers_) conn->Send(proto::ACTOR_UPDATE, info);
    });
  }
  int subscriptions() const { return subscriptions_; }

 private:
  rpc::EventLoop* const loop_;
  rpc::Service service_;
  proto::ActorInfo latest_;                                    // loop thread
  std::vector<std::shared_ptr<rpc::Connection>> subscribers_;  // loop thread
  std::atomic<int> subscriptions_{0};
  std::unique_ptr<FakeServer> server_;  // last: it stops dispatching before the rest goes
};

// A caller: a core worker's context around the actor submitter.
class Caller : public testing::CoreHarness {
 public:
  explicit Caller(const rpc::Endpoint& gcs) : CoreHarness("caller") {
    OnLoop(&loop_, [&] {
      submitter_ = std::make_unique<ActorTaskSubmitter>(&context_, gcs);
      service_.Raw(proto::WORKER_TASK_REPLIES, rpc::kCalledPeer,
                   [this](const rpc::Peer& peer, rpc::Frame&& frame) {
                     submitter_->OnTaskReplies(peer, frame);
                   });
    });
    references_.AddOwned(ActorHandleId(actor_id_));
    references_.AddLocalReference(ActorHandleId(actor_id_));
  }
  ~Caller() {
    OnLoop(&loop_, [&] {
      context_.shutting_down = true;
      pool_.reset();
      submitter_.reset();
    });
  }

  const ActorId& actor_id() const { return actor_id_; }
  // Calls method `name` of the actor; returns the call's return object id.
  ObjectId Call(const std::string& name) {
    proto::TaskSpec spec;
    spec.set_type(proto::ACTOR_TASK);
    const TaskId task_id = NewTaskId(context_.job_id);
    spec.set_task_id(task_id.Binary());
    spec.set_job_id(context_.job_id.Binary());
    spec.set_actor_id(actor_id_.Binary());
    spec.set_name(name);
    spec.set_function_name(name);
    spec.set_num_returns(1);
    *spec.mutable_owner() = context_.address_proto;
    const ObjectId return_id = ObjectIdForReturn(task_id, 1);
    references_.AddOwned(return_id);
    references_.AddSubmittedTaskReference(ActorHandleId(actor_id_));
    submitter_->Submit(std::move(spec));
    return return_id;
  }
  bool Ready(const ObjectId& id) { return store_.Contains(id); }
  absl::Status Cancel(const ObjectId& return_id, bool force) {
    absl::Status status;
    OnLoop(&loop_, [&] { status = submitter_->Cancel(TaskIdOf(return_id), force, true); });
    return status;
  }
  proto::ErrorType ErrorOf(const ObjectId& id) {
    auto objects = store_.WaitAll({id}, absl::Now() + absl::Seconds(20));
    return objects ? (*objects)[0].error.type() : proto::ERROR_NONE;
  }

 private:
  const ActorId actor_id_ = NewActorId(JobIdFromInt(1));
  std::unique_ptr<ActorTaskSubmitter> submitter_;   // loop thread after construction
};

class ActorTaskSubmitterTest : public ::testing::Test {
 protected:
  void SetUp() override { fakes_.StartThread("fakes"); }
  void TearDown() override { fakes_.Stop(); }

  static proto::ActorInfo Info(const ActorId& actor_id, proto::ActorState state,
                               const proto::Address& address = {}, int max_task_retries = 0) {
    proto::ActorInfo info;
    info.set_actor_id(actor_id.Binary());
    info.set_state(state);
    info.set_class_name("Counter");
    *info.mutable_address() = address;
    info.set_max_task_retries(max_task_retries);
    return info;
  }

  rpc::EventLoop fakes_;
};

// Calls go out in submission order; the actor answers them in reverse, each in its own frame.
TEST_F(ActorTaskSubmitterTest, RepliesOutOfOrderReachTheirCalls) {
  FakeWorker actor(&fakes_);
  std::vector<proto::TaskSpec> held;  // fakes' loop
  actor.set_on_push([&](FakeWorker&, const std::shared_ptr<rpc::Connection>& caller,
                        const proto::PushTasksRequest& push) {
    for (const auto& spec : push.tasks()) held.push_back(spec);
    if (held.size() < 3) return;
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      FakeWorker::Reply(caller, {FakeWorker::Ok(*it, it->name())});
    }
  });
  FakeGcs gcs(&fakes_);
  Caller caller(gcs.endpoint());
  gcs.Publish(Info(caller.actor_id(), proto::ALIVE, actor.address()));
  ObjectId a = caller.Call("a");
  ObjectId b = caller.Call("b");
  ObjectId c = caller.Call("c");
  EXPECT_EQ(caller.Result(a), "a");
  EXPECT_EQ(caller.Result(b), "b");
  EXPECT_EQ(caller.Result(c), "c");
  EXPECT_EQ(actor.received(), (std::vector<std::string>{"a#0", "b#0", "c#0"}));
}

// The actor's worker drops the connection while a call runs; the GCS then reports a restart
// on another worker: the call runs again there (max_task_retries=1).
TEST_F(ActorTaskSubmitterTest, ACallLostWithTheConnectionRunsAgainAfterARestart) {
  FakeWorker first(&fakes_);
  first.set_on_push([](FakeWorker& self, const auto&, const proto::PushTasksRequest&) {
    self.CloseConnections();  // the worker dies mid-call
  });
  FakeWorker second(&fakes_);
  FakeGcs gcs(&fakes_);
  Caller caller(gcs.endpoint());
  gcs.Publish(Info(caller.actor_id(), proto::ALIVE, first.address(), /*max_task_retries=*/1));
  ObjectId a = caller.Call("a");
  ASSERT_TRUE(WaitUntil([&] { return first.received().size() == 1; }));
  gcs.Publish(Info(caller.actor_id(), proto::RESTARTING, {}, 1));
  gcs.Publish(Info(caller.actor_id(), proto::ALIVE, second.address(), 1));
  EXPECT_EQ(caller.Result(a), "a");
  EXPECT_EQ(second.received(), std::vector<std::string>{"a#1"});
}

TEST_F(ActorTaskSubmitterTest, ACallLostWithTheConnectionFailsWithoutRetries) {
  FakeWorker first(&fakes_);
  first.set_on_push([](FakeWorker& self, const auto&, const proto::PushTasksRequest&) {
    self.CloseConnections();
  });
  FakeWorker second(&fakes_);
  FakeGcs gcs(&fakes_);
  Caller caller(gcs.endpoint());
  gcs.Publish(Info(caller.actor_id(), proto::ALIVE, first.address()));
  ObjectId a = caller.Call("a");
  ASSERT_TRUE(WaitUntil([&] { return first.received().size() == 1; }));
  // The restart may reach the caller before or after it sees the connection drop.
  gcs.Publish(Info(caller.actor_id(), proto::RESTARTING));
  gcs.Publish(Info(caller.actor_id(), proto::ALIVE, second.address()));
  std::string result = caller.Result(a);
  EXPECT_NE(result.find("died while running the call"), std::string::npos) << result;
  EXPECT_NE(result.find("max_task_retries=0"), std::string::npos) << result;
  // A later call goes to the restarted actor.
  EXPECT_EQ(caller.Result(caller.Call("b")), "b");
  EXPECT_TRUE(second.received() == std::vector<std::string>{"b#0"});
}

TEST_F(ActorTaskSubmitterTest, ACallLostWithTheConnectionFailsWithTheDeathCause) {
  FakeWorker first(&fakes_);
  first.set_on_push([](FakeWorker& self, const auto&, const proto::PushTasksRequest&) {
    self.CloseConnections();
  });
  FakeGcs gcs(&fakes_);
  Caller caller(gcs.endpoint());
  gcs.Publish(Info(caller.actor_id(), proto::ALIVE, first.address(), 3));
  ObjectId a = caller.Call("a");
  ASSERT_TRUE(WaitUntil([&] { return first.received().size() == 1; }));
  proto::ActorInfo dead = Info(caller.actor_id(), proto::DEAD, {}, 3);
  dead.mutable_death_cause()->set_message("its node died");
  gcs.Publish(dead);
  std::string result = caller.Result(a);
  EXPECT_NE(result.find("(Counter) is dead: its node died"), std::string::npos) << result;
}

// The actor's address does not answer: the connect fails on the caller's loop, later. The calls
// never reached an actor, so they wait (no retry used) and go out once the actor is reachable.
TEST_F(ActorTaskSubmitterTest, AnActorThatCannotBeReachedYetGetsItsCallsOnceItCanBe) {
  FakeWorker actor(&fakes_);
  FakeGcs gcs(&fakes_);
  Caller caller(gcs.endpoint());
  proto::Address nowhere = actor.address();
  nowhere.set_port(rpc::testing::UnusedLoopbackPort());
  gcs.Publish(Info(caller.actor_id(), proto::ALIVE, nowhere));
  ObjectId a = caller.Call("a");
  absl::SleepFor(absl::Milliseconds(300));  // connects are refused meanwhile
  EXPECT_FALSE(caller.Ready(a));
  gcs.Publish(Info(caller.actor_id(), proto::ALIVE, actor.address()));
  EXPECT_EQ(caller.Result(a), "a");
  EXPECT_EQ(actor.received(), std::vector<std::string>{"a#0"});
}

// Cancel: a call still queued at the caller (the actor is not ALIVE yet) never goes out and holds
// TASK_CANCELLED; force is refused for actor calls; the calls around it are unaffected.
TEST_F(ActorTaskSubmitterTest, AQueuedCallIsCancelledAndForceIsRefused) {
  FakeWorker actor(&fakes_);
  FakeGcs gcs(&fakes_);
  Caller caller(gcs.endpoint());
  const ObjectId first = caller.Call("first");
  const ObjectId second = caller.Call("second");
  const ObjectId third = caller.Call("third");
  EXPECT_TRUE(absl::IsInvalidArgument(caller.Cancel(first, /*force=*/true)));
  EXPECT_TRUE(caller.Cancel(second, /*force=*/false).ok());
  EXPECT_EQ(caller.ErrorOf(second), proto::TASK_CANCELLED);
  gcs.Publish(Info(caller.actor_id(), proto::ALIVE, actor.address()));
  EXPECT_EQ(caller.Result(first), "first");
  EXPECT_EQ(caller.Result(third), "third");
  EXPECT_EQ(actor.received(), (std::vector<std::string>{"first#0", "third#0"}));
  EXPECT_TRUE(absl::IsNotFound(caller.Cancel(first, false)));  // done
}

}  // namespace
}  // namespace moray::core
