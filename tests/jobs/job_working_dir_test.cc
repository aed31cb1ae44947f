// Issue 13's "a C++ job submitted with --working-dir, followed in its logs, and stopped", end to
// end on a two-node cluster made with the real CLI: `moray job submit --working-dir D` runs a
// C++ driver (working_dir_job_driver) whose TASK reads a file relative to its current directory
// and a variable from the job's env_vars — on the head, and forced by a custom resource onto the
// second node, whose raylet starts the worker there. `moray job logs --follow` sees the line
// while the job runs; `moray job stop` makes it STOPPED and ends the driver and its worker. The
// submission's package leaves the GCS KV when the job ends, while another running job's stays.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "gcs/gcs_client.h"
#include "gtest/gtest.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"
#include "runtime_env/package_store.h"
#include "tests/cluster/local_cluster.h"
#include "tests/test_env.h"

namespace {

namespace fs = std::filesystem;
using moray::testing::CommandResult;
using moray::testing::LocalCluster;
using moray::testing::PrivateTmpDir;
using moray::testing::ProcessAlive;
using moray::testing::ReadFile;
using moray::testing::RunMoray;
using moray::testing::RunShell;
using moray::testing::WaitFor;

// The parent pid of `pid` (field 4 of /proc/<pid>/stat), -1 if it is gone.
pid_t ParentOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(stat.substr(paren + 2));
  std::string state;
  pid_t ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

class JobWorkingDirTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new LocalCluster();
    started_ = cluster_->Start({{.num_cpus = 1}, {.num_cpus = 1, .resources = R"({"far": 1})"}});
    if (started_) {
      // As a CLI does: the cluster's token, the CLI's role.
      auto auth = moray::rpc::LoadAuthConfig();
      if (auth.ok()) {
        moray::rpc::SetProcessAuth(*auth);
        moray::rpc::SetProcessRole(moray::proto::ROLE_CLI);
      }
      auto client = moray::gcs::GcsClient::Connect(cluster_->address(), absl::Seconds(10));
      if (client.ok()) {
        gcs_ = *std::move(client);
      } else {
        connect_error_ = client.status().ToString();
      }
    }
  }
  static void TearDownTestSuite() {
    gcs_.reset();
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(started_) << cluster_->error();
    ASSERT_NE(gcs_, nullptr) << connect_error_;
  }

  static CommandResult Job(std::vector<std::string> args) {
    return moray::testing::RunMorayJob(cluster_->address(), std::move(args));
  }
  static std::string Status(const std::string& id) {
    return moray::testing::JobStatusOf(cluster_->address(), id);
  }
  // A project directory with data/input.txt saying `text`.
  static std::string Project(const std::string& name, const std::string& text) {
    const std::string dir = PrivateTmpDir::path() + "/" + name;
    fs::create_directories(dir + "/data");
    std::ofstream(dir + "/data/input.txt") << text << "\n";
    return dir;
  }

  struct Running {
    std::string id;
    std::string dir;   // the project directory submitted
    std::string hash;  // its package (the last component of the worker's cwd)
    pid_t driver = -1;
    pid_t worker = -1;
    std::unique_ptr<std::thread> follower;  // `moray job logs --follow`, ends with the job
    std::string follow_out;
    int follow_exit = -1;
  };

  // Submits the driver (its task needing `resource` when not empty) as job `id` with a project
  // whose data/input.txt says `text` as working_dir, follows its logs until the task's line and
  // checks what the task read and where it ran. `driver_returns`: the driver returns after its
  // task and the entrypoint then prints "driver returned" and sleeps.
  static std::unique_ptr<Running> SubmitAndFollow(const std::string& id,
                                                  const std::string& resource,
                                                  const std::string& text,
                                                  bool driver_returns = false) {
    auto run = std::make_unique<Running>();
    run->id = id;
    run->dir = Project(id, text);
    CommandResult submitted = Job(
        {"submit", "--no-wait", "--submission-id=" + id, "--working-dir", run->dir,
         "--runtime-env-json", R"({"env_vars": {"GREETING": "hello from )" + id + R"("}})", "--",
         std::string(driver_returns ? "DRIVER_RETURNS=1 " : "") + WORKING_DIR_JOB_DRIVER +
             (resource.empty() ? "" : " " + resource) +
             (driver_returns ? " && echo driver returned && sleep 1000" : "")});
    EXPECT_EQ(submitted.exit_code, 0) << submitted.out << submitted.err;
    if (submitted.exit_code != 0) return run;

    run->follow_out = PrivateTmpDir::path() + "/" + id + ".follow";
    Running* r = run.get();
    run->follower = std::make_unique<std::thread>([r] {
      r->follow_exit = RunShell(std::string(std::getenv("MORAY_BIN")) +
                                " job logs --follow --address=" + cluster_->address() + " " +
                                r->id + " > " + r->follow_out + " 2>&1")
                           .exit_code;
    });
    std::smatch m;
    const std::regex line("task read: ([^|\\n]*)\\|([^|\\n]*)\\|worker_pid=(\\d+)\\|cwd=(\\S+)");
    std::string followed;
    const bool seen = WaitFor(
        [&] {
          followed = ReadFile(run->follow_out);
          return std::regex_search(followed, m, line);
        },
        std::chrono::seconds(60));
    EXPECT_TRUE(seen) << followed << "\nstatus: " << Status(id)
                      << "\nlogs: " << Job({"logs", id}).out;
    if (!seen) return run;
    EXPECT_EQ(m[1].str(), text);
    EXPECT_EQ(m[2].str(), "hello from " + id);
    run->worker = std::stoi(m[3].str());
    // The worker's cwd is the package unpacked in its node's cache, not the project directory.
    const std::string cwd = m[4].str();
    EXPECT_NE(cwd, run->dir);
    EXPECT_NE(cwd.find("/runtime_resources/pkg/"), std::string::npos) << cwd;
    run->hash = fs::path(cwd).filename().string();
    std::smatch d;
    if (std::regex_search(followed, d, std::regex("driver_pid=(\\d+)"))) {
      run->driver = std::stoi(d[1]);
    }
    EXPECT_GT(run->driver, 0) << followed;
    if (driver_returns) return run;  // its worker may be gone already
    EXPECT_TRUE(ProcessAlive(run->worker));
    // Which raylet started the worker: the second node's for the custom resource.
    EXPECT_EQ(ParentOf(run->worker), cluster_->raylet_pid(resource.empty() ? 0 : 1));
    EXPECT_EQ(Status(id), "RUNNING") << Job({"status", id}).out << Job({"logs", id}).out;
    EXPECT_TRUE(HasPackage(run->hash));
    return run;
  }

  // `moray job stop`: STOPPED, the follower ends, the driver and its worker are gone.
  static void StopAndCheck(Running& run) {
    CommandResult stopped = Job({"stop", run.id});
    EXPECT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
    if (run.follower) run.follower->join();
    EXPECT_EQ(run.follow_exit, 0) << ReadFile(run.follow_out);
    EXPECT_EQ(Status(run.id), "STOPPED");
    if (run.driver > 0) {
      EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(run.driver); }, std::chrono::seconds(10)));
    }
    if (run.worker > 0) {
      EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(run.worker); }, std::chrono::seconds(10)))
          << "worker " << run.worker << " of job " << run.id << " outlived it";
    }
  }

  // Whether the package store (the GCS KV, namespace "packages") still lists `hash`.
  static bool HasPackage(const std::string& hash) {
    if (!gcs_) return true;
    auto keys = gcs_->KvKeys(moray::runtime_env::kPackageNamespace, "index/" + hash);
    EXPECT_TRUE(keys.ok()) << keys.status();
    return !keys.ok() || !keys->empty();
  }
  // The owners of the refs to `hash` ("sub-<id>", a job's hex, ...).
  static std::vector<std::string> RefOwners(const std::string& hash) {
    std::vector<std::string> owners;
    auto keys = gcs_->KvKeys(moray::runtime_env::kPackageNamespace, "refs/" + hash + "/");
    if (!keys.ok()) return {"<" + keys.status().ToString() + ">"};
    for (const std::string& key : *keys) owners.push_back(fs::path(key).filename().string());
    return owners;
  }
  static bool PackageGoes(const std::string& hash) {
    return WaitFor([&] { return !HasPackage(hash); }, std::chrono::seconds(10));
  }

  static LocalCluster* cluster_;
  static bool started_;
  static std::unique_ptr<moray::gcs::GcsClient> gcs_;
  static std::string connect_error_;
};
LocalCluster* JobWorkingDirTest::cluster_ = nullptr;
bool JobWorkingDirTest::started_ = false;
std::unique_ptr<moray::gcs::GcsClient> JobWorkingDirTest::gcs_;
std::string JobWorkingDirTest::connect_error_;

TEST_F(JobWorkingDirTest, TheDriversTaskReadsTheWorkingDirOnTheHeadIsFollowedAndStopped) {
  auto run = SubmitAndFollow("on_head", "", "shipped to the head");
  StopAndCheck(*run);
  // Its submission's ref went with the job, and so did the package.
  if (!run->hash.empty()) EXPECT_TRUE(PackageGoes(run->hash));
}

TEST_F(JobWorkingDirTest, ASubmissionKeepsItsPackageAfterItsDriverEnds) {
  // The entrypoint outlives its driver (it could start another): the driver's job finishing drops
  // the job's ref (the GCS collects then), but the submission's own ref keeps the package.
  auto run = SubmitAndFollow("driver_returns", "", "kept for the entrypoint",
                             /*driver_returns=*/true);
  ASSERT_FALSE(run->hash.empty());
  EXPECT_TRUE(WaitFor(
      [&] { return ReadFile(run->follow_out).find("driver returned") != std::string::npos; }));
  EXPECT_TRUE(WaitFor([&] {
    return RefOwners(run->hash) == std::vector<std::string>{"sub-driver_returns"};
  })) << ::testing::PrintToString(RefOwners(run->hash));
  EXPECT_TRUE(HasPackage(run->hash));
  EXPECT_EQ(Status(run->id), "RUNNING");
  StopAndCheck(*run);
  EXPECT_TRUE(PackageGoes(run->hash));
  EXPECT_TRUE(RefOwners(run->hash).empty());
}

TEST_F(JobWorkingDirTest, AWorkerOnTheSecondNodeReadsTheWorkingDirItsRayletFetched) {
  auto far = SubmitAndFollow("on_far", "far", "shipped to the second node");
  // A second job (another project) ends while the first runs: only its own package goes.
  auto near = SubmitAndFollow("near_while_far_runs", "", "a shorter job");
  StopAndCheck(*near);
  if (!near->hash.empty()) EXPECT_TRUE(PackageGoes(near->hash));
  if (!far->hash.empty()) EXPECT_TRUE(HasPackage(far->hash));
  StopAndCheck(*far);
  if (!far->hash.empty()) EXPECT_TRUE(PackageGoes(far->hash));
}

}  // namespace
