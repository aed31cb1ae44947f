// `moray job` against a real cluster started with `moray start --head` (its dashboard on a free
// port): jobs that succeed, fail, are stopped with their whole process tree, stream their logs,
// get their env vars and working_dir; the dashboard's token check; a C++ driver as a job joining
// the head through RAY_ADDRESS; clear errors for bad input.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "httplib.h"
#include "rpc/auth.h"
#include "tests/test_env.h"

namespace {
using moray::testing::AwaitFile;
using moray::testing::CommandResult;
using moray::testing::PrivateTmpDir;
using moray::testing::ProcessAlive;
using moray::testing::ReadFile;
using moray::testing::RunMoray;
using moray::testing::RunShell;
using moray::testing::WaitFor;
namespace fs = std::filesystem;

class CliJobsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    CommandResult started =
        RunMoray({"start", "--head", "--port=0", "--num-cpus=2", "--dashboard-port=0"});
    gcs_ = moray::testing::GcsAddressOf(started);
    std::smatch m;
    if (std::regex_search(started.out, m, std::regex("Dashboard: (http://\\S+)"))) url_ = m[1];
    start_output_ = started.out + started.err;
  }
  static void TearDownTestSuite() { RunMoray({"stop"}); }

  void SetUp() override {
    ASSERT_FALSE(gcs_.empty()) << start_output_;
    ASSERT_FALSE(url_.empty()) << start_output_;
  }

  // `moray job <args...>` against this cluster's GCS address.
  static CommandResult Job(std::vector<std::string> args) {
    return moray::testing::RunMorayJob(gcs_, std::move(args));
  }
  static std::string Status(const std::string& id) {
    return moray::testing::JobStatusOf(gcs_, id);
  }
  static std::string Dir(const std::string& name) {
    std::string dir = PrivateTmpDir::path() + "/" + name;
    fs::create_directories(dir);
    return dir;
  }
  // The processes whose environment marks them as the job's.
  static int JobProcessCount(const std::string& id) {
    std::string out = RunShell("grep -lzx 'MORAY_JOB_SUBMISSION_ID=" + id +
                               "' /proc/[0-9]*/environ 2>/dev/null | wc -l")
                          .out;
    return out.empty() ? -1 : std::stoi(out);
  }

  static std::string gcs_;
  static std::string url_;
  static std::string start_output_;
};
std::string CliJobsTest::gcs_;
std::string CliJobsTest::url_;
std::string CliJobsTest::start_output_;

TEST_F(CliJobsTest, SubmitTailsTheLogsAndSucceeds) {
  CommandResult run = Job({"submit", "--submission-id=hello", "--", "echo hello from a job"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("Job 'hello' submitted successfully"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Tailing logs until the job exits (disable with --no-wait):\nhello from "
                         "a job\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("Job 'hello' succeeded"), std::string::npos) << run.out;
  EXPECT_EQ(Status("hello"), "SUCCEEDED");
  EXPECT_EQ(Job({"logs", "hello"}).out, "hello from a job\n");
  CommandResult list = Job({"list", "--format=json"});
  EXPECT_NE(list.out.find("\"submission_id\": \"hello\""), std::string::npos) << list.out;
}

TEST_F(CliJobsTest, AFailingCommandIsFailedWithItsExitCode) {
  CommandResult run = Job({"submit", "--", "echo about to fail; exit 7"});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("about to fail"), std::string::npos);
  EXPECT_NE(run.out.find("' failed"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Status message: The entrypoint exited with code 7."), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.out, m, std::regex("Job '(raysubmit_[A-Za-z0-9]{16})'")));
  EXPECT_EQ(Status(m[1]), "FAILED");
}

TEST_F(CliJobsTest, StopEndsTheWholeTreeIncludingAGrandchildThatLeftTheSession) {
  const std::string pid_file = Dir("stop") + "/grandchild";
  CommandResult submitted =
      Job({"submit", "--no-wait", "--submission-id=sleeper", "--",
           "sh -c 'setsid sleep 1000 & echo $! > " + pid_file + "; wait' & sleep 1000"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.out << submitted.err;
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(pid_file).empty(); }));
  const pid_t grandchild = std::stoi(ReadFile(pid_file));
  ASSERT_TRUE(ProcessAlive(grandchild));
  EXPECT_EQ(Status("sleeper"), "RUNNING");
  EXPECT_GE(JobProcessCount("sleeper"), 4);  // sh, sh, sleep, the setsid'd sleep

  CommandResult stopped = Job({"stop", "sleeper"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
  EXPECT_NE(stopped.out.find("Job 'sleeper' was stopped"), std::string::npos) << stopped.out;
  EXPECT_EQ(Status("sleeper"), "STOPPED");
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(grandchild); }, std::chrono::seconds(5)));
  EXPECT_TRUE(WaitFor([&] { return JobProcessCount("sleeper") == 0; }, std::chrono::seconds(5)));
  CommandResult again = Job({"stop", "sleeper"});
  EXPECT_NE(again.out.find("has already ended (STOPPED)"), std::string::npos) << again.out;
}

TEST_F(CliJobsTest, LogsFollowSeesLinesAsTheyAppear) {
  const std::string dir = Dir("follow");
  ASSERT_EQ(Job({"submit", "--no-wait", "--submission-id=follow", "--",
                 "echo first; while [ ! -e " + dir + "/go ]; do sleep 0.02; done; echo second"})
                .exit_code,
            0);
  const std::string out = dir + "/follow.out";
  int follow_exit = -1;
  std::thread follower([&] {
    follow_exit = RunShell(std::string(std::getenv("MORAY_BIN")) +
                           " job logs --follow --address=" + gcs_ + " follow > " + out)
                      .exit_code;
  });
  // The first line arrives while the job still runs (it cannot print the second before `go`).
  EXPECT_TRUE(WaitFor([&] { return ReadFile(out) == "first\n"; }));
  EXPECT_EQ(Status("follow"), "RUNNING");
  moray::testing::Touch(dir + "/go");
  follower.join();
  EXPECT_EQ(follow_exit, 0);
  EXPECT_EQ(ReadFile(out), "first\nsecond\n");
}

TEST_F(CliJobsTest, TheRuntimeEnvsVariablesAndTheClusterAddressReachTheEntrypoint) {
  CommandResult run =
      Job({"submit", "--runtime-env-json", R"({"env_vars": {"GREETING": "hi there"}})", "--",
           "echo \"$GREETING|$RAY_ADDRESS|$MORAY_JOB_RUNTIME_ENV\""});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("hi there|" + gcs_ + R"(|{"env_vars":{"GREETING":"hi there"}})"),
            std::string::npos)
      << run.out;
}

TEST_F(CliJobsTest, TheWorkingDirIsUploadedAndIsTheEntrypointsDirectory) {
  const std::string dir = Dir("project");
  fs::create_directories(dir + "/data");
  std::ofstream(dir + "/data/input.txt") << "shipped with the job\n";
  std::ofstream(dir + "/big.log") << "left out\n";
  CommandResult run =
      Job({"submit", "--working-dir", dir, "--runtime-env-json", R"({"excludes": ["*.log"]})", "--",
           "cat data/input.txt; ls big.log 2>&1 | grep -c 'No such'"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("shipped with the job\n1\n"), std::string::npos) << run.out;
  // Given the dashboard's URL, the CLI uploads through the dashboard instead of the GCS.
  std::ofstream(dir + "/data/input.txt") << "second version\n";
  CommandResult direct = RunMoray(
      {"job", "submit", "--address=" + url_, "--working-dir", dir, "--", "cat data/input.txt"});
  EXPECT_EQ(direct.exit_code, 0) << direct.out << direct.err;
  EXPECT_NE(direct.out.find("second version"), std::string::npos) << direct.out;
}

TEST_F(CliJobsTest, TheDashboardNeedsTheClusterToken) {
  if (moray::rpc::LoadAuthConfig()->mode == moray::rpc::AuthMode::kDisabled) {
    GTEST_SKIP() << "RAY_AUTH_MODE=disabled";
  }
  httplib::Client http(url_);
  auto none = http.Get("/api/jobs/");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_NE(none->body.find("\"error\""), std::string::npos);
  auto wrong = http.Get("/api/jobs/", {{"Authorization", "Bearer not-the-token"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  const std::string token = moray::rpc::LoadAuthConfig()->token;
  EXPECT_EQ(wrong->body.find(token), std::string::npos);
  auto right = http.Get("/api/jobs/", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  auto unknown = http.Get("/api/jobs/no-such-job", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("no job with submission id 'no-such-job'"), std::string::npos);
  auto post = http.Post("/api/jobs/", R"({"entrypoint": "true"})", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 401);
}

TEST_F(CliJobsTest, BadInputGetsClearErrors) {
  CommandResult unknown = Job({"status", "no-such-job"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "Error: no job with submission id 'no-such-job'\n");
  CommandResult malformed = Job({"submit", "--runtime-env-json", "{oops", "--", "true"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("--runtime-env-json must be a JSON object"), std::string::npos)
      << malformed.err;
  CommandResult pip = Job({"submit", "--runtime-env-json", R"({"pip": ["numpy"]})", "--", "true"});
  EXPECT_EQ(pip.exit_code, 1);
  EXPECT_NE(pip.err.find("runtime env field 'pip' is not supported"), std::string::npos) << pip.err;
  CommandResult missing = Job({"submit", "--working-dir", "/no/such/dir", "--", "true"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/no/such/dir does not exist"), std::string::npos) << missing.err;
  ASSERT_EQ(Job({"submit", "--submission-id=taken", "--", "true"}).exit_code, 0);
  CommandResult taken = Job({"submit", "--submission-id=taken", "--", "true"});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.err.find("a job with submission id 'taken' already exists"), std::string::npos)
      << taken.err;
  CommandResult cpus = Job({"submit", "--entrypoint-num-cpus=64", "--", "true"});
  EXPECT_EQ(cpus.exit_code, 1);
  EXPECT_NE(cpus.err.find("more than the cluster's 2 CPUs"), std::string::npos) << cpus.err;
  CommandResult running = Job({"submit", "--no-wait", "--submission-id=busy", "--", "sleep 1000"});
  ASSERT_EQ(running.exit_code, 0);
  CommandResult not_ended = Job({"delete", "busy"});
  EXPECT_NE(not_ended.err.find("only a job that ended"), std::string::npos) << not_ended.err;
  EXPECT_EQ(Job({"stop", "busy"}).exit_code, 0);
  EXPECT_EQ(Job({"delete", "busy"}).exit_code, 0);
  EXPECT_EQ(Job({"status", "busy"}).exit_code, 1);
  CommandResult unreachable = RunMoray({"job", "list", "--address=http://127.0.0.1:1"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("could not reach the Moray dashboard at http://127.0.0.1:1"),
            std::string::npos)
      << unreachable.err;
}

TEST_F(CliJobsTest, ACxxDriverJobJoinsTheHeadThroughRayAddress) {
  // lifecycle_driver calls ray::Init() without an address: inside a job RAY_ADDRESS makes it join
  // this head instead of starting an embedded cluster.
  CommandResult run = Job({"submit", "--", std::string(LIFECYCLE_DRIVER) + " exit"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.out, m, std::regex("driver_pid=(\\d+)"))) << run.out;
  EXPECT_NE(run.out.find("READY"), std::string::npos);
  nlohmann::json jobs = moray::testing::RunMorayJson({"list", "jobs", "--address=" + gcs_});
  bool found = false;
  for (const auto& job : jobs) found = found || job.dump().find(m[1].str()) != std::string::npos;
  EXPECT_TRUE(found) << jobs.dump();
}

TEST_F(CliJobsTest, AClusterWithoutADashboardSaysSo) {
  CommandResult started =
      RunMoray({"start", "--head", "--port=0", "--num-cpus=1", "--include-dashboard=false"});
  std::string gcs = moray::testing::GcsAddressOf(started);
  ASSERT_FALSE(gcs.empty()) << started.out << started.err;
  EXPECT_EQ(started.out.find("Dashboard:"), std::string::npos);
  CommandResult list = RunMoray({"job", "list", "--address=" + gcs});
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_NE(list.err.find("has no dashboard"), std::string::npos) << list.err;
}

TEST_F(CliJobsTest, ADashboardPortInUseIsAWarningAndTheClusterStillStarts) {
  moray::testing::ListeningSocket held;
  ASSERT_TRUE(held.listening());
  CommandResult started = RunMoray({"start", "--head", "--port=0", "--num-cpus=1",
                                    "--dashboard-port=" + std::to_string(held.port())});
  EXPECT_EQ(started.exit_code, 0) << started.out << started.err;
  EXPECT_FALSE(moray::testing::GcsAddressOf(started).empty());
  EXPECT_EQ(started.out.find("Dashboard:"), std::string::npos);
  EXPECT_NE(started.err.find("WARNING: the dashboard was not started: port " +
                             std::to_string(held.port())),
            std::string::npos)
      << started.err;
  // The dashboard's options are the head's.
  CommandResult joining = RunMoray({"start", "--address=127.0.0.1:1", "--dashboard-port=0"});
  EXPECT_EQ(joining.exit_code, 2);
  EXPECT_NE(joining.err.find("--dashboard-port is for the head node"), std::string::npos)
      << joining.err;
  CommandResult bad = RunMoray({"start", "--head", "--include-dashboard=maybe"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--include-dashboard must be one of true or false, not 'maybe'"),
            std::string::npos)
      << bad.err;
}

}  // namespace
