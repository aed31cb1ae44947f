#include "cli/format_summary.h"

#include "absl/time/clock.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;

proto::TaskRecord Task(const std::string& name, proto::TaskType type, proto::TaskState state) {
  proto::TaskRecord t;
  t.set_func_or_class_name(name);
  t.set_type(type);
  t.set_state(state);
  return t;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

TEST(TaskSummaryTest, CountsAndGroups) {
  std::vector<proto::TaskRecord> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(Task("f", proto::NORMAL_TASK, proto::FINISHED));
  for (int i = 0; i < 2; ++i) tasks.push_back(Task("f", proto::NORMAL_TASK, proto::RUNNING));
  tasks.push_back(Task("Counter.__init__", proto::ACTOR_CREATION_TASK, proto::FINISHED));
  for (int i = 0; i < 3; ++i) tasks.push_back(Task("Counter.Add", proto::ACTOR_TASK, proto::FINISHED));

  TaskSummary summary = SummarizeTasks(tasks);
  EXPECT_EQ(summary.total_tasks, 12);
  EXPECT_EQ(summary.total_actor_scheduled, 1);
  EXPECT_EQ(summary.total_actor_tasks, 3);
  ASSERT_EQ(summary.groups.size(), 3u);

  auto lines = Lines(FormatTaskSummary(summary, absl::Now()));
  EXPECT_THAT(lines[0], MatchesRegex("======== Tasks Summary: .{26} ========"));
  EXPECT_THAT(std::vector<std::string>(lines.begin() + 1, lines.end()),
              ElementsAre("Stats:", "------------------------------------",
                          "total_actor_scheduled: 1", "total_actor_tasks: 3", "total_tasks: 12",
                          "", "", "Table (group by func_name):",
                          "------------------------------------",
                          "    FUNC_OR_CLASS_NAME    STATE_COUNTS    TYPE",
                          "0   f                     RUNNING: 2      NORMAL_TASK",
                          "                          FINISHED: 10",
                          "1   Counter.Add           FINISHED: 3     ACTOR_TASK",
                          "2   Counter.__init__      FINISHED: 1     ACTOR_CREATION_TASK"));
}

TEST(TaskSummaryTest, FromTheGcsReplyLikeFromRecords) {
  proto::SummarizeTasksReply reply;
  reply.set_total_tasks(12);
  reply.set_total_actor_tasks(3);
  auto* f = reply.add_groups();
  f->set_func_or_class_name("f");
  f->set_type(proto::NORMAL_TASK);
  f->set_total(12);
  auto* running = f->add_state_counts();
  running->set_state(proto::RUNNING);
  running->set_count(2);
  auto* finished = f->add_state_counts();
  finished->set_state(proto::FINISHED);
  finished->set_count(10);
  auto* add = reply.add_groups();
  add->set_func_or_class_name("Counter.Add");
  add->set_type(proto::ACTOR_TASK);
  add->set_total(3);
  auto* done = add->add_state_counts();
  done->set_state(proto::FINISHED);
  done->set_count(3);

  std::vector<proto::TaskRecord> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(Task("f", proto::NORMAL_TASK, proto::FINISHED));
  for (int i = 0; i < 2; ++i) tasks.push_back(Task("f", proto::NORMAL_TASK, proto::RUNNING));
  for (int i = 0; i < 3; ++i)
    tasks.push_back(Task("Counter.Add", proto::ACTOR_TASK, proto::FINISHED));
  const absl::Time now = absl::Now();
  EXPECT_EQ(FormatTaskSummary(TaskSummaryFromReply(reply), now),
            FormatTaskSummary(SummarizeTasks(tasks), now));
}

TEST(TaskSummaryTest, NoTasks) {
  auto lines = Lines(FormatTaskSummary(SummarizeTasks({}), absl::Now()));
  EXPECT_EQ(lines[5], "total_tasks: 0");
  EXPECT_EQ(lines.back(), "No resource in the cluster");
}

proto::ActorInfo Actor(const std::string& class_name, proto::ActorState state) {
  proto::ActorInfo a;
  a.set_class_name(class_name);
  a.set_state(state);
  return a;
}

TEST(ActorSummaryTest, GroupsByClassInLifecycleOrder) {
  std::vector<proto::ActorInfo> actors = {
      Actor("Logger", proto::ALIVE),          Actor("Counter", proto::DEAD),
      Actor("Counter", proto::ALIVE),         Actor("Counter", proto::RESTARTING),
      Actor("Counter", proto::ALIVE),         Actor("Counter", proto::PENDING_CREATION),
      Actor("Cache", proto::DEPENDENCIES_UNREADY)};
  ActorSummary summary = SummarizeActors(actors);
  EXPECT_EQ(summary.total_actors, 7);
  auto lines = Lines(FormatActorSummary(summary, absl::Now()));
  EXPECT_THAT(lines[0], MatchesRegex("======== Actors Summary: .{26} ========"));
  // Largest group first; equal groups in first-seen order.
  EXPECT_THAT(std::vector<std::string>(lines.begin() + 1, lines.end()),
              ElementsAre("Stats:", "------------------------------------", "total_actors: 7",
                          "", "", "Table (group by class):",
                          "------------------------------------",
                          "    CLASS_NAME    STATE_COUNTS",
                          "0   Counter       PENDING_CREATION: 1",
                          "                  ALIVE: 2",
                          "                  RESTARTING: 1",
                          "                  DEAD: 1",
                          "1   Logger        ALIVE: 1",
                          "2   Cache         DEPENDENCIES_UNREADY: 1"));
}

TEST(ActorSummaryTest, NoActors) {
  auto lines = Lines(FormatActorSummary(SummarizeActors({}), absl::Now()));
  EXPECT_EQ(lines[3], "total_actors: 0");
  EXPECT_EQ(lines.back(), "No resource in the cluster");
}

proto::ObjectRecord Object(char id, int64_t size, const std::string& status,
                           const std::string& ref_type, char worker, char node) {
  proto::ObjectRecord o;
  o.set_object_id(std::string(20, id));
  o.set_object_size(size);
  o.set_task_status(status);
  o.set_reference_type(ref_type);
  o.set_call_site("disabled");
  o.set_worker_id(std::string(16, worker));
  o.set_node_id(std::string(16, node));
  return o;
}

TEST(ObjectSummaryTest, GroupsByCallSite) {
  std::vector<proto::ObjectRecord> objects = {
      Object('a', 10, "FINISHED", "LOCAL_REFERENCE", 'd', 'n'),
      Object('b', 5 << 20, "FINISHED", "USED_BY_PENDING_TASK", 'd', 'n'),
      Object('c', -1, "PENDING_NODE_ASSIGNMENT", "LOCAL_REFERENCE", 'd', 'n'),
      // `b` again, borrowed by a worker on another node: its size counts once.
      Object('b', 5 << 20, "FINISHED", "BORROWED", 'w', 'm'),
  };
  ObjectSummary summary = SummarizeObjects(objects);
  EXPECT_EQ(summary.total_objects, 4);
  EXPECT_EQ(summary.total_size_bytes, (5 << 20) + 10);

  auto lines = Lines(FormatObjectSummary(summary, absl::Now()));
  EXPECT_THAT(lines[0], MatchesRegex("======== Object Summary: .{26} ========"));
  EXPECT_THAT(std::vector<std::string>(lines.begin() + 1, lines.end()),
              ElementsAre("Stats:", "------------------------------------",
                          "callsite_enabled: false", "total_objects: 4",
                          "total_size_mb: 5.00001", "", "", "Table (group by callsite):",
                          "------------------------------------",
                          "    CALL_SITE    TOTAL_OBJECTS    TOTAL_SIZE_MB    TOTAL_NUM_WORKERS"
                          "    TOTAL_NUM_NODES    TASK_STATE_COUNTS           REF_TYPE_COUNTS",
                          "0   disabled     4                5.00001          2                 "
                          "   2                  PENDING_NODE_ASSIGNMENT: 1  LOCAL_REFERENCE: 2",
                          "                                                                    "
                          "                       FINISHED: 3                 BORROWED: 1",
                          "                                                                    "
                          "                                                   USED_BY_PENDING_TASK: 1"));
}

TEST(ObjectSummaryTest, NoObjects) {
  auto lines = Lines(FormatObjectSummary(SummarizeObjects({}), absl::Now()));
  EXPECT_EQ(lines[4], "total_objects: 0");
  EXPECT_EQ(lines[5], "total_size_mb: 0.0");
  EXPECT_EQ(lines.back(), "No resource in the cluster");
}

}  // namespace
}  // namespace moray::cli
