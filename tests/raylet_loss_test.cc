// A driver whose local raylet dies: tasks in flight and tasks submitted afterwards fail with a
// clear error instead of hanging.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

int SleepMs(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
RAY_REMOTE(SleepMs);

pid_t RayletPid() {
  for (const auto& entry :
       std::filesystem::directory_iterator(moray::testing::PrivateTmpDir::path())) {
    std::ifstream in(entry.path() / "pids");
    pid_t pid;
    std::string name;
    while (in >> pid >> name) {
      if (name == "raylet") return pid;
    }
  }
  return -1;
}

TEST(RayletLossTest, PendingAndLaterTasksFailWhenTheRayletDies) {
  ray::Init();
  EXPECT_EQ(*ray::Task(SleepMs).Remote(1).Get(), 1);
  // Far longer than the Gets below wait: they can only end with the error, not with the task
  // (a timeout would raise RayTimeoutException instead).
  auto in_flight = ray::Task(SleepMs).Remote(300000);
  pid_t raylet = RayletPid();
  ASSERT_GT(raylet, 0);
  ASSERT_EQ(kill(raylet, SIGKILL), 0);
  EXPECT_THROW(in_flight.Get(60000), ray::internal::RayWorkerException);
  auto later = ray::Task(SleepMs).Remote(1);
  try {
    later.Get(60000);
    FAIL() << "expected RayWorkerException";
  } catch (const ray::internal::RayWorkerException& e) {
    EXPECT_NE(std::string(e.what()).find("raylet"), std::string::npos) << e.what();
  }
  ray::Shutdown();
}

}  // namespace
