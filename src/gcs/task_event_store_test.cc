#include "gcs/task_event_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::gcs {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::string Id(char c) { return std::string(16, c); }

proto::TaskEvent Submitted(const std::string& task_id, int attempt, const std::string& name,
                           int64_t ts = 100) {
  proto::TaskEvent e;
  e.set_task_id(task_id);
  e.set_attempt_number(attempt);
  e.set_job_id(std::string("\x01\0\0\0", 4));
  e.set_state(proto::PENDING_NODE_ASSIGNMENT);
  e.set_timestamp_ns(ts);
  e.set_has_descriptive_fields(true);
  e.set_name(name);
  e.set_func_or_class_name(name);
  e.set_type(proto::NORMAL_TASK);
  (*e.mutable_required_resources())["CPU"] = 1.0;
  return e;
}

proto::TaskEvent StateEvent(const std::string& task_id, int attempt, proto::TaskState state,
                            int64_t ts) {
  proto::TaskEvent e;
  e.set_task_id(task_id);
  e.set_attempt_number(attempt);
  e.set_state(state);
  e.set_timestamp_ns(ts);
  return e;
}

void Add(TaskEventStore& store, std::vector<proto::TaskEvent> events, int64_t dropped = 0) {
  google::protobuf::RepeatedPtrField<proto::TaskEvent> field(events.begin(), events.end());
  store.AddEvents(field, dropped);
}

proto::GetTasksReply Get(const TaskEventStore& store, std::vector<proto::StateFilter> filters = {},
                         int64_t limit = 0) {
  proto::GetTasksRequest request;
  for (auto& f : filters) *request.add_filters() = f;
  request.set_limit(limit);
  auto reply = store.GetTasks(request);
  EXPECT_TRUE(reply.ok()) << reply.status();
  return reply.ok() ? *reply : proto::GetTasksReply();
}

proto::StateFilter Filter(const std::string& key, const std::string& op, const std::string& value) {
  proto::StateFilter f;
  f.set_key(key);
  f.set_op(op);
  f.set_value(value);
  return f;
}

TEST(TaskEventStoreTest, MergesOwnerAndExecutorEventsIntoOneRecord) {
  TaskEventStore store;
  proto::TaskEvent running = StateEvent(Id('a'), 0, proto::RUNNING, 200);
  running.set_node_id(Id('n'));
  running.set_worker_id(Id('w'));
  running.set_worker_pid(4242);
  Add(store, {Submitted(Id('a'), 0, "f"), running, StateEvent(Id('a'), 0, proto::FINISHED, 300)});

  auto reply = Get(store);
  ASSERT_EQ(reply.tasks_size(), 1);
  const auto& r = reply.tasks(0);
  EXPECT_EQ(r.name(), "f");
  EXPECT_EQ(r.func_or_class_name(), "f");
  EXPECT_EQ(r.state(), proto::FINISHED);
  EXPECT_EQ(r.node_id(), Id('n'));
  EXPECT_EQ(r.worker_id(), Id('w'));
  EXPECT_EQ(r.worker_pid(), 4242);
  EXPECT_EQ(r.required_resources().at("CPU"), 1.0);
  EXPECT_THAT(r.state_times_ns(),
              UnorderedElementsAre(Pair("PENDING_NODE_ASSIGNMENT", 100), Pair("RUNNING", 200),
                                   Pair("FINISHED", 300)));
  EXPECT_EQ(reply.total(), 1);
  EXPECT_EQ(reply.num_truncated(), 0);
}

TEST(TaskEventStoreTest, OutOfOrderEventsNeverMoveStateBackwards) {
  TaskEventStore store;
  // The executor's FINISHED arrives before the owner's submission and the RUNNING event.
  Add(store, {StateEvent(Id('a'), 0, proto::FINISHED, 300)});
  Add(store, {StateEvent(Id('a'), 0, proto::RUNNING, 200), Submitted(Id('a'), 0, "f", 100)});
  auto reply = Get(store);
  ASSERT_EQ(reply.tasks_size(), 1);
  EXPECT_EQ(reply.tasks(0).state(), proto::FINISHED);
  EXPECT_EQ(reply.tasks(0).name(), "f");  // descriptive fields still merged
  EXPECT_EQ(reply.tasks(0).state_times_ns().at("RUNNING"), 200);
}

TEST(TaskEventStoreTest, StateTimesKeepTheFirstTimeOfEachState) {
  TaskEventStore store;
  Add(store, {StateEvent(Id('a'), 0, proto::RUNNING, 500), StateEvent(Id('a'), 0, proto::RUNNING, 400),
              StateEvent(Id('a'), 0, proto::RUNNING, 600)});
  EXPECT_EQ(Get(store).tasks(0).state_times_ns().at("RUNNING"), 400);
}

TEST(TaskEventStoreTest, AttemptsAreSeparateRecords) {
  TaskEventStore store;
  Add(store, {Submitted(Id('a'), 0, "f"), StateEvent(Id('a'), 0, proto::FAILED, 200),
              Submitted(Id('a'), 1, "f"), StateEvent(Id('a'), 1, proto::RUNNING, 300)});
  auto reply = Get(store);
  ASSERT_EQ(reply.tasks_size(), 2);
  EXPECT_EQ(reply.tasks(0).attempt_number(), 0);
  EXPECT_EQ(reply.tasks(0).state(), proto::FAILED);
  EXPECT_EQ(reply.tasks(1).attempt_number(), 1);
  EXPECT_EQ(reply.tasks(1).state(), proto::RUNNING);
}

TEST(TaskEventStoreTest, ExecutionFieldsAreNotClearedByLaterEventsWithoutThem) {
  TaskEventStore store;
  proto::TaskEvent failed = StateEvent(Id('a'), 0, proto::FAILED, 200);
  failed.set_error_type("TASK_EXECUTION_EXCEPTION");
  failed.set_error_message("boom");
  failed.set_worker_pid(7);
  Add(store, {failed, Submitted(Id('a'), 0, "f")});
  auto reply = Get(store);
  const auto& r = reply.tasks(0);
  EXPECT_EQ(r.error_type(), "TASK_EXECUTION_EXCEPTION");
  EXPECT_EQ(r.error_message(), "boom");
  EXPECT_EQ(r.worker_pid(), 7);
}

TEST(TaskEventStoreTest, FiltersAreCaseInsensitiveAndAnded) {
  TaskEventStore store;
  Add(store, {Submitted(Id('a'), 0, "alpha"), StateEvent(Id('a'), 0, proto::FINISHED, 200),
              Submitted(Id('b'), 0, "beta"), StateEvent(Id('b'), 0, proto::RUNNING, 200),
              Submitted(Id('c'), 0, "alpha")});

  auto finished = Get(store, {Filter("state", "=", "finished")});
  ASSERT_EQ(finished.tasks_size(), 1);
  EXPECT_EQ(finished.tasks(0).task_id(), Id('a'));

  auto not_finished = Get(store, {Filter("state", "!=", "FINISHED")});
  EXPECT_EQ(not_finished.total(), 2);

  auto alpha_pending =
      Get(store, {Filter("name", "=", "ALPHA"), Filter("state", "=", "pending_node_assignment")});
  ASSERT_EQ(alpha_pending.tasks_size(), 1);
  EXPECT_EQ(alpha_pending.tasks(0).task_id(), Id('c'));

  // Id('b') is sixteen 0x62 bytes; keys are case-insensitive too.
  auto by_id = Get(store, {Filter("TASK_ID", "=", "62626262626262626262626262626262")});
  ASSERT_EQ(by_id.tasks_size(), 1);
  EXPECT_EQ(by_id.tasks(0).name(), "beta");

  auto by_type = Get(store, {Filter("type", "=", "normal_task"), Filter("job_id", "=", "01000000")});
  EXPECT_EQ(by_type.total(), 3);
}

TEST(TaskEventStoreTest, UnknownFilterKeyOrOperatorIsInvalidArgument) {
  TaskEventStore store;
  proto::GetTasksRequest request;
  *request.add_filters() = Filter("colour", "=", "red");
  auto reply = store.GetTasks(request);
  ASSERT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(reply.status().message()), ::testing::HasSubstr("colour"));
  EXPECT_THAT(std::string(reply.status().message()), ::testing::HasSubstr("func_or_class_name"));

  request.clear_filters();
  *request.add_filters() = Filter("state", "~", "x");
  EXPECT_EQ(store.GetTasks(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TaskEventStoreTest, FiltersBeforeLimitingAndCountsTruncation) {
  TaskEventStore store;
  std::vector<proto::TaskEvent> events;
  for (int i = 0; i < 250; ++i) {
    std::string id = Id('x');
    id[0] = static_cast<char>(i);
    id[1] = static_cast<char>(i >> 8);
    events.push_back(Submitted(id, 0, i % 2 == 0 ? "even" : "odd"));
  }
  Add(store, events);

  auto limited = Get(store, {Filter("name", "=", "odd")}, 100);
  EXPECT_EQ(limited.tasks_size(), 100);
  EXPECT_EQ(limited.total(), 125);
  EXPECT_EQ(limited.num_truncated(), 25);
  for (const auto& t : limited.tasks()) EXPECT_EQ(t.name(), "odd");

  auto all = Get(store, {}, 0);
  EXPECT_EQ(all.tasks_size(), 250);
  EXPECT_EQ(all.num_truncated(), 0);
}

TEST(TaskEventStoreTest, EvictsFinishedRecordsFirstAndCountsDrops) {
  TaskEventStore store({.max_records = 3});
  Add(store, {Submitted(Id('a'), 0, "a"), Submitted(Id('b'), 0, "b"),
              StateEvent(Id('b'), 0, proto::FINISHED, 200), Submitted(Id('c'), 0, "c")});
  Add(store, {Submitted(Id('d'), 0, "d")});  // evicts b (finished), though a is older
  auto reply = Get(store);
  std::vector<std::string> names;
  for (const auto& t : reply.tasks()) names.push_back(t.name());
  EXPECT_THAT(names, ElementsAre("a", "c", "d"));
  EXPECT_EQ(reply.num_dropped(), 1);

  Add(store, {Submitted(Id('e'), 0, "e")}, /*dropped=*/5);  // nothing finished: evicts oldest (a)
  reply = Get(store);
  names.clear();
  for (const auto& t : reply.tasks()) names.push_back(t.name());
  EXPECT_THAT(names, ElementsAre("c", "d", "e"));
  EXPECT_EQ(reply.num_dropped(), 1 + 1 + 5);
  EXPECT_EQ(store.size(), 3u);
}

TEST(TaskEventStoreTest, RecordsSharingFieldsKeepTheirOwnValues) {
  // More distinct names and workers than the store keeps at hand, interleaved.
  TaskEventStore store;
  std::vector<proto::TaskEvent> events;
  for (int i = 0; i < 60; ++i) {
    std::string id = Id('a');
    id[0] = static_cast<char>(i);
    events.push_back(Submitted(id, 0, "f" + std::to_string(i % 7)));
    auto running = StateEvent(id, 0, proto::RUNNING, 200 + i);
    running.set_worker_id(Id(static_cast<char>('A' + i % 5)));
    running.set_worker_pid(100 + i % 5);
    events.push_back(running);
  }
  Add(store, events);
  auto reply = Get(store);
  ASSERT_EQ(reply.tasks_size(), 60);
  for (int i = 0; i < 60; ++i) {
    const auto& r = reply.tasks(i);
    EXPECT_EQ(r.name(), "f" + std::to_string(i % 7));
    EXPECT_EQ(r.worker_id(), Id(static_cast<char>('A' + i % 5)));
    EXPECT_EQ(r.worker_pid(), 100 + i % 5);
    EXPECT_EQ(r.state_times_ns().at("RUNNING"), 200 + i);
    EXPECT_EQ(r.required_resources().at("CPU"), 1.0);
  }
}

TEST(TaskEventStoreTest, AnOverlongTaskIdIsDroppedAsMalformed) {
  TaskEventStore store;
  Add(store, {Submitted(std::string(40, 'x'), 0, "f"), Submitted("", 0, "g")});
  auto reply = Get(store);
  EXPECT_EQ(reply.tasks_size(), 0);
  EXPECT_EQ(reply.num_dropped(), 2);
}

}  // namespace
}  // namespace moray::gcs
