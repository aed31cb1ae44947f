// A fixture whose tests share one private cluster started by ray::Init (as a user's program
// starts it): once for the suite, with `kCpus` CPUs, and shut down after the suite.
//
//   using TasksTest = moray::testing::EmbeddedClusterTest<2>;
//   TEST_F(TasksTest, ...) { ... }
#pragma once

#include <string>

#include "gtest/gtest.h"
#include "ray/api.h"

namespace moray::testing {

template <int kCpus>
class EmbeddedClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ray::RayConfig config;
    config.head_args = {"--num-cpus=" + std::to_string(kCpus)};
    ray::Init(config);
  }
  static void TearDownTestSuite() { ray::Shutdown(); }
};

}  // namespace moray::testing
