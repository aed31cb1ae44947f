#include "raylet/gpu_pool.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduling/group_resources.h"

namespace moray::raylet {
namespace {

using scheduling::kResourceUnit;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(GpuPoolTest, WholeAndFractionalAssignments) {
  GpuPool pool({3, 5});
  auto none = pool.Assign(0);
  ASSERT_TRUE(none.has_value());
  EXPECT_THAT(none->ids(), IsEmpty());

  auto quarter = pool.Assign(kResourceUnit / 4);
  ASSERT_TRUE(quarter.has_value());
  EXPECT_THAT(quarter->ids(), ElementsAre(3));
  EXPECT_FALSE(pool.CanAssign(2 * kResourceUnit)) << "device 3 is no longer whole";
  auto whole = pool.Assign(kResourceUnit);
  ASSERT_TRUE(whole.has_value());
  EXPECT_THAT(whole->ids(), ElementsAre(5));
  auto half = pool.Assign(kResourceUnit / 2);  // fits beside the quarter
  ASSERT_TRUE(half.has_value());
  EXPECT_THAT(half->ids(), ElementsAre(3));
  EXPECT_FALSE(pool.Assign(kResourceUnit / 2).has_value()) << "only a quarter is left";

  pool.Release(*whole);
  pool.Release(*quarter);
  pool.Release(*half);
  auto both = pool.Assign(2 * kResourceUnit);
  ASSERT_TRUE(both.has_value());
  EXPECT_THAT(both->ids(), ElementsAre(3, 5));
}

TEST(GpuPoolTest, AFractionGoesWhereTheLeastRoomHoldsIt) {
  GpuPool pool({0, 1, 2});
  auto a = pool.Assign(kResourceUnit * 7 / 10);  // device 0: 0.3 left
  auto b = pool.Assign(kResourceUnit / 2);       // device 1: 0.5 left
  ASSERT_TRUE(a && b);
  auto c = pool.Assign(kResourceUnit * 4 / 10);  // 0.3 is too little; 0.5 holds it
  ASSERT_TRUE(c.has_value());
  EXPECT_THAT(c->ids(), ElementsAre(1));
  EXPECT_TRUE(pool.CanAssign(kResourceUnit)) << "device 2 stayed whole";
}

TEST(GpuPoolTest, GpuUnitsCountPlainAndGroupScopedOnce) {
  auto set = [](std::map<std::string, double> map) {
    return *scheduling::ResourceSet::FromMap(map);
  };
  EXPECT_EQ(GpuUnitsOf(set({{"CPU", 1}})), 0);
  EXPECT_EQ(GpuUnitsOf(set({{"GPU", 2}})), 2 * kResourceUnit);
  const PlacementGroupId group = NewPlacementGroupId(JobIdFromInt(1));
  // {GPU_group_0_<hex>: 0.5, GPU_group_<hex>: 0.5, CPU_group_..., bundle_group_...}
  EXPECT_EQ(GpuUnitsOf(scheduling::GroupScoped(set({{"GPU", 0.5}, {"CPU", 1}}), group, 0)),
            kResourceUnit / 2);
  EXPECT_EQ(GpuUnitsOf(scheduling::GroupScoped(set({{"GPU", 1}}), group, -1)), kResourceUnit);
}

}  // namespace
}  // namespace moray::raylet
