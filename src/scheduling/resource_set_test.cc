#include "scheduling/resource_set.h"

#include "gtest/gtest.h"

namespace moray::scheduling {
namespace {

ResourceSet Parse(const std::map<std::string, double>& map) {
  auto set = ResourceSet::FromMap(map);
  EXPECT_TRUE(set.ok()) << set.status();
  return set.value_or(ResourceSet{});
}

TEST(ResourceSetTest, FractionsAddAndSubtractExactly) {
  ResourceSet node = Parse({{"CPU", 1}});
  const ResourceSet tiny = Parse({{"CPU", 0.0001}});
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(node.Contains(tiny)) << i;
    node.Subtract(tiny);
  }
  EXPECT_EQ(node.GetUnits("CPU"), 0);
  EXPECT_FALSE(node.Contains(tiny));
  for (int i = 0; i < 10000; ++i) node.Add(tiny);
  EXPECT_EQ(node, Parse({{"CPU", 1}}));
  EXPECT_EQ(Parse({{"CPU", 0.1}}).GetUnits("CPU"), 1000);
  EXPECT_DOUBLE_EQ(Parse({{"CPU", 0.3}}).ToMap().at("CPU"), 0.3);
}

TEST(ResourceSetTest, RejectsBadQuantities) {
  EXPECT_FALSE(ResourceSet::FromMap({{"CPU", -1}}).ok());
  EXPECT_FALSE(ResourceSet::FromMap({{"CPU", std::nan("")}}).ok());
  EXPECT_FALSE(ResourceSet::FromMap({{"CPU", 1.0 / 0.0}}).ok());
  EXPECT_FALSE(ResourceSet::FromMap({{"CPU", 0.00001}}).ok());
  EXPECT_FALSE(ResourceSet::FromMap({{"GPU", 1.5}}).ok());
  EXPECT_TRUE(ResourceSet::FromMap({{"GPU", 0.5}}).ok());
  EXPECT_TRUE(ResourceSet::FromMap({{"GPU", 2}}).ok());
  EXPECT_FALSE(ResourceSet::FromMap({{"", 1}}).ok());
}

TEST(ResourceSetTest, ContainsIsPerResource) {
  const ResourceSet node = Parse({{"CPU", 2}, {"memory", 1e9}, {"custom", 1}});
  EXPECT_TRUE(node.Contains(Parse({{"CPU", 2}})));
  EXPECT_TRUE(node.Contains(Parse({{"CPU", 1}, {"custom", 0.5}})));
  EXPECT_FALSE(node.Contains(Parse({{"CPU", 2.0001}})));
  EXPECT_FALSE(node.Contains(Parse({{"GPU", 1}})));  // the node has no GPU at all: infeasible
  EXPECT_TRUE(node.Contains(Parse({{"GPU", 0}})));   // zero is no request
  EXPECT_TRUE(node.Contains(ResourceSet{}));
}

TEST(ResourceSetTest, AvailableMayGoNegative) {
  ResourceSet available = Parse({{"CPU", 1}});
  available.Subtract(Parse({{"CPU", 2}}));
  EXPECT_EQ(available.Get("CPU"), -1);
  EXPECT_FALSE(available.Contains(Parse({{"CPU", 0.5}})));
  available.Add(Parse({{"CPU", 2}}));
  EXPECT_EQ(available.DebugString(), "{CPU: 1}");
}

}  // namespace
}  // namespace moray::scheduling
