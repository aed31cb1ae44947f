// The log agent on real pipes and files (no GCS): markers are stripped, a line without its
// newline reaches the file when the stream closes, and rotation keeps the backup count without
// cutting or losing a line.
#include "raylet/log_agent.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "common/log_marker.h"
#include "gtest/gtest.h"

namespace moray::raylet {
namespace {
namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits (bounded) until the file holds `want`.
bool AwaitContent(const fs::path& path, const std::string& want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Read(path) != want) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class LogAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "log_agent_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A worker whose stdout/stderr pipes the agent reads; returns the write ends.
  std::pair<int, int> AddWorker(LogAgent& agent, pid_t pid) {
    int out[2], err[2];
    EXPECT_EQ(pipe(out), 0);
    EXPECT_EQ(pipe(err), 0);
    agent.AddWorker(worker_, job_, pid, out[0], err[0]);
    return {out[1], err[1]};
  }
  fs::path File(pid_t pid, bool err) const {
    return dir_ / LogAgent::WorkerFileName(worker_, job_, pid, err);
  }

  fs::path dir_;
  WorkerId worker_ = WorkerId::FromRandom();
  JobId job_ = JobId::FromBinary(std::string(JobId::kSize, '\1'));
};

void Write(int fd, const std::string& text) {
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

TEST_F(LogAgentTest, MarkersAreStrippedAndEachStreamHasItsFile) {
  LogAgent agent({.log_dir = dir_.string()});
  ASSERT_TRUE(agent.Start().ok());
  auto [out, err] = AddWorker(agent, 4242);
  Write(out, "before\n" + NameMarkerLine("f") + "after\nno newline");
  Write(err, NameMarkerLine("f") + "oops\n");
  EXPECT_TRUE(AwaitContent(File(4242, true), "oops\n")) << Read(File(4242, true));
  close(out);
  close(err);
  EXPECT_TRUE(AwaitContent(File(4242, false), "before\nafter\nno newline\n"))
      << Read(File(4242, false));
  agent.Stop();
}

TEST_F(LogAgentTest, RotationKeepsTheBackupCountAndWholeLines) {
  LogAgent agent({.log_dir = dir_.string(), .rotation_bytes = 32, .backup_count = 2});
  ASSERT_TRUE(agent.Start().ok());
  auto [out, err] = AddWorker(agent, 77);
  std::string all;
  for (int i = 0; i < 40; ++i) all += "line " + std::to_string(i) + "\n";  // 7-8 bytes each
  Write(out, all);
  close(out);
  close(err);
  const fs::path base = File(77, false);
  ASSERT_TRUE(AwaitContent(base, "line 36\nline 37\nline 38\nline 39\n")) << Read(base);
  agent.Stop();
  EXPECT_TRUE(fs::exists(base.string() + ".1"));
  EXPECT_TRUE(fs::exists(base.string() + ".2"));
  EXPECT_FALSE(fs::exists(base.string() + ".3"));
  const std::string kept = Read(base.string() + ".2") + Read(base.string() + ".1") + Read(base);
  EXPECT_EQ(kept, all.substr(all.find("line 28\n"))) << kept;  // 3 files of 4 lines each
  for (const auto& suffix : {"", ".1", ".2"}) {
    EXPECT_LE(fs::file_size(base.string() + suffix), 32u) << suffix;
  }
}

}  // namespace
}  // namespace moray::raylet
