#include "core_worker/reference_counter.h"

#include <vector>

#include "gtest/gtest.h"

namespace moray::core {
namespace {

TEST(ReferenceCounterTest, FreesWhenTheLastLocalAndTaskReferenceIsGone) {
  std::vector<std::string> freed;
  ReferenceCounter refs([&](const std::string& id) { freed.push_back(id); });
  refs.AddOwned("x");
  refs.AddLocalReference("x");
  refs.AddLocalReference("x");
  refs.AddSubmittedTaskReference("x");
  refs.RemoveLocalReference("x");
  refs.RemoveLocalReference("x");
  EXPECT_TRUE(freed.empty());  // a pending task still takes it
  refs.RemoveSubmittedTaskReference("x");
  EXPECT_EQ(freed, std::vector<std::string>{"x"});
  EXPECT_FALSE(refs.IsOwned("x"));
}

TEST(ReferenceCounterTest, PinnedObjectsStay) {
  std::vector<std::string> freed;
  ReferenceCounter refs([&](const std::string& id) { freed.push_back(id); });
  refs.AddOwned("y");
  refs.AddLocalReference("y");
  refs.Pin("y");
  refs.RemoveLocalReference("y");
  EXPECT_TRUE(freed.empty());
  EXPECT_TRUE(refs.IsOwned("y"));
}

TEST(ReferenceCounterTest, UnknownIdsAreIgnored) {
  int frees = 0;
  ReferenceCounter refs([&](const std::string&) { ++frees; });
  refs.RemoveLocalReference("nope");
  refs.RemoveSubmittedTaskReference("nope");
  EXPECT_EQ(frees, 0);
}

}  // namespace
}  // namespace moray::core
