#include "core_worker/task_event_buffer.h"

#include "common/testing/named_ids.h"
#include "gtest/gtest.h"

namespace moray::core {
namespace {

TaskId T(std::string_view name) { return moray::testing::NamedId<TaskId>(name); }

void Set(TaskEventBuffer& buffer, std::string_view task, int attempt, proto::TaskState state,
         int64_t ts) {
  buffer.Record(T(task), attempt, [&](proto::TaskEvent& e) {
    e.set_state(state);
    e.set_timestamp_ns(ts);
  });
}

proto::ReportTaskEventsRequest Take(TaskEventBuffer& buffer) {
  proto::ReportTaskEventsRequest out;
  buffer.Flush([&](const proto::ReportTaskEventsRequest& batch) { out = batch; });
  return out;
}

TEST(TaskEventBufferTest, ChangesOfOneAttemptBetweenBatchesTravelAsOneEvent) {
  TaskEventBuffer buffer;
  buffer.Record(T("t1"), 0, [](proto::TaskEvent& e) {
    e.set_state(proto::PENDING_NODE_ASSIGNMENT);
    e.set_timestamp_ns(10);
    e.set_has_descriptive_fields(true);
    e.set_name("f");
  });
  Set(buffer, "t2", 0, proto::RUNNING, 15);
  Set(buffer, "t1", 0, proto::SUBMITTED_TO_WORKER, 20);
  buffer.Record(T("t1"), 0, [](proto::TaskEvent& e) {
    e.set_state(proto::FINISHED);
    e.set_timestamp_ns(30);
    e.set_worker_pid(7);
  });
  Set(buffer, "t1", 1, proto::RUNNING, 40);  // another attempt: its own event
  auto batch = Take(buffer);
  ASSERT_EQ(batch.events_size(), 3);
  const auto& t1 = batch.events(0);
  EXPECT_EQ(t1.task_id(), T("t1").Binary());
  EXPECT_EQ(t1.state(), proto::FINISHED);
  EXPECT_EQ(t1.timestamp_ns(), 30);
  EXPECT_TRUE(t1.has_descriptive_fields()) << "a later change keeps what an earlier one said";
  EXPECT_EQ(t1.name(), "f");
  EXPECT_EQ(t1.worker_pid(), 7);
  EXPECT_EQ(t1.earlier_states().at(proto::PENDING_NODE_ASSIGNMENT), 10);
  EXPECT_EQ(t1.earlier_states().at(proto::SUBMITTED_TO_WORKER), 20);
  EXPECT_EQ(batch.events(1).task_id(), T("t2").Binary());
  EXPECT_EQ(batch.events(2).attempt_number(), 1);
  EXPECT_EQ(Take(buffer).events_size(), 0);
}

TEST(TaskEventBufferTest, ReusedEventsStartEmpty) {
  TaskEventBuffer buffer;
  buffer.Record(T("a"), 0, [](proto::TaskEvent& e) {
    e.set_state(proto::FAILED);
    e.set_error_message("boom");
    e.set_has_descriptive_fields(true);
  });
  Set(buffer, "a", 0, proto::FAILED, 5);
  Take(buffer);
  Set(buffer, "b", 0, proto::RUNNING, 50);  // written into a's old event object
  auto batch = Take(buffer);
  ASSERT_EQ(batch.events_size(), 1);
  EXPECT_EQ(batch.events(0).task_id(), T("b").Binary());
  EXPECT_TRUE(batch.events(0).error_message().empty());
  EXPECT_FALSE(batch.events(0).has_descriptive_fields());
  EXPECT_TRUE(batch.events(0).earlier_states().empty());
}

TEST(TaskEventBufferTest, PastCapacityNewAttemptsAreCountedAsDropped) {
  TaskEventBuffer buffer(/*capacity=*/2);
  for (const char* task : {"a", "b", "c", "d"}) Set(buffer, task, 0, proto::RUNNING, 1);
  Set(buffer, "a", 0, proto::FINISHED, 2);  // a known attempt still coalesces
  auto batch = Take(buffer);
  ASSERT_EQ(batch.events_size(), 2);
  EXPECT_EQ(batch.events(0).state(), proto::FINISHED);
  EXPECT_EQ(batch.dropped(), 2);
  Set(buffer, "e", 0, proto::RUNNING, 3);
  EXPECT_EQ(Take(buffer).dropped(), 0) << "the count starts again after each batch";
}

}  // namespace
}  // namespace moray::core
