#include "scheduling/group_resources.h"

#include "gtest/gtest.h"

namespace moray::scheduling {
namespace {

ResourceSet Parse(const std::map<std::string, double>& map) { return *ResourceSet::FromMap(map); }

TEST(GroupResourcesTest, ARequestInABundleAsksItsGroupScopedNames) {
  const PlacementGroupId g = NewPlacementGroupId(JobIdFromInt(1));
  const std::string h = g.Hex();
  EXPECT_EQ(GroupScoped(Parse({{"CPU", 1}}), g, 2).ToMap(),
            (std::map<std::string, double>{{"CPU_group_" + h, 1},
                                           {"CPU_group_2_" + h, 1},
                                           {"bundle_group_" + h, 0.001},
                                           {"bundle_group_2_" + h, 0.001}}));
  EXPECT_EQ(GroupScoped(ResourceSet(), g, -1).ToMap(),
            (std::map<std::string, double>{{"bundle_group_" + h, 0.001}}));
}

TEST(GroupResourcesTest, ACommittedBundleHoldsWhatItsRequestsAsk) {
  const PlacementGroupId g = NewPlacementGroupId(JobIdFromInt(1));
  const ResourceSet bundle = Parse({{"CPU", 2}, {"GPU", 1}});
  const ResourceSet node = CommittedBundle(bundle, g, 0);
  EXPECT_TRUE(node.Contains(GroupScoped(Parse({{"CPU", 2}}), g, 0)));
  EXPECT_TRUE(node.Contains(GroupScoped(Parse({{"CPU", 1}, {"GPU", 1}}), g, -1)));
  EXPECT_FALSE(node.Contains(GroupScoped(Parse({{"CPU", 3}}), g, 0)));
  EXPECT_FALSE(node.Contains(GroupScoped(Parse({{"CPU", 1}}), g, 1)));  // another bundle
  const PlacementGroupId other = NewPlacementGroupId(JobIdFromInt(1));
  EXPECT_FALSE(node.Contains(GroupScoped(Parse({{"CPU", 1}}), other, -1)));
  EXPECT_FALSE(node.Contains(Parse({{"CPU", 1}})));  // plain CPU is not the group's
  // Zero-resource requests (actors) only need the marker, of which a bundle has a million.
  ResourceSet left = node;
  for (int i = 0; i < 10000; ++i) left.Subtract(GroupScoped(ResourceSet(), g, 0));
  EXPECT_TRUE(left.Contains(GroupScoped(ResourceSet(), g, 0)));
  EXPECT_EQ(left.GetUnits("bundle_group_0_" + g.Hex()), kBundleMarkerUnits - 10000 * kBundleMarkerRequest);
}

TEST(GroupResourcesTest, NamesTellTheirGroup) {
  const PlacementGroupId g = NewPlacementGroupId(JobIdFromInt(3));
  const ResourceSet scoped = GroupScoped(Parse({{"CPU", 1}, {"my_res_group", 1}}), g, 12);
  for (const auto& [name, units] : scoped.units()) {
    EXPECT_EQ(GroupOfResource(name), g) << name;
  }
  EXPECT_FALSE(IsGroupScoped("CPU"));
  EXPECT_FALSE(IsGroupScoped("my_res_group"));
  EXPECT_FALSE(IsGroupScoped("CPU_group_nothex"));
  ResourceSet mixed = scoped;
  mixed.Add(Parse({{"CPU", 4}}));
  EXPECT_EQ(WithoutGroupScoped(mixed), Parse({{"CPU", 4}}));
  EXPECT_EQ(OfGroup(mixed, g), scoped);
  EXPECT_TRUE(OfGroup(mixed, NewPlacementGroupId(JobIdFromInt(3))).empty());
}

TEST(GroupResourcesTest, NamesTakenApart) {
  const PlacementGroupId g = NewPlacementGroupId(JobIdFromInt(3));
  auto wildcard = ParseGroupResource("my_res_group_group_" + g.Hex());
  ASSERT_TRUE(wildcard.has_value());
  EXPECT_EQ(wildcard->resource, "my_res_group");
  EXPECT_EQ(wildcard->bundle_index, -1);
  EXPECT_EQ(wildcard->group, g);
  auto indexed = ParseGroupResource("bundle_group_12_" + g.Hex());
  ASSERT_TRUE(indexed.has_value());
  EXPECT_EQ(indexed->resource, kBundleResource);
  EXPECT_EQ(indexed->bundle_index, 12);
  EXPECT_FALSE(ParseGroupResource("CPU").has_value());
  EXPECT_FALSE(ParseGroupResource("CPU_group_x_" + g.Hex()).has_value());
}

}  // namespace
}  // namespace moray::scheduling
