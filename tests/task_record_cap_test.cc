// The GCS's cap on task records (--task-events-max-num-task-in-gcs) on a real `moray start
// --head` cluster with this process as its driver: more tasks than the cap leave exactly the cap,
// the oldest finished records dropped, and `moray list/summary tasks` say how many; a bad value
// is refused naming the flag.
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

using moray::testing::RunMoray;
using moray::testing::RunMorayJson;
using moray::testing::WaitFor;

int Double(int x) { return 2 * x; }
RAY_REMOTE(Double);

nlohmann::json ListAll(const std::string& address) {
  std::string error;
  nlohmann::json rows =
      RunMorayJson({"list", "tasks", "--limit", "100000", "--address", address}, &error);
  EXPECT_FALSE(rows.is_null()) << error;
  return rows.is_null() ? nlohmann::json::array() : rows;
}

// A head whose GCS keeps 20 records: more tasks than that leave 20, the oldest finished ones
// dropped, and both commands say how many.
TEST(TaskRecordCapTest, TheCapBoundsRecordsAndListAndSummaryReportTheDrops) {
  auto bad = RunMoray({"start", "--head", "--port=0", "--task-events-max-num-task-in-gcs=0"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE((bad.out + bad.err).find("--task-events-max-num-task-in-gcs"), std::string::npos)
      << bad.out << bad.err;

  auto started = RunMoray({"start", "--head", "--port=0", "--num-cpus=2", "--dashboard-port=0",
                           "--task-events-max-num-task-in-gcs=20"});
  const std::string address = moray::testing::GcsAddressOf(started);
  ASSERT_FALSE(address.empty()) << started.out << started.err;
  ray::RayConfig config;
  config.address = address;
  ray::Init(config);
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < 60; ++i) refs.push_back(ray::Task(Double).Remote(i));
  ray::Get(refs);
  // 60 tasks (and the driver's record): at least 41 evicted once all events arrived.
  moray::testing::CommandResult listed;
  ASSERT_TRUE(WaitFor([&] {
    listed = RunMoray({"list", "tasks", "--limit", "5", "--address", address});
    return listed.err.find("Warning: the GCS dropped 4") != std::string::npos;
  })) << listed.out
      << listed.err;
  EXPECT_NE(listed.err.find("--task-events-max-num-task-in-gcs"), std::string::npos);
  EXPECT_NE(listed.err.find("(out of 20)"), std::string::npos) << listed.err;
  auto summary = RunMoray({"summary", "tasks", "--address", address});
  EXPECT_EQ(summary.exit_code, 0);
  EXPECT_NE(summary.err.find("Warning: the GCS dropped 4"), std::string::npos)
      << summary.out << summary.err
      << RunMoray({"list", "tasks", "--detail", "--address", address}).out;
  const auto rows = ListAll(address);
  EXPECT_EQ(rows.size(), 20u) << rows.dump();
  ray::Shutdown();
  auto stopped = RunMoray({"stop"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

}  // namespace
