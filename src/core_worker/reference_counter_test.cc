#include "core_worker/reference_counter.h"

#include <vector>

#include "gtest/gtest.h"

namespace moray::core {
namespace {

struct Recorder {
  std::vector<std::string> freed;
  std::vector<std::pair<std::string, int64_t>> released;  // id, held
  ReferenceCounter::Callbacks callbacks() {
    return {[this](const std::string& id) { freed.push_back(id); },
            [this](const std::string& id, const proto::Address&, int64_t held) {
              released.emplace_back(id, held);
            }};
  }
};

proto::Address Owner(const std::string& worker) {
  proto::Address a;
  a.set_ip("127.0.0.1");
  a.set_port(1);
  a.set_worker_id(worker);
  return a;
}

TEST(ReferenceCounterTest, FreesWhenTheLastLocalAndTaskReferenceIsGone) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned("x");
  refs.AddLocalReference("x");
  refs.AddLocalReference("x");
  refs.AddSubmittedTaskReference("x");
  refs.RemoveLocalReference("x");
  refs.RemoveLocalReference("x");
  EXPECT_TRUE(r.freed.empty());  // a pending task still takes it
  refs.RemoveSubmittedTaskReference("x");
  EXPECT_EQ(r.freed, std::vector<std::string>{"x"});
  EXPECT_FALSE(refs.IsOwned("x"));
}

TEST(ReferenceCounterTest, BorrowersKeepOwnedObjects) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned("x");
  refs.AddLocalReference("x");
  EXPECT_TRUE(refs.AddBorrower("x", "b1", 2));
  refs.RemoveLocalReference("x");
  EXPECT_TRUE(r.freed.empty());
  refs.RemoveBorrower("x", "b1", 1);
  EXPECT_TRUE(r.freed.empty());
  refs.RemoveBorrower("x", "b1", 1);
  EXPECT_EQ(r.freed, std::vector<std::string>{"x"});
  EXPECT_FALSE(refs.AddBorrower("x", "b1", 1));  // freed: the owner says so
}

TEST(ReferenceCounterTest, DeadBorrowersAreDropped) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned("x");
  refs.AddBorrower("x", "b1", 1);
  refs.DropBorrower("b1");
  EXPECT_EQ(r.freed, std::vector<std::string>{"x"});
}

TEST(ReferenceCounterTest, ContainedRefsLiveAsLongAsTheirContainer) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned("inner");
  refs.AddLocalReference("inner");
  refs.AddOwned("outer");
  refs.AddLocalReference("outer");
  refs.SetNested("outer", {"inner"});
  refs.RemoveLocalReference("inner");
  EXPECT_TRUE(r.freed.empty());
  refs.RemoveLocalReference("outer");
  EXPECT_EQ(r.freed, (std::vector<std::string>{"outer", "inner"}));
}

TEST(ReferenceCounterTest, ReceivedBorrowedRefsReturnTheirRegistrations) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned("ret");
  refs.AddLocalReference("ret");
  google::protobuf::RepeatedPtrField<proto::NestedRef> nested;
  auto* ref = nested.Add();
  ref->set_object_id("b");
  *ref->mutable_owner() = Owner("other");
  refs.AcceptNested("ret", nested, "me");
  refs.AddLocalReference("b");  // the user deserialized it
  refs.RemoveLocalReference("ret");
  EXPECT_EQ(r.freed, std::vector<std::string>{"ret"});
  EXPECT_TRUE(r.released.empty());
  refs.RemoveLocalReference("b");
  ASSERT_EQ(r.released.size(), 1u);
  EXPECT_EQ(r.released[0], std::make_pair(std::string("b"), int64_t{1}));
}

TEST(ReferenceCounterTest, SelfRegistrationTurnsIntoContainment) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  refs.AddOwned("mine");
  refs.AddBorrower("mine", "me", 1);  // a worker registered us for our own object
  refs.AddOwned("ret");
  refs.AddLocalReference("ret");
  google::protobuf::RepeatedPtrField<proto::NestedRef> nested;
  nested.Add()->set_object_id("mine");
  refs.AcceptNested("ret", nested, "me");
  EXPECT_TRUE(r.freed.empty());
  refs.RemoveLocalReference("ret");
  EXPECT_EQ(r.freed, (std::vector<std::string>{"ret", "mine"}));
}

TEST(ReferenceCounterTest, UntrackedContainerReleasesReceivedRefsAtOnce) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  google::protobuf::RepeatedPtrField<proto::NestedRef> nested;
  nested.Add()->set_object_id("b");
  refs.AcceptNested("gone", nested, "me");
  ASSERT_EQ(r.released.size(), 1u);
  EXPECT_EQ(r.released[0].second, 1);
}

TEST(ReferenceCounterTest, HoldForTaskReportsWhetherARegistrationIsNeeded) {
  Recorder r;
  ReferenceCounter refs(r.callbacks());
  EXPECT_TRUE(refs.HoldForTask("b", Owner("o")));
  EXPECT_FALSE(refs.HoldForTask("b", Owner("o")));
  refs.AddHeld("b", 1);
  refs.RemoveSubmittedTaskReference("b");
  EXPECT_TRUE(r.released.empty());
  refs.RemoveSubmittedTaskReference("b");
  ASSERT_EQ(r.released.size(), 1u);
  EXPECT_EQ(r.released[0].second, 1);
}

}  // namespace
}  // namespace moray::core
