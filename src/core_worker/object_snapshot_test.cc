#include "core_worker/object_snapshot.h"

#include <map>

#include "common/id.h"
#include "common/testing/named_ids.h"
#include "gtest/gtest.h"

namespace moray::core {
namespace {

const JobId kJob = JobIdFromInt(1);
using moray::testing::NamedId;
ObjectId O(std::string_view name) { return NamedId<ObjectId>(name); }
rpc::Address Who(std::string_view worker) {
  return rpc::Address{rpc::Endpoint{"127.0.0.1", 1}, NodeId(), NamedId<WorkerId>(worker)};
}

StoredObject Value(size_t size) {
  return {std::make_shared<ray::internal::StringBuffer>(std::string(size, 'x')), {}};
}

rpc::Address Owner() { return Who("o"); }

std::map<ObjectId, proto::ObjectRecord> ById(const proto::WorkerObjects& snapshot) {
  std::map<ObjectId, proto::ObjectRecord> out;
  for (const auto& o : snapshot.objects()) out[ObjectId::FromBinary(o.object_id())] = o;
  return out;
}

TEST(ReferenceCounterSnapshotTest, CopiesTheCountsUpToTheBound) {
  ReferenceCounter refs({});
  refs.AddOwned(O("a"));
  refs.AddLocalReference(O("a"));
  refs.AddLocalReference(O("a"));
  refs.AddSubmittedTaskReference(O("a"));
  EXPECT_TRUE(refs.AddBorrower(O("a"), Who("b1"), 1));
  EXPECT_TRUE(refs.AddBorrower(O("a"), Who("b2"), 3));
  refs.AddBorrowed(O("b"), Owner());
  refs.AddLocalReference(O("b"));
  size_t total = 0;
  auto counts = refs.Snapshot(10, &total);
  EXPECT_EQ(total, 2u);
  ASSERT_EQ(counts.size(), 2u);
  auto& a = counts[0].id == O("a") ? counts[0] : counts[1];
  EXPECT_TRUE(a.owned);
  EXPECT_EQ(a.local, 2);
  EXPECT_EQ(a.submitted, 1);
  EXPECT_EQ(a.contained, 0);
  EXPECT_EQ(a.num_borrowers, 2);  // processes, not registrations
  auto& b = counts[0].id == O("b") ? counts[0] : counts[1];
  EXPECT_FALSE(b.owned);
  EXPECT_EQ(b.local, 1);

  counts = refs.Snapshot(1, &total);
  EXPECT_EQ(total, 2u);
  EXPECT_EQ(counts.size(), 1u);
}

TEST(ObjectSnapshotTest, ReferenceTypesFollowTheDocumentedPrecedence) {
  ReferenceCounter::Counts c;
  c.owned = true;
  c.local = 1;
  c.submitted = 1;
  c.contained = 1;
  c.num_borrowers = 1;
  EXPECT_EQ(ReferenceTypeOf(c), "LOCAL_REFERENCE");
  c.local = 0;
  EXPECT_EQ(ReferenceTypeOf(c), "USED_BY_PENDING_TASK");
  c.submitted = 0;
  EXPECT_EQ(ReferenceTypeOf(c), "CAPTURED_IN_OBJECT");
  c.contained = 0;
  EXPECT_EQ(ReferenceTypeOf(c), "PINNED_IN_MEMORY");
  c.owned = false;
  c.submitted = 1;
  EXPECT_EQ(ReferenceTypeOf(c), "BORROWED");
  c.local = 3;
  EXPECT_EQ(ReferenceTypeOf(c), "LOCAL_REFERENCE");
}

TEST(ObjectSnapshotTest, SizesStatusesAndReferenceTypesFromTheCountersAndTheStore) {
  ReferenceCounter refs({});
  MemoryStore store;
  const TaskId task = NewTaskId(kJob);
  const TaskId pending_task = NewTaskId(kJob);
  const TaskId queued_task = NewTaskId(kJob);
  const ObjectId small = ObjectIdForPut(task, 0);
  const ObjectId large = ObjectIdForPut(task, 1);
  const ObjectId failed = ObjectIdForReturn(task, 1);
  const ObjectId pending = ObjectIdForReturn(pending_task, 1);
  const ObjectId queued = ObjectIdForReturn(queued_task, 1);
  const ObjectId container = ObjectIdForPut(task, 2);
  const ObjectId lent = ObjectIdForPut(task, 3);
  const ObjectId borrowed = ObjectId::FromBinary(std::string(20, 'b'));
  const ObjectId fetched = ObjectId::FromBinary(std::string(20, 'f'));

  // A small put held by a handle and by a pending task (the handle wins).
  refs.AddOwned(small);
  refs.AddLocalReference(small);
  refs.AddSubmittedTaskReference(small);
  store.Put(small, Value(10));
  // A large put in the shared-memory store, held only by the pending task.
  refs.AddOwned(large);
  refs.AddSubmittedTaskReference(large);
  StoredObject in_plasma;
  in_plasma.in_plasma = true;
  in_plasma.size = 5 << 20;
  store.Put(large, in_plasma);
  // A failed task's return.
  refs.AddOwned(failed);
  refs.AddLocalReference(failed);
  StoredObject error;
  error.error.set_type(proto::TASK_EXECUTION_EXCEPTION);
  error.error.set_message("boom");
  store.Put(failed, error);
  // Returns of tasks still pending: one the submitter knows, one it has not taken yet.
  refs.AddOwned(pending);
  refs.AddLocalReference(pending);
  refs.AddOwned(queued);
  refs.AddLocalReference(queued);
  // A put whose value holds a ref to `lent`; `lent` is also registered with a borrower.
  refs.AddOwned(lent);
  refs.AddLocalReference(lent);
  store.Put(lent, Value(3));
  refs.AddOwned(container);
  refs.AddLocalReference(container);
  refs.SetNested(container, {lent});
  store.Put(container, Value(20));
  EXPECT_TRUE(refs.AddBorrower(lent, Who("elsewhere"), 1));
  refs.RemoveLocalReference(lent);
  // A borrowed ref held by a running task (no copy here), and one fetched and held by a handle.
  refs.HoldForTask(borrowed, Owner());
  refs.AddBorrowed(fetched, Owner());
  refs.AddLocalReference(fetched);
  store.Put(fetched, Value(7));

  auto lookup = [&](const TaskId& task_id) -> std::optional<proto::TaskState> {
    if (task_id == pending_task) return proto::PENDING_NODE_ASSIGNMENT;
    return std::nullopt;
  };
  proto::WorkerObjects snapshot = BuildObjectSnapshot(refs, store, lookup, 100);
  EXPECT_EQ(snapshot.num_truncated(), 0);
  ASSERT_EQ(snapshot.objects_size(), 9);
  for (int i = 1; i < snapshot.objects_size(); ++i) {
    EXPECT_LT(snapshot.objects(i - 1).object_id(), snapshot.objects(i).object_id());
  }
  auto objects = ById(snapshot);
  auto expect = [&](const ObjectId& id, int64_t size, const std::string& status,
                    const std::string& ref_type, bool owner) {
    SCOPED_TRACE(id.Hex());
    const proto::ObjectRecord& o = objects.at(id);
    EXPECT_EQ(o.object_size(), size);
    EXPECT_EQ(o.task_status(), status);
    EXPECT_EQ(o.reference_type(), ref_type);
    EXPECT_EQ(o.is_owner(), owner);
    EXPECT_EQ(o.call_site(), "disabled");
  };
  expect(small, 10, "FINISHED", "LOCAL_REFERENCE", true);
  expect(large, 5 << 20, "FINISHED", "USED_BY_PENDING_TASK", true);
  expect(failed, static_cast<int64_t>(error.error.ByteSizeLong()), "FAILED", "LOCAL_REFERENCE",
         true);
  expect(pending, -1, "PENDING_NODE_ASSIGNMENT", "LOCAL_REFERENCE", true);
  expect(queued, -1, "PENDING_ARGS_AVAIL", "LOCAL_REFERENCE", true);
  expect(container, 20, "FINISHED", "LOCAL_REFERENCE", true);
  expect(lent, 3, "FINISHED", "CAPTURED_IN_OBJECT", true);
  expect(borrowed, -1, "-", "BORROWED", false);
  expect(fetched, 7, "FINISHED", "LOCAL_REFERENCE", false);
  EXPECT_EQ(objects.at(lent).num_borrowers(), 1);
  EXPECT_EQ(objects.at(lent).contained_in_refs(), 1);
  EXPECT_EQ(objects.at(small).submitted_task_refs(), 1);

  // Once the container goes, the borrower alone keeps `lent`.
  refs.RemoveLocalReference(container);
  objects = ById(BuildObjectSnapshot(refs, store, lookup, 100));
  EXPECT_EQ(objects.count(container), 0u);
  EXPECT_EQ(objects.at(lent).reference_type(), "PINNED_IN_MEMORY");

  // Bounded: the rest is counted.
  snapshot = BuildObjectSnapshot(refs, store, lookup, 3);
  EXPECT_EQ(snapshot.objects_size(), 3);
  EXPECT_EQ(snapshot.num_truncated(), 5);
}

TEST(ObjectSnapshotTest, EqualContentsSerializeEqually) {
  ReferenceCounter refs({});
  MemoryStore store;
  for (int i = 0; i < 50; ++i) {
    const ObjectId id = ObjectIdForPut(NamedId<TaskId>("t"), i);
    refs.AddOwned(id);
    refs.AddLocalReference(id);
    store.Put(id, Value(i));
  }
  auto first = BuildObjectSnapshot(refs, store, nullptr, 100).SerializeAsString();
  auto second = BuildObjectSnapshot(refs, store, nullptr, 100).SerializeAsString();
  EXPECT_EQ(first, second);
  refs.RemoveLocalReference(ObjectIdForPut(NamedId<TaskId>("t"), 7));
  EXPECT_NE(BuildObjectSnapshot(refs, store, nullptr, 100).SerializeAsString(), first);
}

}  // namespace
}  // namespace moray::core
