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
  return RUN_ALL_TESTS();
}
