#include "raylet/bundle_manager.h"

#include "gtest/gtest.h"
#include "raylet/testing/lease_fixture.h"
#include "scheduling/group_resources.h"

namespace moray::raylet {
namespace {

class BundleManagerTest : public testing::LeaseManagerTest {
 protected:
  void SetUp() override {
    MakeNode({{"CPU", 4}});
    bundles_ = std::make_unique<BundleManager>(manager_.get());
  }
  static proto::Bundle Bundle(int index, double cpus) {
    proto::Bundle b;
    b.set_index(index);
    (*b.mutable_resources())["CPU"] = cpus;
    return b;
  }
  // A lease request in bundle `index` of `group` (-1: any).
  void RequestIn(int64_t lease_id, const PlacementGroupId& group, int index, double cpus) {
    std::map<std::string, double> scoped =
        scheduling::GroupScoped(*scheduling::ResourceSet::FromMap({{"CPU", cpus}}), group, index)
            .ToMap();
    Request(1, lease_id, scoped);
  }

  const PlacementGroupId group_ = NewPlacementGroupId(JobIdFromInt(1));
  std::unique_ptr<BundleManager> bundles_;
};

TEST_F(BundleManagerTest, PrepareReservesAllOrNothingAndRepeatsAreHarmless) {
  ASSERT_TRUE(bundles_->Prepare(group_, {Bundle(0, 2), Bundle(1, 1)}).ok());
  EXPECT_EQ(manager_->available().Get("CPU"), 1);
  ASSERT_TRUE(bundles_->Prepare(group_, {Bundle(0, 2), Bundle(1, 1)}).ok());  // again
  EXPECT_EQ(manager_->available().Get("CPU"), 1);
  const PlacementGroupId other = NewPlacementGroupId(JobIdFromInt(1));
  auto full = bundles_->Prepare(other, {Bundle(0, 1), Bundle(1, 1)});
  EXPECT_TRUE(absl::IsResourceExhausted(full)) << full;
  EXPECT_EQ(manager_->available().Get("CPU"), 1) << "nothing of a refused prepare is kept";
  // Plain work cannot use the reservation.
  workers_.AddIdle("J", "w1");
  Request(1, 1, {{"CPU", 2}});
  EXPECT_FALSE(Granted(1));
}

TEST_F(BundleManagerTest, CommittedBundlesServeOnlyTheirGroup) {
  ASSERT_TRUE(bundles_->Prepare(group_, {Bundle(0, 2), Bundle(1, 1)}).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      bundles_->Commit(NewPlacementGroupId(JobIdFromInt(1)), {Bundle(0, 2)})));
  ASSERT_TRUE(bundles_->Commit(group_, {Bundle(0, 2), Bundle(1, 1)}).ok());
  ASSERT_TRUE(bundles_->Commit(group_, {Bundle(0, 2), Bundle(1, 1)}).ok());  // idempotent
  EXPECT_EQ(manager_->total().Get("CPU_group_" + group_.Hex()), 3);
  EXPECT_EQ(manager_->total().Get("CPU_group_0_" + group_.Hex()), 2);
  for (const char* w : {"w1", "w2", "w3", "w4"}) workers_.AddIdle("J", w);
  RequestIn(1, group_, 0, 2);
  RequestIn(2, group_, 1, 1);
  RequestIn(3, group_, -1, 1);  // the group is full now: waits
  EXPECT_TRUE(Granted(1));
  EXPECT_TRUE(Granted(2));
  EXPECT_FALSE(replies_.contains(3));
  RequestIn(4, group_, 0, 3);  // more than bundle 0 holds: infeasible here
  EXPECT_FALSE(replies_.contains(4));
  manager_->ReturnWorker(1, 2, /*disconnect_worker=*/false);
  EXPECT_TRUE(Granted(3)) << "a freed bundle serves any-bundle requests";
}

TEST_F(BundleManagerTest, RemovalEndsTheGroupsWorkAndGivesEverythingBack) {
  ASSERT_TRUE(bundles_->Prepare(group_, {Bundle(0, 2)}).ok());
  ASSERT_TRUE(bundles_->Commit(group_, {Bundle(0, 2)}).ok());
  workers_.AddIdle("J", "w1");
  RequestIn(1, group_, 0, 2);
  RequestIn(2, group_, 0, 1);  // queued behind it
  ASSERT_TRUE(Granted(1));
  workers_.AddIdle("J", "w2");
  Request(1, 3, {{"CPU", 2}});  // plain work, not the group's
  EXPECT_TRUE(Granted(3));

  bundles_->Return(group_, {}, /*group_removed=*/true, "placement group G was removed");
  EXPECT_EQ(workers_.killed, std::vector<std::string>{"w1"});
  ASSERT_TRUE(replies_.contains(2));
  EXPECT_EQ(replies_.at(2).status().message(), "placement group G was removed");
  EXPECT_EQ(manager_->total(), *scheduling::ResourceSet::FromMap({{"CPU", 4}}));
  EXPECT_EQ(manager_->available().Get("CPU"), 2);  // lease 3 still holds 2
  EXPECT_EQ(bundles_->num_bundles(), 0u);
  // Later requests of the group are refused with the reason; returning again is harmless.
  EXPECT_EQ(bundles_->RejectionOf(scheduling::GroupScoped({}, group_, -1)),
            "placement group G was removed");
  EXPECT_EQ(bundles_->RejectionOf(*scheduling::ResourceSet::FromMap({{"CPU", 1}})), "");
  bundles_->Return(group_, {Bundle(0, 2)}, /*group_removed=*/true, "again");
  EXPECT_TRUE(absl::IsFailedPrecondition(bundles_->Prepare(group_, {Bundle(0, 2)})));
  EXPECT_EQ(manager_->available().Get("CPU"), 2);
}

TEST_F(BundleManagerTest, ACanceledPrepareGivesTheReservationBack) {
  ASSERT_TRUE(bundles_->Prepare(group_, {Bundle(0, 3)}).ok());
  bundles_->Return(group_, {Bundle(0, 3), Bundle(7, 1)}, /*group_removed=*/false, "");
  EXPECT_EQ(manager_->available().Get("CPU"), 4);
  ASSERT_TRUE(bundles_->Prepare(group_, {Bundle(0, 3)}).ok()) << "may be prepared again";
}

}  // namespace
}  // namespace moray::raylet
