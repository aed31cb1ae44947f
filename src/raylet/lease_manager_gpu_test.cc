// The lease manager naming GPUs: distinct devices for whole GPUs, shared ones for fractions, ids
// back with every way a lease ends, and group-scoped GPU leases from the same devices.
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raylet/bundle_manager.h"
#include "raylet/lease_manager.h"
#include "raylet/testing/lease_fixture.h"
#include "scheduling/group_resources.h"

namespace moray::raylet {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::LeaseManagerTest;

class GpuLeaseTest : public LeaseManagerTest {
 protected:
  void AddWorkers(int n) {
    for (int i = 0; i < n; ++i) workers_.AddIdle("J", "w" + std::to_string(next_worker_++));
  }
  int next_worker_ = 1;
};

TEST_F(GpuLeaseTest, WholeGpusGetDistinctIdsAndCpuOnlyLeasesNone) {
  MakeNode({{"CPU", 8}, {"GPU", 2}});
  AddWorkers(4);
  Request(1, 1, {{"GPU", 1}});
  Request(1, 2, {{"GPU", 1}});
  Request(1, 3, {{"GPU", 1}});  // both devices are taken: waits
  Request(1, 4, {{"CPU", 1}});
  EXPECT_THAT(GpuIdsOf(1), ElementsAre(0));
  EXPECT_THAT(GpuIdsOf(2), ElementsAre(1));
  EXPECT_FALSE(replies_.contains(3));
  EXPECT_THAT(GpuIdsOf(4), IsEmpty());

  manager_->ReturnWorker(1, 2, /*disconnect_worker=*/false);
  EXPECT_THAT(GpuIdsOf(3), ElementsAre(1)) << "the returned device goes to the next lease";
}

TEST_F(GpuLeaseTest, IdsAreTheNodesOwnAndSeveralGoToOneLease) {
  MakeNode({{"CPU", 8}, {"GPU", 3}}, {4, 6, 7});  // e.g. CUDA_VISIBLE_DEVICES=4,6,7
  AddWorkers(2);
  Request(1, 1, {{"GPU", 2}});
  Request(1, 2, {{"GPU", 2}});  // one device left: waits
  EXPECT_THAT(GpuIdsOf(1), ElementsAre(4, 6));
  EXPECT_FALSE(replies_.contains(2));
  manager_->ReturnWorker(1, 1, /*disconnect_worker=*/false);
  EXPECT_THAT(GpuIdsOf(2), ElementsAre(4, 6));
}

TEST_F(GpuLeaseTest, FractionsShareADeviceUntilItIsFull) {
  MakeNode({{"CPU", 8}, {"GPU", 2}});
  AddWorkers(6);
  Request(1, 1, {{"GPU", 0.5}});
  Request(1, 2, {{"GPU", 0.25}});
  Request(1, 3, {{"GPU", 0.25}});
  Request(1, 4, {{"GPU", 0.5}});  // device 0 is full: the next one
  Request(1, 5, {{"GPU", 1}});    // no whole device free: waits though 0.5 GPU is
  EXPECT_THAT(GpuIdsOf(1), ElementsAre(0));
  EXPECT_THAT(GpuIdsOf(2), ElementsAre(0));
  EXPECT_THAT(GpuIdsOf(3), ElementsAre(0));
  EXPECT_THAT(GpuIdsOf(4), ElementsAre(1));
  EXPECT_FALSE(replies_.contains(5));
  EXPECT_EQ(manager_->available().Get("GPU"), 0.5);

  Request(1, 6, {{"GPU", 0.5}});  // fills device 1
  EXPECT_THAT(GpuIdsOf(6), ElementsAre(1));
  for (int64_t lease : {1, 2, 3}) manager_->ReturnWorker(1, lease, /*disconnect_worker=*/false);
  EXPECT_THAT(GpuIdsOf(5), ElementsAre(0)) << "device 0 is whole again";
}

TEST_F(GpuLeaseTest, AFractionWaitsWhenNoSingleDeviceHasRoomForIt) {
  MakeNode({{"CPU", 8}, {"GPU", 2}});
  AddWorkers(3);
  Request(1, 1, {{"GPU", 0.6}});
  Request(1, 2, {{"GPU", 0.6}});  // device 0 has only 0.4 left: device 1
  Request(1, 3, {{"GPU", 0.8}});  // 0.8 is free in all, but 0.4 on each device
  EXPECT_THAT(GpuIdsOf(1), ElementsAre(0));
  EXPECT_THAT(GpuIdsOf(2), ElementsAre(1));
  EXPECT_FALSE(replies_.contains(3));
  manager_->ReturnWorker(1, 2, /*disconnect_worker=*/false);
  EXPECT_THAT(GpuIdsOf(3), ElementsAre(1));
}

TEST_F(GpuLeaseTest, DeathDisconnectAndBlockingKeepTheAccountRight) {
  MakeNode({{"CPU", 8}, {"GPU", 2}});
  AddWorkers(2);
  Request(1, 1, {{"CPU", 1}, {"GPU", 1}});  // w1
  Request(2, 2, {{"CPU", 1}, {"GPU", 1}});  // w2, of another requester
  ASSERT_THAT(GpuIdsOf(1), ElementsAre(0));
  ASSERT_THAT(GpuIdsOf(2), ElementsAre(1));

  // Blocked in Get: only the CPU is lent back; the devices stay the lease's.
  manager_->NotifyBlocked(testing::W("w1"));
  AddWorkers(1);  // w3
  Request(1, 3, {{"GPU", 1}});
  EXPECT_FALSE(replies_.contains(3));
  manager_->NotifyUnblocked(testing::W("w1"));

  manager_->OnWorkerDied(testing::W("w1"));
  EXPECT_THAT(GpuIdsOf(3), ElementsAre(0)) << "a dead worker's device is free again";

  AddWorkers(1);  // w4
  Request(1, 4, {{"GPU", 1}});
  EXPECT_FALSE(replies_.contains(4));
  manager_->OnClientDisconnected(2);
  EXPECT_THAT(GpuIdsOf(4), ElementsAre(1)) << "a gone requester's device is free again";
}

TEST_F(GpuLeaseTest, GroupScopedGpuLeasesGetIdsFromTheSameDevices) {
  MakeNode({{"CPU", 8}, {"GPU", 3}});
  BundleManager bundles(manager_.get());
  const PlacementGroupId group = NewPlacementGroupId(JobIdFromInt(1));
  proto::Bundle bundle;
  bundle.set_index(0);
  (*bundle.mutable_resources())["GPU"] = 2;
  ASSERT_TRUE(bundles.Prepare(group, {bundle}).ok());
  ASSERT_TRUE(bundles.Commit(group, {bundle}).ok());
  auto in_group = [&](double gpus, int index) {
    return scheduling::GroupScoped(*scheduling::ResourceSet::FromMap({{"GPU", gpus}}), group, index)
        .ToMap();
  };
  AddWorkers(5);
  Request(1, 1, {{"GPU", 1}});  // plain: the one device outside the bundle
  Request(1, 2, in_group(1, 0));
  Request(1, 3, in_group(0.5, -1));
  Request(1, 4, in_group(0.5, -1));
  Request(1, 5, {{"GPU", 1}});  // plain work cannot use the reservation: waits
  std::set<int> whole = {GpuIdsOf(1).at(0), GpuIdsOf(2).at(0)};
  EXPECT_EQ(whole.size(), 2u) << "whole GPUs never share a device";
  ASSERT_EQ(GpuIdsOf(3).size(), 1u);
  EXPECT_EQ(GpuIdsOf(3), GpuIdsOf(4)) << "two halves share the third device";
  EXPECT_FALSE(whole.contains(GpuIdsOf(3).at(0)));
  EXPECT_FALSE(replies_.contains(5));

  // The group ends: its leases' workers are killed and their devices freed.
  bundles.Return(group, {}, /*group_removed=*/true, "placement group removed");
  manager_->ReturnWorker(1, 1, /*disconnect_worker=*/false);
  EXPECT_TRUE(Granted(5));
  AddWorkers(2);
  Request(1, 6, {{"GPU", 1}});
  Request(1, 7, {{"GPU", 1}});
  EXPECT_TRUE(Granted(6));
  EXPECT_TRUE(Granted(7));
  std::set<int> all = {GpuIdsOf(5).at(0), GpuIdsOf(6).at(0), GpuIdsOf(7).at(0)};
  EXPECT_EQ(all, (std::set<int>{0, 1, 2})) << "every device came back";
}

}  // namespace
}  // namespace moray::raylet
