// LeaseResources, CapturedStrategy and InheritPlacementGroup: what a task in a placement group
// asks, and what a capturing parent passes on.
#include "core_worker/task_placement.h"

#include "common/id.h"
#include "gtest/gtest.h"
#include "scheduling/group_resources.h"

namespace moray::core {
namespace {

proto::SchedulingStrategy InGroup(const PlacementGroupId& group, int bundle_index,
                                  bool capture = false) {
  proto::SchedulingStrategy strategy;
  strategy.set_kind(proto::SchedulingStrategy::PLACEMENT_GROUP);
  strategy.set_placement_group_id(group.Binary());
  strategy.set_bundle_index(bundle_index);
  strategy.set_capture_child_tasks(capture);
  return strategy;
}

TEST(LeaseResourcesTest, OutsideAGroupTheTaskAsksItsOwn) {
  proto::TaskSpec spec;
  (*spec.mutable_resources())["CPU"] = 2;
  (*spec.mutable_resources())["custom"] = 0.5;
  auto asked = LeaseResources(spec);
  ASSERT_TRUE(asked.ok()) << asked.status();
  EXPECT_EQ(*asked, (std::map<std::string, double>{{"CPU", 2}, {"custom", 0.5}}));
}

TEST(LeaseResourcesTest, InABundleTheTaskAsksTheGroupScopedNames) {
  const PlacementGroupId group = NewPlacementGroupId(JobIdFromInt(3));
  proto::TaskSpec spec;
  (*spec.mutable_resources())["CPU"] = 1;
  *spec.mutable_scheduling_strategy() = InGroup(group, 1);
  auto asked = LeaseResources(spec);
  ASSERT_TRUE(asked.ok()) << asked.status();
  auto expected =
      scheduling::GroupScoped(*scheduling::ResourceSet::FromMap({{"CPU", 1}}), group, 1);
  EXPECT_EQ(*asked, expected.ToMap());
  const std::string hex = group.Hex();
  EXPECT_EQ(asked->at("CPU_group_1_" + hex), 1);
  EXPECT_EQ(asked->at("CPU_group_" + hex), 1);
  EXPECT_EQ(asked->count("CPU"), 0u);  // never the node's own CPUs
}

TEST(LeaseResourcesTest, EmptyResourcesMeanOneCpuBeforeScoping) {
  const PlacementGroupId group = NewPlacementGroupId(JobIdFromInt(3));
  proto::TaskSpec spec;
  spec.set_type(proto::NORMAL_TASK);
  *spec.mutable_scheduling_strategy() = InGroup(group, -1);
  auto asked = LeaseResources(spec);
  ASSERT_TRUE(asked.ok()) << asked.status();
  EXPECT_EQ(asked->at("CPU_group_" + group.Hex()), 1);
  EXPECT_EQ(asked->count("CPU_group_0_" + group.Hex()), 0u);  // any bundle: no index
  // Asking zero CPUs still needs one of the group's bundles (the bundle marker).
  (*spec.mutable_resources())["CPU"] = 0;
  asked = LeaseResources(spec);
  ASSERT_TRUE(asked.ok()) << asked.status();
  EXPECT_EQ(asked->count("CPU_group_" + group.Hex()), 0u);
  EXPECT_GT(asked->at("bundle_group_" + group.Hex()), 0);
}

TEST(LeaseResourcesTest, InvalidRequestsAreRefused) {
  proto::TaskSpec spec;
  (*spec.mutable_resources())["CPU"] = -1;
  *spec.mutable_scheduling_strategy() = InGroup(NewPlacementGroupId(JobIdFromInt(1)), 0);
  EXPECT_TRUE(absl::IsInvalidArgument(LeaseResources(spec).status()));
  (*spec.mutable_resources())["CPU"] = 1;
  spec.mutable_scheduling_strategy()->clear_placement_group_id();
  EXPECT_TRUE(absl::IsInvalidArgument(LeaseResources(spec).status()));
}

TEST(CaptureTest, OnlyACapturingGroupIsPassedOnInAnyBundle) {
  const PlacementGroupId group = NewPlacementGroupId(JobIdFromInt(2));
  EXPECT_EQ(CapturedStrategy(InGroup(group, 1)).kind(), proto::SchedulingStrategy::DEFAULT);
  EXPECT_EQ(CapturedStrategy(proto::SchedulingStrategy()).kind(),
            proto::SchedulingStrategy::DEFAULT);
  proto::SchedulingStrategy captured = CapturedStrategy(InGroup(group, 1, /*capture=*/true));
  EXPECT_EQ(captured.kind(), proto::SchedulingStrategy::PLACEMENT_GROUP);
  EXPECT_EQ(captured.placement_group_id(), group.Binary());
  EXPECT_EQ(captured.bundle_index(), -1);
  EXPECT_TRUE(captured.capture_child_tasks());  // and so on down
}

TEST(CaptureTest, ChildrenWithAStrategyOfTheirOwnKeepIt) {
  const PlacementGroupId group = NewPlacementGroupId(JobIdFromInt(2));
  const proto::SchedulingStrategy captured = CapturedStrategy(InGroup(group, 0, true));

  proto::SchedulingStrategy plain;
  (*plain.mutable_label_selector())["zone"] = "a";
  InheritPlacementGroup(captured, &plain);
  EXPECT_EQ(plain.kind(), proto::SchedulingStrategy::PLACEMENT_GROUP);
  EXPECT_EQ(plain.placement_group_id(), group.Binary());
  EXPECT_EQ(plain.bundle_index(), -1);
  EXPECT_EQ(plain.label_selector().at("zone"), "a");

  proto::SchedulingStrategy spread;
  spread.set_kind(proto::SchedulingStrategy::SPREAD);
  InheritPlacementGroup(captured, &spread);
  EXPECT_EQ(spread.kind(), proto::SchedulingStrategy::SPREAD);

  const PlacementGroupId other = NewPlacementGroupId(JobIdFromInt(2));
  proto::SchedulingStrategy own = InGroup(other, 2);
  InheritPlacementGroup(captured, &own);
  EXPECT_EQ(own.placement_group_id(), other.Binary());
  EXPECT_EQ(own.bundle_index(), 2);

  proto::SchedulingStrategy untouched;
  InheritPlacementGroup(proto::SchedulingStrategy(), &untouched);  // nothing captured
  EXPECT_EQ(untouched.kind(), proto::SchedulingStrategy::DEFAULT);
}

}  // namespace
}  // namespace moray::core
