#include "core_worker/reference_counter.h"

#include <vector>

#include "common/testing/named_ids.h"
#include "gtest/gtest.h"

namespace moray::core {
namespace {

using moray::testing::NamedId;

ObjectId O(std::string_view name) { return NamedId<ObjectId>(name); }
// The process called `worker`.
rpc::Address Who(std::string_view worker) {
  return rpc::Address{rpc::Endpoint{"127.0.0.1", 1}, NodeId(), NamedId<WorkerId>(worker)};
}
proto::Address Owner(std::string_view worker) { return Who(worker).ToProto(); }

struct Recorder {
  std::vector<ObjectId> freed;
  std::vector<std::pair<ObjectId, int64_t>> released;  // id, held
  ReferenceCounter::Callbacks callbacks() {
    return {[this](const ObjectId& id) { freed.push_back(id); },
            [this](const ObjectId& id, const rpc::Address&, int64_t held) {
              released.emplace_back(id, held);
            }};
  }
};

TEST(ReferenceCounterTest, FreesWhenTheLastLocalAndTaskReferenceIsGone) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned(O("x"));
  refs.AddLocalReference(O("x"));
  refs.AddLocalReference(O("x"));
  refs.AddSubmittedTaskReference(O("x"));
  refs.RemoveLocalReference(O("x"));
  refs.RemoveLocalReference(O("x"));
  EXPECT_TRUE(r.freed.empty());  // a pending task still takes it
  refs.RemoveSubmittedTaskReference(O("x"));
  EXPECT_EQ(r.freed, std::vector<ObjectId>{O("x")});
  EXPECT_FALSE(refs.IsOwned(O("x")));
}

TEST(ReferenceCounterTest, BorrowersKeepOwnedObjects) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned(O("x"));
  refs.AddLocalReference(O("x"));
  EXPECT_TRUE(refs.AddBorrower(O("x"), Who("b1"), 2));
  refs.RemoveLocalReference(O("x"));
  EXPECT_TRUE(r.freed.empty());
  refs.RemoveBorrower(O("x"), Who("b1"), 1);
  EXPECT_TRUE(r.freed.empty());
  refs.RemoveBorrower(O("x"), Who("b1"), 1);
  EXPECT_EQ(r.freed, std::vector<ObjectId>{O("x")});
  EXPECT_FALSE(refs.AddBorrower(O("x"), Who("b1"), 1));  // freed: the owner says so
}

TEST(ReferenceCounterTest, DeadBorrowersAreDropped) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned(O("x"));
  refs.AddBorrower(O("x"), Who("b1"), 1);
  refs.DropBorrower(Who("b1"));
  EXPECT_EQ(r.freed, std::vector<ObjectId>{O("x")});
}

TEST(ReferenceCounterTest, ContainedRefsLiveAsLongAsTheirContainer) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned(O("inner"));
  refs.AddLocalReference(O("inner"));
  refs.AddOwned(O("outer"));
  refs.AddLocalReference(O("outer"));
  refs.SetNested(O("outer"), {O("inner")});
  refs.RemoveLocalReference(O("inner"));
  EXPECT_TRUE(r.freed.empty());
  refs.RemoveLocalReference(O("outer"));
  EXPECT_EQ(r.freed, (std::vector<ObjectId>{O("outer"), O("inner")}));
}

TEST(ReferenceCounterTest, ReceivedBorrowedRefsReturnTheirRegistrations) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned(O("ret"));
  refs.AddLocalReference(O("ret"));
  google::protobuf::RepeatedPtrField<proto::NestedRef> nested;
  auto* ref = nested.Add();
  ref->set_object_id(O("b").Binary());
  *ref->mutable_owner() = Owner("other");
  refs.AcceptNested(O("ret"), nested, Who("me"));
  refs.AddLocalReference(O("b"));  // the user deserialized it
  refs.RemoveLocalReference(O("ret"));
  EXPECT_EQ(r.freed, std::vector<ObjectId>{O("ret")});
  EXPECT_TRUE(r.released.empty());
  refs.RemoveLocalReference(O("b"));
  ASSERT_EQ(r.released.size(), 1u);
  EXPECT_EQ(r.released[0], std::make_pair(O("b"), int64_t{1}));
}

TEST(ReferenceCounterTest, SelfRegistrationTurnsIntoContainment) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned(O("mine"));
  refs.AddBorrower(O("mine"), Who("me"), 1);  // a worker registered us for our own object
  refs.AddOwned(O("ret"));
  refs.AddLocalReference(O("ret"));
  google::protobuf::RepeatedPtrField<proto::NestedRef> nested;
  nested.Add()->set_object_id(O("mine").Binary());
  refs.AcceptNested(O("ret"), nested, Who("me"));
  EXPECT_TRUE(r.freed.empty());
  refs.RemoveLocalReference(O("ret"));
  EXPECT_EQ(r.freed, (std::vector<ObjectId>{O("ret"), O("mine")}));
}

// The refs inside a task's several returns (not told apart): registered once, held while any
// return is.
TEST(ReferenceCounterTest, RefsInSeveralReturnsStayWhileAnyReturnDoes) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  for (const char* ret : {"ret1", "ret2", "ret3"}) {
    refs.AddOwned(O(ret));
    refs.AddLocalReference(O(ret));
  }
  google::protobuf::RepeatedPtrField<proto::NestedRef> nested;
  auto* ref = nested.Add();
  ref->set_object_id(O("b").Binary());
  *ref->mutable_owner() = Owner("other");
  refs.AcceptNested({O("ret1"), O("ret2"), O("ret3")}, nested, Who("me"));
  refs.RemoveLocalReference(O("ret2"));
  refs.RemoveLocalReference(O("ret1"));
  EXPECT_TRUE(r.released.empty());  // ret3 still holds it
  refs.RemoveLocalReference(O("ret3"));
  ASSERT_EQ(r.released.size(), 1u);
  EXPECT_EQ(r.released[0], std::make_pair(O("b"), int64_t{1}));  // one registration
}

TEST(ReferenceCounterTest, UntrackedContainerReleasesReceivedRefsAtOnce) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  google::protobuf::RepeatedPtrField<proto::NestedRef> nested;
  nested.Add()->set_object_id(O("b").Binary());
  refs.AcceptNested(O("gone"), nested, Who("me"));
  ASSERT_EQ(r.released.size(), 1u);
  EXPECT_EQ(r.released[0].second, 1);
}

TEST(ReferenceCounterTest, HoldForTaskReportsWhetherARegistrationIsNeeded) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  EXPECT_TRUE(refs.HoldForTask(O("b"), Who("o")));
  EXPECT_FALSE(refs.HoldForTask(O("b"), Who("o")));
  refs.AddHeld(O("b"), 1);
  refs.RemoveSubmittedTaskReference(O("b"));
  EXPECT_TRUE(r.released.empty());
  refs.RemoveSubmittedTaskReference(O("b"));
  ASSERT_EQ(r.released.size(), 1u);
  EXPECT_EQ(r.released[0].second, 1);
}

}  // namespace
}  // namespace moray::core
