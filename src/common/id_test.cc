#include "common/id.h"

#include <map>
#include <set>
#include <type_traits>
#include <unordered_set>

#include "absl/container/flat_hash_set.h"
#include "common/id_status.h"
#include "gtest/gtest.h"

namespace moray {
namespace {

// Swapping ids is a compile error: no id converts to, constructs or assigns another kind, and a
// function that takes one kind cannot be called with another.
template <typename A, typename B>
constexpr bool kInterchangeable =
    std::is_convertible_v<A, B> || std::is_constructible_v<B, A> || std::is_assignable_v<B&, A>;
void TakesWorker(const WorkerId&) {}
template <typename T>
constexpr bool kCallableWithWorker = requires(T id) {
  TakesWorker(id);
};

static_assert(!kInterchangeable<NodeId, WorkerId> && !kInterchangeable<WorkerId, NodeId>);
static_assert(!kInterchangeable<TaskId, ActorId> && !kInterchangeable<ActorId, TaskId>);
static_assert(!kInterchangeable<TaskId, ObjectId> && !kInterchangeable<JobId, TaskId>);
static_assert(!kInterchangeable<PlacementGroupId, ActorId>);
static_assert(!kInterchangeable<std::string, NodeId> && !kInterchangeable<NodeId, std::string>);
static_assert(kCallableWithWorker<WorkerId> && !kCallableWithWorker<NodeId> &&
              !kCallableWithWorker<std::string>);
static_assert(sizeof(JobId) == 4 && sizeof(TaskId) == 16 && sizeof(ObjectId) == 20);

TEST(IdTest, HexRoundTrip) {
  std::string bytes("\x00\x01\xab\xff", 4);
  EXPECT_EQ(ToHex(bytes), "0001abff");
  EXPECT_EQ(FromHex("0001abff"), bytes);
  EXPECT_EQ(FromHex("0001ABFF"), bytes);
  EXPECT_EQ(FromHex("abc"), "");
  EXPECT_EQ(FromHex("zz"), "");

  const NodeId node = NodeId::FromRandom();
  EXPECT_EQ(NodeId::FromHex(node.Hex()), node);
  EXPECT_EQ(node.Hex().size(), 32u);
  EXPECT_EQ(NodeId::FromHex("0001abff"), std::nullopt);  // too short
  EXPECT_EQ(NodeId::FromHex(std::string(32, 'g')), std::nullopt);
  EXPECT_EQ(NodeId::FromHex(""), NodeId());
}

TEST(IdTest, NilIsTheAbsentId) {
  const WorkerId nil;
  EXPECT_TRUE(nil.IsNil());
  EXPECT_FALSE(nil);
  EXPECT_EQ(nil.Binary(), "");
  EXPECT_EQ(nil.Hex(), "");
  EXPECT_EQ(WorkerId::FromBinary(""), nil);
  // Malformed bytes from a peer become nil (and can be told apart).
  EXPECT_EQ(WorkerId::FromBinary("short"), nil);
  EXPECT_FALSE(WorkerId::IsValidBinary("short"));
  EXPECT_TRUE(WorkerId::IsValidBinary(""));

  const WorkerId id = WorkerId::FromRandom();
  EXPECT_TRUE(id);
  EXPECT_EQ(id.Binary().size(), WorkerId::kSize);
  EXPECT_EQ(WorkerId::FromBinary(id.Binary()), id);
}

TEST(IdTest, RequiredIdNamesTheFieldOfAMalformedId) {
  auto short_id = RequiredId<ActorId>("abc", "actor_id");
  EXPECT_EQ(short_id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(short_id.status().message(), "actor_id must be 16 bytes, got 3");
  auto missing = RequiredId<JobId>("", "job_id");
  EXPECT_EQ(missing.status().message(), "job_id must be 4 bytes, got 0");
  auto nil = RequiredId<NodeId>(std::string(16, '\0'), "node_id");
  EXPECT_EQ(nil.status().message(), "node_id is the nil id");
  const ActorId actor = NewActorId(JobIdFromInt(7));
  auto parsed = RequiredId<ActorId>(actor.Binary(), "actor_id");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, actor);
}

TEST(IdTest, TaskIdsAreUniqueAndCarryTheJob) {
  const JobId job = JobIdFromInt(7);
  std::set<TaskId> ordered;
  std::unordered_set<TaskId> hashed;
  absl::flat_hash_set<TaskId> flat;
  for (int i = 0; i < 10000; ++i) {
    TaskId id = NewTaskId(job);
    EXPECT_EQ(JobIdOf(id), job);
    EXPECT_TRUE(ordered.insert(id).second);
    EXPECT_TRUE(hashed.insert(id).second);
    EXPECT_TRUE(flat.insert(id).second);
  }
  EXPECT_EQ(JobIdToInt(job), 7u);
  EXPECT_EQ(JobIdOf(NewActorId(job)), job);
  EXPECT_EQ(JobIdOf(NewPlacementGroupId(job)), job);
  EXPECT_NE(JobIdFromInt(1), JobIdFromInt(2));
  EXPECT_EQ(JobIdFromInt(1).Binary(), std::string("\x01\x00\x00\x00", 4));  // wire format
}

TEST(IdTest, ObjectIdsNameTheirTask) {
  const TaskId task = NewTaskId(JobIdFromInt(1));
  const ObjectId ret = ObjectIdForReturn(task, 1);
  const ObjectId put = ObjectIdForPut(task, 0);
  EXPECT_NE(ret, put);
  EXPECT_EQ(TaskIdOf(ret), task);
  EXPECT_EQ(TaskIdOf(put), task);
  EXPECT_EQ(ret.View().substr(16), std::string("\x01\x00\x00\x00", 4));
  EXPECT_EQ(put.View().substr(16), std::string("\x00\x00\x00\x80", 4));
}

}  // namespace
}  // namespace moray
