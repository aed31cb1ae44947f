// working_dir on a real two-node cluster (docs/runtime_env.md): a directory only the driver
// knows is packed, uploaded and unpacked on the node that runs the task (job, task and actor
// level), and deleted from the driver's node when the job ends; the submission errors (a
// directory that does not exist, a package over the limit) and a setup timeout.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/cluster/local_cluster.h"
#include "tests/test_env.h"

namespace {

namespace fs = std::filesystem;
using moray::testing::LocalCluster;
using moray::testing::WaitFor;
using ray::internal::RayRuntimeEnvException;

std::string ReadFile(std::string path) {
  std::ifstream in(path);
  if (!in) return "<missing " + path + ">";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}
std::string Cwd() { return fs::current_path().string(); }

class FileReader {
 public:
  static FileReader* Create() { return new FileReader(); }
  std::string Read(std::string path) { return ReadFile(path); }
};
RAY_REMOTE(ReadFile, Cwd, FileReader::Create, &FileReader::Read);

constexpr int kTimeoutMs = 60000;

// A directory with data.txt = `text`, removed at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& text) {
    char pattern[] = "/tmp/moray-wd-XXXXXX";
    path_ = mkdtemp(pattern);
    std::ofstream(path_ + "/data.txt") << text;
    fs::create_directory(path_ + "/sub");
    std::ofstream(path_ + "/sub/nested.txt") << "nested";
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ray::RuntimeEnv WorkingDir(const std::string& dir) {
  ray::RuntimeEnv env;
  env.Set("working_dir", dir);
  return env;
}

// Two nodes: the head and "n2" (the only one with the resource "n2"). Tasks asking "n2" run on
// the node that never saw the driver's directory.
class WorkingDirTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new LocalCluster();
    ASSERT_TRUE(cluster_->Start({{.num_cpus = 2, .resources = R"({"head": 10})"},
                                 {.num_cpus = 2, .resources = R"({"n2": 10})", .node_name = "n2"}}))
        << cluster_->error();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void Start(std::optional<ray::RuntimeEnv> job_env = std::nullopt) {
    ray::RayConfig config;
    config.address = cluster_->address();
    config.runtime_env = std::move(job_env);
    ray::Init(config);
  }
  void TearDown() override {
    if (ray::IsInitialized()) ray::Shutdown();
  }
  static LocalCluster* cluster_;
};
LocalCluster* WorkingDirTest::cluster_ = nullptr;

TEST_F(WorkingDirTest, TaskWorkingDirReachesAnotherNode) {
  Start();
  TempDir dir("task data");
  auto env = WorkingDir(dir.path());
  auto on_n2 = ray::Task(ReadFile).SetRuntimeEnv(env).SetResource("n2", 1).Remote("data.txt");
  EXPECT_EQ(*on_n2.Get(kTimeoutMs), "task data");
  EXPECT_EQ(*ray::Task(ReadFile)
                 .SetRuntimeEnv(env)
                 .SetResource("n2", 1)
                 .Remote("sub/nested.txt")
                 .Get(kTimeoutMs),
            "nested");
  const std::string cwd =
      *ray::Task(Cwd).SetRuntimeEnv(env).SetResource("n2", 1).Remote().Get(kTimeoutMs);
  EXPECT_NE(cwd.find("/runtime_resources/pkg/"), std::string::npos) << cwd;
  EXPECT_NE(cwd, dir.path());
}

TEST_F(WorkingDirTest, JobWorkingDirIsTheCwdOfEveryTaskAndIsDeletedWhenTheJobEnds) {
  TempDir dir("job data");
  Start(WorkingDir(dir.path()));
  EXPECT_EQ(*ray::Task(ReadFile).SetResource("n2", 1).Remote("data.txt").Get(kTimeoutMs),
            "job data");
  const std::string head_cwd = *ray::Task(Cwd).SetResource("head", 1).Remote().Get(kTimeoutMs);
  EXPECT_EQ(ReadFile(head_cwd + "/data.txt"), "job data");
  ray::Shutdown();
  // The job ended on the head (its driver's node): its workers go, then the unpacked package.
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(head_cwd); }, std::chrono::seconds(30)))
      << head_cwd << " still exists";
}

TEST_F(WorkingDirTest, ActorWorkingDir) {
  Start();
  TempDir dir("actor data");
  ray::ActorHandle<FileReader> actor = ray::Actor(FileReader::Create)
                                           .SetRuntimeEnv(WorkingDir(dir.path()))
                                           .SetResource("n2", 1)
                                           .Remote();
  EXPECT_EQ(*actor.Task(&FileReader::Read).Remote("data.txt").Get(kTimeoutMs), "actor data");
}

TEST_F(WorkingDirTest, MissingWorkingDirThrowsAtRemote) {
  Start();
  try {
    ray::Task(ReadFile).SetRuntimeEnv(WorkingDir("/tmp/moray-no-such-dir")).Remote("x");
    FAIL() << "Remote() accepted a missing working_dir";
  } catch (const RayRuntimeEnvException& e) {
    EXPECT_NE(std::string(e.what()).find("/tmp/moray-no-such-dir"), std::string::npos) << e.what();
  }
}

TEST_F(WorkingDirTest, OversizePackageThrowsAtRemote) {
  Start();
  TempDir dir(std::string(64 << 10, 'x'));
  setenv("MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES", "1024", 1);
  try {
    ray::Task(ReadFile).SetRuntimeEnv(WorkingDir(dir.path())).Remote("data.txt");
    ADD_FAILURE() << "Remote() accepted a package over the limit";
  } catch (const RayRuntimeEnvException& e) {
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
  }
  unsetenv("MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES");
}

TEST_F(WorkingDirTest, PackageThatNeverArrivesTimesOut) {
  Start();
  // No such package (no meta ever appears, as for an upload that never completes): the raylet
  // waits for it until the env's setup timeout.
  ray::RuntimeEnv env = WorkingDir("pkg://" + std::string(64, 'a'));
  env.SetJsonStr("config", R"({"setup_timeout_seconds": 1})");
  try {
    ray::Task(ReadFile).SetRuntimeEnv(env).SetResource("n2", 1).Remote("x").Get(kTimeoutMs);
    FAIL() << "a task ran without its working_dir";
  } catch (const RayRuntimeEnvException& e) {
    EXPECT_NE(std::string(e.what()).find("timed out after 1 s"), std::string::npos) << e.what();
  }
}

}  // namespace
