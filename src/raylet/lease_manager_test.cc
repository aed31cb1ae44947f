#include "raylet/lease_manager.h"

#include <deque>
#include <map>
#include <vector>

#include "gtest/gtest.h"
#include "raylet/testing/lease_fixture.h"

namespace moray::raylet {
namespace {

using testing::FakeWorkers;
using testing::J;
using testing::LeaseManagerTest;
using testing::W;

TEST_F(LeaseManagerTest, GrantsInFifoOrderAndAgainOnReturn) {
  MakeNode({{"CPU", 2}});
  for (const char* w : {"w1", "w2", "w3"}) workers_.AddIdle("J", w);
  Request(1, 1, {});  // empty means 1 CPU
  Request(1, 2, {{"CPU", 1}});
  Request(1, 3, {{"CPU", 1}});
  EXPECT_TRUE(Granted(1));
  EXPECT_TRUE(Granted(2));
  EXPECT_FALSE(replies_.contains(3));
  EXPECT_EQ(replies_.at(1)->worker_address().port(), 2000 + '1');
  EXPECT_EQ(replies_.at(1)->worker_pid(), 1000 + '1');
  EXPECT_EQ(manager_->available().Get("CPU"), 0);
  ASSERT_EQ(manager_->Demands().size(), 1u);
  EXPECT_EQ(manager_->Demands()[0].num_ready_requests(), 1);
  EXPECT_FALSE(manager_->Demands()[0].infeasible());

  manager_->ReturnWorker(1, 1, /*disconnect_worker=*/false);
  EXPECT_TRUE(Granted(3));
  EXPECT_EQ(workers_.returned.size(), 1u);
  EXPECT_TRUE(workers_.returned[0].second);
  EXPECT_EQ(manager_->num_queued(), 0u);
  EXPECT_GT(changes_, 0);
}

TEST_F(LeaseManagerTest, StartsWorkersOnlyForRequestsThatFit) {
  MakeNode({{"CPU", 2}});
  for (int i = 1; i <= 5; ++i) Request(1, i, {{"CPU", 1}});
  EXPECT_TRUE(replies_.empty());
  EXPECT_EQ(workers_.wanted("J"), 2);  // only two can run at once
  workers_.AddIdle("J", "w1");
  manager_->Schedule();
  EXPECT_TRUE(Granted(1));
  EXPECT_EQ(manager_->available().Get("CPU"), 1);
}

TEST_F(LeaseManagerTest, InfeasibleStaysQueuedAndIsReportedAsSuch) {
  MakeNode({{"CPU", 2}});
  workers_.AddIdle("J", "w1");
  Request(1, 1, {{"GPU", 1}});
  Request(1, 2, {{"CPU", 3}});
  Request(1, 3, {{"CPU", 1}});
  EXPECT_FALSE(replies_.contains(1));
  EXPECT_FALSE(replies_.contains(2));
  EXPECT_TRUE(Granted(3));  // not stuck behind the infeasible ones
  auto demands = manager_->Demands();
  ASSERT_EQ(demands.size(), 2u);
  for (const auto& demand : demands) {
    EXPECT_TRUE(demand.infeasible());
    EXPECT_EQ(demand.num_ready_requests(), 1);
  }
}

TEST_F(LeaseManagerTest, RejectsMalformedRequests) {
  MakeNode({{"CPU", 2}});
  Request(1, 1, {{"CPU", -1}});
  Request(1, 2, {{"CPU", 0.00001}});
  ASSERT_TRUE(replies_.contains(1));
  EXPECT_EQ(replies_.at(1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(replies_.at(1).status().message().find("CPU"), std::string::npos) << replies_.at(1).status();
  ASSERT_TRUE(replies_.contains(2));
  EXPECT_NE(replies_.at(2).status().message().find("0.0001"), std::string::npos)
      << replies_.at(2).status();
  EXPECT_EQ(manager_->num_queued(), 0u);
}

TEST_F(LeaseManagerTest, FractionalLeasesShareACpu) {
  MakeNode({{"CPU", 1}});
  for (int i = 1; i <= 4; ++i) workers_.AddIdle("J", "w" + std::to_string(i));
  for (int i = 1; i <= 4; ++i) Request(1, i, {{"CPU", 0.25}});
  for (int i = 1; i <= 4; ++i) EXPECT_TRUE(Granted(i)) << i;
  EXPECT_EQ(manager_->available().GetUnits("CPU"), 0);
}

TEST_F(LeaseManagerTest, BlockedWorkerLendsItsCpuUntilUnblocked) {
  MakeNode({{"CPU", 1}});
  workers_.AddIdle("J", "w1");
  workers_.AddIdle("J", "w2");
  Request(1, 1, {{"CPU", 1}});
  Request(2, 2, {{"CPU", 1}});  // a nested task the first one waits for
  ASSERT_TRUE(Granted(1));
  ASSERT_FALSE(replies_.contains(2));
  manager_->NotifyBlocked(W("w1"));
  EXPECT_TRUE(Granted(2));
  EXPECT_EQ(manager_->available().Get("CPU"), 0);
  manager_->NotifyUnblocked(W("w1"));
  EXPECT_EQ(manager_->available().Get("CPU"), -1);  // oversubscribed for a while
  manager_->ReturnWorker(2, 2, false);
  manager_->ReturnWorker(1, 1, false);
  EXPECT_EQ(manager_->available().Get("CPU"), 1);
}

TEST_F(LeaseManagerTest, ReturnWhileBlockedDoesNotDoubleCount) {
  MakeNode({{"CPU", 1}});
  workers_.AddIdle("J", "w1");
  Request(1, 1, {{"CPU", 1}});
  manager_->NotifyBlocked(W("w1"));
  manager_->NotifyBlocked(W("w1"));  // repeated: no effect
  EXPECT_EQ(manager_->available().Get("CPU"), 1);
  manager_->ReturnWorker(1, 1, false);
  EXPECT_EQ(manager_->available().Get("CPU"), 1);
}

TEST_F(LeaseManagerTest, CancelRepliesCanceledOnlyWhileQueued) {
  MakeNode({{"CPU", 1}});
  workers_.AddIdle("J", "w1");
  Request(1, 1, {{"CPU", 1}});
  Request(1, 2, {{"CPU", 1}});
  manager_->CancelLease(1, 2);
  ASSERT_TRUE(replies_.contains(2));
  EXPECT_TRUE(replies_.at(2)->canceled());
  manager_->CancelLease(1, 1);  // granted already: nothing happens
  EXPECT_TRUE(Granted(1));
  EXPECT_EQ(manager_->num_leases(), 1u);
}

TEST_F(LeaseManagerTest, RequesterDisconnectDropsRequestsAndKillsItsWorkers) {
  MakeNode({{"CPU", 2}});
  workers_.AddIdle("J", "w1");
  workers_.AddIdle("J", "w2");
  Request(7, 1, {{"CPU", 1}});
  Request(7, 2, {{"CPU", 2}});  // waits for resources
  Request(8, 3, {{"CPU", 1}});
  ASSERT_TRUE(Granted(1));
  ASSERT_TRUE(Granted(3));
  manager_->OnClientDisconnected(7);
  EXPECT_FALSE(replies_.contains(2));  // nobody to reply to
  EXPECT_EQ(manager_->num_queued(), 0u);
  EXPECT_EQ(workers_.killed, std::vector<std::string>{"w1"});
  EXPECT_EQ(manager_->available().Get("CPU"), 1);
  EXPECT_EQ(manager_->num_leases(), 1u);
}

TEST_F(LeaseManagerTest, WorkerDeathFreesItsLease) {
  MakeNode({{"CPU", 1}});
  workers_.AddIdle("J", "w1");
  workers_.AddIdle("J", "w2");
  Request(1, 1, {{"CPU", 1}});
  Request(1, 2, {{"CPU", 1}});
  manager_->OnWorkerDied(W("w1"));
  EXPECT_TRUE(Granted(2));
  EXPECT_EQ(replies_.at(2)->worker_pid(), 1000 + '2');
}

TEST_F(LeaseManagerTest, FailJobRequestsRepliesWithTheError) {
  MakeNode({{"CPU", 1}});
  Request(1, 1, {{"CPU", 1}}, "A");
  Request(1, 2, {{"CPU", 1}}, "B");
  manager_->FailJobRequests(J("A"), "", "could not start a worker for job A: boom");
  ASSERT_TRUE(replies_.contains(1));
  EXPECT_EQ(replies_.at(1).status(),
            absl::FailedPreconditionError("could not start a worker for job A: boom"));
  EXPECT_FALSE(replies_.contains(2));
}

TEST_F(LeaseManagerTest, ReplaceWaitingOffersOnlyRequestsThatCannotRunHereNow) {
  MakeNode({{"CPU", 1}});
  workers_.AddIdle("J", "w1");
  Request(1, 1, {});                 // granted: takes the CPU
  Request(1, 2, {});                 // waits for the CPU
  Request(1, 3, {{"GPU", 1}});       // can never run here
  Request(1, 4, {{"CPU", 0}});       // its resources are free: it only waits for a worker
  auto queue = [&](int64_t lease_id, bool spilled, bool actor, double gpus = 0) {
    proto::RequestWorkerLeaseRequest request;
    request.set_lease_id(lease_id);
    request.set_job_id("J");
    request.set_spilled(spilled);
    if (actor) request.set_actor_id("A");
    if (gpus > 0) (*request.mutable_resources())["GPU"] = gpus;
    manager_->RequestLease(1, request, [this, lease_id](const Reply& reply) {
      replies_.emplace(lease_id, reply);
    });
  };
  queue(5, /*spilled=*/true, /*actor=*/false);  // sent here by another raylet: stays
  queue(6, /*spilled=*/false, /*actor=*/true);  // an actor the GCS placed here: stays
  // Sent here, but this node can never run it (its owner queued it here when the node it was
  // spilled to could not be reached): offered, so it moves once a node that can run it exists.
  queue(7, /*spilled=*/true, /*actor=*/false, /*gpus=*/1);
  ASSERT_TRUE(Granted(1));
  std::vector<int64_t> offered;
  manager_->ReplaceWaiting([&](const proto::RequestWorkerLeaseRequest& request,
                               const LeaseManager::ReplyFn& reply) {
    offered.push_back(request.lease_id());
    if (request.lease_id() != 2) return false;  // only 2 finds a node with room
    proto::RequestWorkerLeaseReply spill;
    spill.set_lease_id(2);
    spill.mutable_retry_at_raylet()->set_port(7);
    reply(spill);
    return true;
  });
  EXPECT_EQ(offered, (std::vector<int64_t>{2, 3, 7}));
  ASSERT_TRUE(replies_.contains(2));
  ASSERT_TRUE(replies_.at(2).ok());
  EXPECT_EQ(replies_.at(2)->retry_at_raylet().port(), 7);
  EXPECT_EQ(manager_->num_queued(), 5u) << "2 left the queue; 3 to 7 wait here";
}

TEST_F(LeaseManagerTest, DuplicateLeaseIdIsRejected) {
  MakeNode({{"CPU", 1}});
  Request(1, 1, {{"CPU", 1}});
  proto::RequestWorkerLeaseRequest request;
  request.set_lease_id(1);
  request.set_job_id("J");
  absl::Status error;
  manager_->RequestLease(1, request, [&](const auto& reply) { error = reply.status(); });
  EXPECT_EQ(error.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(error.message().find("already in use"), std::string::npos);
}

}  // namespace
}  // namespace moray::raylet
