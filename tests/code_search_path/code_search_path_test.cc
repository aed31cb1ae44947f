// How code reaches workers. Default: the raylet re-executes the driver's own program in worker
// mode — a copy of it in the node's code cache (docs/runtime_env.md, "Shipped code"). Ray's way:
// RayConfig::code_search_path (or --ray_code_search_path) names .so files or directories of them,
// and the generic `moray worker` loads them; the driver links the same library so that ray::Task(f)
// knows f's name. Each test starts and stops its own embedded cluster.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/code_search_path/remote_functions.h"
#include "tests/test_env.h"

namespace {
namespace fs = std::filesystem;
using code_search_path::ExecutablePath;
using code_search_path::Multiply;

// Registered in the test binary only: a library-loading worker cannot know it.
int OnlyInTheDriver() { return 1; }
RAY_REMOTE(OnlyInTheDriver);

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string MorayExe() {
  const char* bin = std::getenv("MORAY_BIN");
  return bin ? fs::canonical(bin).string() : std::string();
}

class CodeSearchPathTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(MorayExe().empty()) << "MORAY_BIN is not set"; }
  void TearDown() override {
    if (ray::IsInitialized()) ray::Shutdown();
    EXPECT_TRUE(moray::testing::WaitFor(
        [] {
          for (pid_t pid : moray::testing::ProcessesOfThisTest()) {
            if (pid != getpid()) return false;
          }
          return true;
        },
        std::chrono::seconds(10)));
  }

  // Tasks from the library ran in the generic worker; the driver's own functions cannot run there.
  static void ExpectTasksRunInTheMorayWorker() {
    EXPECT_EQ(*ray::Task(Multiply).Remote(6, 7).Get(), 42);
    std::string exe = *ray::Task(ExecutablePath).Remote().Get();
    EXPECT_EQ(exe, MorayExe());
    EXPECT_NE(exe, SelfExe());
    try {
      ray::Task(OnlyInTheDriver).Remote().Get();
      ADD_FAILURE() << "a function the library lacks ran in the library-loading worker";
    } catch (const ray::internal::RayFunctionNotFound& e) {
      EXPECT_NE(std::string(e.what()).find("OnlyInTheDriver"), std::string::npos) << e.what();
    }
  }
};

TEST_F(CodeSearchPathTest, WithoutASearchPathWorkersReExecuteTheDriver) {
  ray::Init();
  const std::string exe = *ray::Task(ExecutablePath).Remote().Get();
  // The node cache's copy of this very program: same name, same bytes.
  EXPECT_NE(exe.find("/runtime_resources/code/"), std::string::npos) << exe;
  EXPECT_EQ(fs::path(exe).filename(), fs::path(SelfExe()).filename()) << exe;
  EXPECT_TRUE(moray::testing::ReadFile(exe) == moray::testing::ReadFile(SelfExe())) << exe;
  EXPECT_EQ(*ray::Task(OnlyInTheDriver).Remote().Get(), 1);
}

TEST_F(CodeSearchPathTest, LibraryFileInConfig) {
  ray::RayConfig config;
  config.code_search_path = {CODE_SEARCH_PATH_LIBRARY};
  ray::Init(config);
  ExpectTasksRunInTheMorayWorker();
}

TEST_F(CodeSearchPathTest, DirectoryInTheCommandLineFlag) {
  ray::RayConfig config;
  std::string program = "driver";
  std::string flag = "--ray_code_search_path";
  std::string dir = fs::path(CODE_SEARCH_PATH_LIBRARY).parent_path().string();
  char* argv[] = {program.data(), flag.data(), dir.data(), nullptr};
  ray::Init(config, 3, argv);
  ExpectTasksRunInTheMorayWorker();
}

TEST_F(CodeSearchPathTest, RelativePathIsTakenFromTheDriversWorkingDirectory) {
  // A cluster started from / : its workers run there, not in the driver's working directory, so
  // the driver must make the path absolute before it reaches them.
  auto started = moray::testing::RunShell(std::string("cd / && '") + std::getenv("MORAY_BIN") +
                                          "' start --head --port=0 --num-cpus=1");
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  struct StopCluster {  // also when an assertion below fails
    ~StopCluster() {
      if (ray::IsInitialized()) ray::Shutdown();
      auto stopped = moray::testing::RunMoray({"stop"});
      EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    }
  } stop_cluster;
  fs::path relative = fs::relative(CODE_SEARCH_PATH_LIBRARY, fs::current_path());
  ASSERT_TRUE(relative.is_relative()) << relative;
  ASSERT_NE(fs::current_path(), fs::path("/"));
  ray::RayConfig config;
  config.address = "auto";
  config.code_search_path = {relative.string()};
  ray::Init(config);
  ExpectTasksRunInTheMorayWorker();
}

}  // namespace
