#include "common/id.h"

#include <set>

#include "gtest/gtest.h"

namespace moray {
namespace {

TEST(IdTest, HexRoundTrip) {
  std::string bytes("\x00\x01\xab\xff", 4);
  EXPECT_EQ(ToHex(bytes), "0001abff");
  EXPECT_EQ(FromHex("0001abff"), bytes);
  EXPECT_EQ(FromHex("0001ABFF"), bytes);
  EXPECT_EQ(FromHex("abc"), "");
  EXPECT_EQ(FromHex("zz"), "");
}

TEST(IdTest, TaskIdsAreUniqueAndCarryTheJob) {
  std::string job = JobIdFromInt(7);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewTaskId(job);
    ASSERT_EQ(id.size(), kUniqueIdSize);
    EXPECT_EQ(JobIdOfTask(id), job);
    EXPECT_TRUE(seen.insert(id).second);
  }
  EXPECT_EQ(JobIdToInt(job), 7u);
}

TEST(IdTest, ObjectIdsNameTheirTask) {
  std::string task = NewTaskId(JobIdFromInt(1));
  std::string ret = ObjectIdForReturn(task, 1);
  std::string put = ObjectIdForPut(task, 0);
  EXPECT_EQ(ret.size(), kObjectIdSize);
  EXPECT_NE(ret, put);
  EXPECT_EQ(TaskIdOfObject(ret), task);
  EXPECT_EQ(TaskIdOfObject(put), task);
}

}  // namespace
}  // namespace moray
