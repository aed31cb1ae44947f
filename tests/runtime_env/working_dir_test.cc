// working_dir on a real two-node cluster (docs/runtime_env.md): a directory only the driver
// knows is packed, uploaded and unpacked on the node that runs the task (job, task and actor
// level), and deleted from every node that ran the job when it ends; the submission errors (a
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
#include "tests/scoped_env.h"
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
int Pid() { return getpid(); }
std::string Exe() { return fs::read_symlink("/proc/self/exe").string(); }

class FileReader {
 public:
  static FileReader* Create() { return new FileReader(); }
  std::string Read(std::string path) { return ReadFile(path); }
};
RAY_REMOTE(ReadFile, Cwd, Pid, Exe, FileReader::Create, &FileReader::Read);

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
  // n2 runs the job only by spillback: its driver never registered there.
  const std::string n2_cwd = *ray::Task(Cwd).SetResource("n2", 1).Remote().Get(kTimeoutMs);
  const int n2_worker = *ray::Task(Pid).SetResource("n2", 1).Remote().Get(kTimeoutMs);
  auto actor = ray::Actor(FileReader::Create).SetResource("n2", 1).Remote();
  EXPECT_EQ(*actor.Task(&FileReader::Read).Remote("data.txt").Get(kTimeoutMs), "job data");
  // The same unpacked package on both nodes' caches (one machine here, two session dirs).
  EXPECT_NE(n2_cwd, head_cwd);
  EXPECT_EQ(std::filesystem::path(n2_cwd).filename(), std::filesystem::path(head_cwd).filename());
  ray::Shutdown();
  // The job ended on the head (its driver's node) and, told by the GCS, on n2: the workers go,
  // then the unpacked packages.
  const std::string n2_proc = "/proc/" + std::to_string(n2_worker);
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(head_cwd); }, std::chrono::seconds(15)))
      << head_cwd << " still exists";
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(n2_cwd); }, std::chrono::seconds(15)))
      << n2_cwd << " still exists on the node that ran the job by spillback";
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(n2_proc); }, std::chrono::seconds(15)))
      << "the job's worker on n2 (pid " << n2_worker << ") still runs";
}

// A detached actor outlives its job: the node it runs on keeps the job's unpacked working_dir
// and its cached code after the job ended there, until the actor's worker exits.
TEST_F(WorkingDirTest, ADetachedActorKeepsItsJobsWorkingDirUntilItExits) {
  TempDir dir("detached data");
  Start(WorkingDir(dir.path()));
  auto actor = ray::Actor(FileReader::Create)
                   .SetName("wd-detached", "working_dir_test")
                   .SetLifetime(ray::ActorLifetime::DETACHED)
                   .SetResource("n2", 1)
                   .Remote();
  EXPECT_EQ(*actor.Task(&FileReader::Read).Remote("data.txt").Get(kTimeoutMs), "detached data");
  const std::string n2_cwd = *ray::Task(Cwd).SetResource("n2", 1).Remote().Get(kTimeoutMs);
  const std::string n2_code = *ray::Task(Exe).SetResource("n2", 1).Remote().Get(kTimeoutMs);
  EXPECT_NE(n2_code.find("/runtime_resources/code/"), std::string::npos) << n2_code;
  const std::string n2_log =
      fs::path(n2_cwd).parent_path().parent_path().parent_path().string() + "/logs/raylet.log";
  ray::Shutdown();
  // n2 heard that the job ended, and kept what the detached actor runs from.
  EXPECT_TRUE(WaitFor(
      [&] {
        return ReadFile(n2_log).find("stay while its detached actors run") != std::string::npos;
      },
      std::chrono::seconds(15)))
      << n2_log;
  EXPECT_TRUE(fs::exists(n2_cwd + "/data.txt"));
  EXPECT_TRUE(fs::exists(n2_code));
  Start();
  auto found = ray::GetActor<FileReader>("wd-detached", "working_dir_test");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found->Task(&FileReader::Read).Remote("data.txt").Get(kTimeoutMs), "detached data");
  found->Kill();
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(n2_cwd) && !fs::exists(n2_code); },
                      std::chrono::seconds(15)))
      << n2_cwd << " or " << n2_code << " still exists after the detached actor exited";
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
  moray::testing::ScopedEnv limit("MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES", "1024");
  try {
    ray::Task(ReadFile).SetRuntimeEnv(WorkingDir(dir.path())).Remote("data.txt");
    ADD_FAILURE() << "Remote() accepted a package over the limit";
  } catch (const RayRuntimeEnvException& e) {
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
  }
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
