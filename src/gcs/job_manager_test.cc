#include "gcs/job_manager.h"

#include "common/id.h"
#include "gtest/gtest.h"

namespace moray::gcs {
namespace {

TEST(JobManagerTest, AssignsIdsFromOneAndStoresTheJob) {
  InMemoryTableStorage storage;
  JobManager jobs(&storage);
  proto::JobInfo info;
  info.set_job_id("ignored");
  info.set_driver_pid(123);
  info.set_driver_binary("/bin/app");
  info.add_driver_argv("/bin/app");
  info.add_driver_argv("--flag");
  info.add_code_search_path("/lib/x.so");

  auto first = jobs.AddJob(info);
  auto second = jobs.AddJob(info);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, JobIdFromInt(1));
  EXPECT_EQ(*second, JobIdFromInt(2));

  auto all = jobs.GetAllJobs();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  const auto& job = (*all)[0];
  EXPECT_EQ(job.job_id(), JobIdFromInt(1).Binary());
  EXPECT_FALSE(job.is_dead());
  EXPECT_GT(job.start_time_ms(), 0);
  EXPECT_EQ(job.driver_binary(), "/bin/app");
  ASSERT_EQ(job.driver_argv_size(), 2);
  EXPECT_EQ(job.driver_argv(1), "--flag");
  EXPECT_EQ(job.code_search_path(0), "/lib/x.so");
}

TEST(JobManagerTest, ListsInNumericOrderPastByteOrder) {
  InMemoryTableStorage storage;
  JobManager jobs(&storage);
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(jobs.AddJob({}).ok());
  auto all = jobs.GetAllJobs();
  ASSERT_TRUE(all.ok());
  for (size_t i = 0; i < all->size(); ++i)
    EXPECT_EQ(JobIdToInt(JobId::FromBinary((*all)[i].job_id())), i + 1);
}

TEST(JobManagerTest, CounterSurvivesANewManagerOnTheSameStorage) {
  InMemoryTableStorage storage;
  { JobManager jobs(&storage); ASSERT_TRUE(jobs.AddJob({}).ok()); }
  JobManager restarted(&storage);
  EXPECT_EQ(*restarted.AddJob({}), JobIdFromInt(2));
}

TEST(JobManagerTest, MarkFinished) {
  InMemoryTableStorage storage;
  JobManager jobs(&storage);
  auto id = jobs.AddJob({});
  ASSERT_TRUE(jobs.MarkJobFinished(*id).ok());
  ASSERT_TRUE(jobs.MarkJobFinished(*id).ok());  // twice is fine
  auto job = (*jobs.GetAllJobs())[0];
  EXPECT_TRUE(job.is_dead());
  EXPECT_GE(job.end_time_ms(), job.start_time_ms());
  EXPECT_EQ(jobs.MarkJobFinished(JobIdFromInt(99)).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace moray::gcs
