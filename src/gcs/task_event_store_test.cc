#include "gcs/task_event_store.h"

#include <map>
#include <random>

#include "gcs/task_columns.h"
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
  EXPECT_EQ(reply.num_evicted(), 2);
  EXPECT_EQ(reply.num_events_dropped(), 5);
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

proto::GetTasksReply Page(const TaskEventStore& store, std::vector<proto::StateFilter> filters,
                          int64_t offset, int64_t limit) {
  proto::GetTasksRequest request;
  for (auto& f : filters) *request.add_filters() = f;
  request.set_offset(offset);
  request.set_limit(limit);
  auto reply = store.GetTasks(request);
  EXPECT_TRUE(reply.ok()) << reply.status();
  return reply.ok() ? *reply : proto::GetTasksReply();
}

std::vector<std::string> Names(const proto::GetTasksReply& reply) {
  std::vector<std::string> names;
  for (const auto& t : reply.tasks()) names.push_back(t.name());
  return names;
}

TEST(TaskEventStoreTest, OffsetSkipsMatchesAfterFilteringAndBeforeTheLimit) {
  TaskEventStore store;
  std::vector<proto::TaskEvent> events;
  for (int i = 0; i < 10; ++i) {
    std::string id = Id('o');
    id[0] = static_cast<char>(i);
    events.push_back(Submitted(id, 0, (i % 2 == 0 ? "even" : "odd") + std::to_string(i)));
    events.back().set_func_or_class_name(i % 2 == 0 ? "even" : "odd");
  }
  Add(store, events);
  auto page = Page(store, {Filter("func_or_class_name", "=", "odd")}, 1, 2);
  EXPECT_THAT(Names(page), ElementsAre("odd3", "odd5"));
  EXPECT_EQ(page.total(), 5);  // every match, the skipped ones included
  EXPECT_EQ(page.num_truncated(), 3);

  // Without filters: the same arithmetic over all records, from either end.
  EXPECT_THAT(Names(Page(store, {}, 2, 3)), ElementsAre("even2", "odd3", "even4"));
  EXPECT_THAT(Names(Page(store, {}, 8, 0)), ElementsAre("even8", "odd9"));
  auto past_end = Page(store, {}, 10, 5);
  EXPECT_EQ(past_end.tasks_size(), 0);
  EXPECT_EQ(past_end.total(), 10);
  EXPECT_EQ(past_end.num_truncated(), 10);
  EXPECT_EQ(Page(store, {Filter("name", "=", "odd9")}, 1, 0).tasks_size(), 0);
  EXPECT_THAT(Names(Page(store, {}, -4, 1)), ElementsAre("even0"));  // negative: none skipped
}

// Records with every column varied, and filters over every column: the GCS's answer (filtered on
// its compact records, then paged) must be the brute-force answer (TaskFilter on each record's
// proto, then sliced).
TEST(TaskEventStoreTest, FiltersOffsetAndLimitAgreeWithBruteForce) {
  TaskEventStore store;
  std::mt19937 rng(15);
  std::vector<proto::TaskEvent> events;
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  for (int i = 0; i < 600; ++i) {
    std::string id = Id('t');
    id[0] = static_cast<char>(i);
    id[1] = static_cast<char>(i >> 8);
    const int attempt = pick(3);
    proto::TaskEvent e = Submitted(id, attempt, "Name" + std::to_string(pick(4)));
    e.set_func_or_class_name(pick(2) == 0 ? "Mod.f" : "g");
    e.set_type(static_cast<proto::TaskType>(pick(3)));
    if (pick(2) == 0) e.set_actor_id(Id(static_cast<char>('A' + pick(2))));
    if (pick(2) == 0) e.set_parent_task_id(Id(static_cast<char>('P' + pick(2))));
    if (pick(5) == 0) e.clear_job_id();
    events.push_back(e);
    const int progress = pick(5);
    if (progress >= 1) {
      auto run = StateEvent(id, attempt, proto::RUNNING, 300 + i);
      run.set_node_id(Id(static_cast<char>('N' + pick(2))));
      run.set_worker_id(Id(static_cast<char>('W' + pick(3))));
      run.set_worker_pid(1000 + pick(3));
      events.push_back(run);
    }
    if (progress >= 3) {
      auto end = StateEvent(id, attempt, progress == 3 ? proto::FINISHED : proto::FAILED, 900 + i);
      if (progress == 4) end.set_error_type(pick(2) == 0 ? "TASK_EXECUTION_EXCEPTION" : "X");
      events.push_back(end);
    }
  }
  Add(store, events);
  const auto all = Get(store);
  ASSERT_EQ(all.tasks_size(), 600);

  const std::string job_hex = "01000000";
  const std::vector<std::vector<proto::StateFilter>> cases = {
      {Filter("state", "=", "running")},
      {Filter("state", "!=", "FINISHED"), Filter("name", "=", "name1")},
      {Filter("type", "=", "actor_task")},
      {Filter("func_or_class_name", "=", "MOD.F"), Filter("attempt_number", "=", "2")},
      {Filter("attempt_number", "=", "02")},  // not how the column reads: no match
      {Filter("actor_id", "=", std::string(32, '4') + "1")},
      {Filter("actor_id", "=", "41414141414141414141414141414141")},
      {Filter("actor_id", "=", "")},
      {Filter("parent_task_id", "!=", "")},
      {Filter("node_id", "=", "4E4E4E4E4E4E4E4E4E4E4E4E4E4E4E4E")},
      {Filter("worker_id", "=", "58585858585858585858585858585858")},
      {Filter("worker_pid", "=", "1001")},
      {Filter("worker_pid", "=", "")},
      {Filter("worker_pid", "!=", "")},
      {Filter("error_type", "=", "task_execution_exception")},
      {Filter("error_type", "=", "")},
      {Filter("job_id", "=", job_hex)},
      {Filter("job_id", "!=", job_hex), Filter("state", "=", "nil")},
      {Filter("task_id", "=", ToHex(all.tasks(17).task_id()))},
      {Filter("task_id", "=", "zz")},
  };
  for (const auto& filters : cases) {
    std::vector<TaskFilter> checks;
    for (const auto& f : filters) checks.push_back(*TaskFilter::Create(f));
    std::vector<std::string> expected;  // task id + attempt of every brute-force match
    for (const auto& t : all.tasks()) {
      bool match = true;
      for (const auto& c : checks) match = match && c.Matches(t);
      if (match) expected.push_back(t.task_id() + std::to_string(t.attempt_number()));
    }
    for (auto [offset, limit] : {std::pair<int64_t, int64_t>{0, 0}, {0, 7}, {5, 10}, {50, 3}}) {
      auto page = Page(store, filters, offset, limit);
      std::vector<std::string> got;
      for (const auto& t : page.tasks())
        got.push_back(t.task_id() + std::to_string(t.attempt_number()));
      const size_t begin = std::min<size_t>(expected.size(), static_cast<size_t>(offset));
      const size_t end = limit <= 0 ? expected.size()
                                    : std::min(expected.size(), begin + static_cast<size_t>(limit));
      std::vector<std::string> want(expected.begin() + static_cast<long>(begin),
                                    expected.begin() + static_cast<long>(end));
      EXPECT_EQ(got, want) << filters[0].key() << filters[0].op() << filters[0].value() << " @"
                           << offset << "+" << limit;
      EXPECT_EQ(page.total(), static_cast<int64_t>(expected.size())) << filters[0].key();
    }
  }
}

TEST(TaskEventStoreTest, SummaryAtTheSourceEqualsTheSummaryOfAllRecords) {
  TaskEventStore store({.max_records = 500});
  std::mt19937 rng(5);
  std::vector<proto::TaskEvent> events;
  for (int i = 0; i < 800; ++i) {  // past the cap: the summary covers what is kept
    std::string id = Id('s');
    id[0] = static_cast<char>(i);
    id[1] = static_cast<char>(i >> 8);
    proto::TaskEvent e = Submitted(id, 0, "n");
    e.set_func_or_class_name("f" + std::to_string(rng() % 6));
    e.set_type(static_cast<proto::TaskType>(rng() % 4));
    if (rng() % 7 == 0) e.clear_has_descriptive_fields();  // a record nobody described
    events.push_back(e);
    const auto state = static_cast<proto::TaskState>(rng() % 7);
    if (state != proto::TASK_STATE_NIL) events.push_back(StateEvent(id, 0, state, 500 + i));
  }
  Add(store, events, /*dropped=*/3);
  const auto all = Get(store);
  ASSERT_EQ(all.tasks_size(), 500);

  // Brute force: group in arrival order, then largest first.
  struct Expected {
    std::string name;
    proto::TaskType type;
    std::map<int, int64_t> counts;
    int64_t total = 0;
  };
  std::vector<Expected> expected;
  int64_t normal = 0, actor_tasks = 0, creations = 0;
  for (const auto& t : all.tasks()) {
    auto it = std::find_if(expected.begin(), expected.end(), [&t](const Expected& e) {
      return e.name == t.func_or_class_name() && e.type == t.type();
    });
    if (it == expected.end()) {
      expected.push_back({t.func_or_class_name(), t.type(), {}, 0});
      it = expected.end() - 1;
    }
    ++it->counts[t.state()];
    ++it->total;
    (t.type() == proto::ACTOR_TASK            ? actor_tasks
     : t.type() == proto::ACTOR_CREATION_TASK ? creations
                                              : normal)++;
  }
  std::stable_sort(expected.begin(), expected.end(),
                   [](const Expected& a, const Expected& b) { return a.total > b.total; });

  const proto::SummarizeTasksReply summary = store.SummarizeTasks();
  EXPECT_EQ(summary.total_tasks(), normal);
  EXPECT_EQ(summary.total_actor_tasks(), actor_tasks);
  EXPECT_EQ(summary.total_actor_scheduled(), creations);
  EXPECT_EQ(summary.num_evicted(), 300);
  EXPECT_EQ(summary.num_events_dropped(), 3);
  EXPECT_EQ(summary.num_dropped(), 303);
  ASSERT_EQ(summary.groups_size(), static_cast<int>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& g = summary.groups(static_cast<int>(i));
    EXPECT_EQ(g.func_or_class_name(), expected[i].name) << i;
    EXPECT_EQ(g.type(), expected[i].type) << i;
    EXPECT_EQ(g.total(), expected[i].total) << i;
    std::map<int, int64_t> counts;
    for (const auto& c : g.state_counts()) counts[c.state()] = c.count();
    EXPECT_EQ(counts, expected[i].counts) << i;
  }
}

TEST(TaskEventStoreTest, TheCapBoundsRecordsUnderManyMoreEvents) {
  TaskEventStore store({.max_records = 1000});
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<proto::TaskEvent> events;
    for (int i = 0; i < 1000; ++i) {
      std::string id = Id('c');
      const int n = batch * 1000 + i;
      id[0] = static_cast<char>(n);
      id[1] = static_cast<char>(n >> 8);
      id[2] = static_cast<char>(n >> 16);
      events.push_back(Submitted(id, 0, "f"));
      events.push_back(StateEvent(id, 0, proto::FINISHED, 100 + n));
    }
    Add(store, events);
    EXPECT_LE(store.size(), 1000u);
  }
  auto reply = Page(store, {}, 0, 1);
  EXPECT_EQ(reply.total(), 1000);
  EXPECT_EQ(reply.num_evicted(), 19000);
  EXPECT_EQ(reply.tasks(0).state_times_ns().at("FINISHED"), 100 + 19000);  // newest kept
}

}  // namespace
}  // namespace moray::gcs
