// main() of integration-test binaries. Test binaries are Moray drivers, and by default a raylet
// starts workers by re-executing the driver's own program: in that case ray::Init() turns this
// process into a worker and never returns, exactly as it does in a user's program.
#include <cstdlib>
#include <cstring>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/test_env.h"

int main(int argc, char** argv) {
  const char* worker = std::getenv("MORAY_WORKER_MODE");
  if (worker && std::strcmp(worker, "1") == 0) {
    ray::Init();  // runs tasks; never returns
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new moray::testing::PrivateTmpDir());
  const int failed = RUN_ALL_TESTS();
  // Every test skipped itself (netns_test without the privileges it needs): tell CTest, which
  // then reports the binary as skipped instead of passed (SKIP_RETURN_CODE, moray_cc_test).
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  if (failed == 0 && unit.test_to_run_count() > 0 &&
      unit.skipped_test_count() == unit.test_to_run_count()) {
    return moray::testing::kAllSkippedExitCode;
  }
  return failed;
}
