#include "raylet/gcs_thread.h"

#include "gtest/gtest.h"
#include "raylet/fake_gcs_accessor.h"

namespace moray::raylet {
namespace {

proto::TaskEvent Event(int i) {
  proto::TaskEvent event;
  event.set_task_id(std::to_string(i));
  return event;
}

TEST(GcsThreadTest, RunsPostedCallsInOrderAndFlushesEventsInBatches) {
  FakeGcsAccessor gcs;
  GcsThread thread(&gcs, GcsThread::Options{});
  thread.Start();
  thread.Post([](GcsAccessor& g) { ASSERT_TRUE(g.MarkJobFinished(JobIdFromInt(1)).ok()); });
  thread.Post([](GcsAccessor& g) { ASSERT_TRUE(g.MarkJobFinished(JobIdFromInt(2)).ok()); });
  thread.AddTaskEvents({Event(1), Event(2)}, 3);
  ASSERT_TRUE(gcs.WaitFor(
      [](const FakeGcsAccessor::State& s) {
        return s.finished_jobs.size() == 2 && s.task_events.size() == 2;
      },
      absl::Seconds(5)));
  auto state = gcs.Snapshot();
  EXPECT_EQ(state.finished_jobs, (std::vector<JobId>{JobIdFromInt(1), JobIdFromInt(2)}));
  EXPECT_EQ(state.dropped_task_events, 3);
}

TEST(GcsThreadTest, BoundedEventBufferCountsDrops) {
  FakeGcsAccessor gcs;
  GcsThread::Options options;
  options.max_buffered_events = 2;
  options.flush_period = absl::Hours(1);  // only Stop flushes
  GcsThread thread(&gcs, options);
  thread.Start();
  thread.AddTaskEvents({Event(1), Event(2), Event(3), Event(4)}, 0);
  EXPECT_EQ(thread.dropped_task_events(), 2);
  thread.Stop();
  auto state = gcs.Snapshot();
  EXPECT_EQ(state.task_events.size(), 2u);
  EXPECT_EQ(state.dropped_task_events, 2);
}

TEST(GcsThreadTest, LatestReportWinsAndStopSendsIt) {
  FakeGcsAccessor gcs;
  GcsThread thread(&gcs, GcsThread::Options{});
  proto::NodeResourceReport report;
  report.set_node_id("old");
  thread.SubmitReport(report);
  report.set_node_id("new");
  thread.SubmitReport(report);
  thread.Start();
  thread.Stop();
  auto state = gcs.Snapshot();
  ASSERT_EQ(state.reports.size(), 1u);
  EXPECT_EQ(state.reports[0].node_id(), "new");
}

}  // namespace
}  // namespace moray::raylet
