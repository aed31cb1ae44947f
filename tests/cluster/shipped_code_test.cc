// Workers run the code their driver started with, from each node's cache, whatever happens to the
// driver's file (docs/runtime_env.md, "Shipped code"): a two-node cluster on loopback; the driver
// is a copy of shipped_code_driver in a directory of its own, deleted (or its file replaced) right
// after ray::Init; then a task and a new actor run on each node. The other node never had the
// driver's process to copy from: it fetched the code from the package store. (netns_test.cc has
// the variant where other nodes never see the path at all.)
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tests/cluster/local_cluster.h"
#include "tests/cluster/shipped_code_check.h"
#include "tests/test_env.h"

namespace moray::testing {
namespace {
namespace fs = std::filesystem;

class ShippedCode : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start({{.num_cpus = 1}, {.num_cpus = 1}})) << cluster_.error();
    dir_ = fs::path(::testing::TempDir()) /
           ("shipped_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    driver_ = (dir_ / "shipped_code_driver").string();
    fs::copy_file(SHIPPED_CODE_DRIVER, driver_, fs::copy_options::overwrite_existing);
  }
  void TearDown() override {
    cluster_.Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  CommandResult RunDriver(const std::string& mode) {
    CommandResult run = RunShell(driver_ + " " + cluster_.address() + " " + mode);
    std::printf("%s", run.out.c_str());  // where each worker ran, for the log
    return run;
  }

  LocalCluster cluster_;
  fs::path dir_;
  std::string driver_;
};

TEST_F(ShippedCode, ADeletedDriverStillStartsWorkersOnEveryNode) {
  CommandResult run = RunDriver("delete");
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_FALSE(fs::exists(dir_)) << "the driver removed its directory";
  auto path_here = ExpectRanFromTheCache(run.out, 2, driver_);
  for (const auto& [node, seen] : path_here) {
    EXPECT_EQ(seen, std::set<std::string>{"0"}) << "the path was gone when " << node << " ran";
  }
  // One raylet copied the running driver's inode, the other fetched the code from the store.
  std::string logs;
  for (const auto& entry : fs::directory_iterator(PrivateTmpDir::path())) {
    logs += ReadFile((entry.path() / "logs" / "raylet.log").string());
  }
  EXPECT_NE(logs.find("fetched from the package store"), std::string::npos) << logs;
  EXPECT_NE(logs.find(") cached from /proc/"), std::string::npos) << logs;
}

TEST_F(ShippedCode, AReplacedDriverFileDoesNotChangeTheWorkersCode) {
  CommandResult run = RunDriver("replace");
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  ExpectRanFromTheCache(run.out, 2, driver_);
  // The path now holds the other program, which the workers did not run.
  EXPECT_NE(ReadFile(driver_).find("not the code the driver started with"), std::string::npos);
  // The job ended: both nodes deleted their copy and ended the job's workers — the driver's node
  // when its driver left, the other (which ran the job by spillback only) when the GCS told it
  // (RAYLET_JOB_FINISHED). The cache entries used, one per node, and the workers' pids:
  std::set<std::string> entries;
  std::set<std::string> pids;
  const std::regex entry("exe=(\\S+/runtime_resources/code/[0-9a-f]{64})/.* pid=(\\d+)");
  for (const std::string& text : Lines(run.out)) {
    std::smatch m;
    if (!std::regex_search(text, m, entry)) continue;
    entries.insert(m[1]);
    pids.insert(m[2]);
  }
  ASSERT_EQ(entries.size(), 2u) << run.out;
  ASSERT_GE(pids.size(), 2u) << run.out;  // at least one worker on each node
  auto left = [&] {
    int n = 0;
    for (const std::string& path : entries) n += fs::exists(path) ? 1 : 0;
    for (const std::string& pid : pids) n += fs::exists("/proc/" + pid) ? 1 : 0;
    return n;
  };
  EXPECT_TRUE(WaitFor([&] { return left() == 0; }, std::chrono::seconds(15)))
      << left() << " copies or workers left";
}

// Code-search-path libraries too: a copy of the library directory, removed right after Init;
// `moray worker` on both nodes loads the library from its node's cache.
TEST_F(ShippedCode, LibrariesReachEveryNodeAfterTheirDirectoryIsGone) {
  const fs::path libs = dir_ / "libs";
  fs::create_directories(libs);
  const fs::path library = fs::path(SHIPPED_CODE_LIBRARY).filename();
  fs::copy_file(SHIPPED_CODE_LIBRARY, libs / library);
  CommandResult run = RunShell(std::string(SHIPPED_LIBRARY_DRIVER) + " " + cluster_.address() +
                               " " + libs.string());
  std::printf("%s", run.out.c_str());
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_FALSE(fs::exists(libs));
  const std::regex line("lib want=(\\S+) product=(\\d+) on=(\\S*) lib=(\\S*)");
  std::set<std::string> nodes;
  for (const std::string& text : Lines(run.out)) {
    std::smatch m;
    if (!std::regex_search(text, m, line)) continue;
    nodes.insert(m[1]);
    EXPECT_EQ(m[3], m[1]) << text;
    EXPECT_EQ(m[2], "42") << text;
    const std::string loaded = m[4];
    EXPECT_NE(loaded.find("/runtime_resources/code/"), std::string::npos) << text;
    EXPECT_TRUE(loaded.ends_with("/" + library.string())) << text;
  }
  EXPECT_EQ(nodes.size(), 2u) << run.out << run.err;
}

}  // namespace
}  // namespace moray::testing
