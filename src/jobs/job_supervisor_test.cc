// The supervisor against an in-memory store, running real entrypoints under /bin/sh.
#include "jobs/job_supervisor.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"

namespace moray::jobs {
namespace {
namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool Alive(pid_t pid) {
  std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

class JobSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/moray-jobs-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::create_directories(dir_ + "/logs");
  }
  void TearDown() override {
    supervisor_.reset();
    fs::remove_all(dir_);
  }

  JobSupervisor& Make(JobSupervisorOptions options = {}) {
    options.session_dir = dir_;
    options.gcs_address = "127.0.0.1:1";
    options.store = &store_;
    supervisor_ = std::make_unique<JobSupervisor>(std::move(options));
    return *supervisor_;
  }

  // Waits (deadline 20 s) until the job is terminal; its record then.
  JobRecord AwaitEnd(const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      auto job = supervisor_->Get(id);
      if (job.ok() && IsTerminal(job->status)) return *job;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "job " << id << " did not end";
    return *supervisor_->Get(id);
  }

  std::string dir_;
  MemoryJobStore store_;
  std::unique_ptr<JobSupervisor> supervisor_;
};

TEST_F(JobSupervisorTest, RunsTheEntrypointWithTheJobsVariablesAndRecordsSuccess) {
  setenv("MORAY_JOBS_TEST_OUTER", "outer", 1);
  auto& jobs = Make();
  auto id =
      jobs.Submit({.entrypoint = "echo hello $A $RAY_ADDRESS; echo \"$MORAY_JOB_RUNTIME_ENV\"",
                   .runtime_env = {{"env_vars", {{"A", "a-${MORAY_JOBS_TEST_OUTER}"}}}}});
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->rfind("raysubmit_", 0), 0u);
  JobRecord job = AwaitEnd(*id);
  EXPECT_EQ(job.status, JobStatus::kSucceeded) << job.message;
  EXPECT_EQ(job.driver_exit_code, 0);
  EXPECT_GT(job.end_time_ms, 0);
  auto logs = jobs.Logs(*id);
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(*logs,
            "hello a-outer 127.0.0.1:1\n{\"env_vars\":{\"A\":\"a-${MORAY_JOBS_TEST_OUTER}\"}}\n");
  EXPECT_TRUE(fs::exists(dir_ + "/logs/job-driver-" + *id + ".log"));
  // The store holds the final state: written by the monitor just after the end became visible
  // in memory (which AwaitEnd watches), so it is waited for too.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto stored = store_.Get(*id);
  while (std::chrono::steady_clock::now() < deadline &&
         !(stored.ok() && stored->has_value() && IsTerminal((*stored)->status))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stored = store_.Get(*id);
  }
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, JobStatus::kSucceeded);
}

TEST_F(JobSupervisorTest, AFailingEntrypointIsFailedWithItsExitCodeOrSignal) {
  auto& jobs = Make();
  auto id = jobs.Submit({.entrypoint = "echo oops >&2; exit 3", .submission_id = "fails"});
  ASSERT_TRUE(id.ok()) << id.status();
  JobRecord job = AwaitEnd("fails");
  EXPECT_EQ(job.status, JobStatus::kFailed);
  EXPECT_EQ(job.driver_exit_code, 3);
  EXPECT_NE(job.message.find("exited with code 3"), std::string::npos) << job.message;
  EXPECT_EQ(job.error_type, "JOB_ENTRYPOINT_COMMAND_ERROR");
  EXPECT_EQ(*jobs.Logs("fails"), "oops\n");

  ASSERT_TRUE(jobs.Submit({.entrypoint = "kill -9 $$", .submission_id = "killed"}).ok());
  JobRecord killed = AwaitEnd("killed");
  EXPECT_EQ(killed.status, JobStatus::kFailed);
  EXPECT_EQ(killed.driver_exit_code, -9);
  EXPECT_NE(killed.message.find("signal 9"), std::string::npos) << killed.message;
}

TEST_F(JobSupervisorTest, StopEndsTheWholeTreeEvenProcessesThatLeftTheGroup) {
  auto& jobs = Make();
  const std::string pid_file = dir_ + "/grandchild";
  // The entrypoint's child starts a grandchild in a session of its own (not in the job's group).
  auto id = jobs.Submit(
      {.entrypoint = "sh -c 'setsid sleep 1000 & echo $! > " + pid_file + "; wait' & sleep 1000"});
  ASSERT_TRUE(id.ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ReadAll(pid_file).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_t grandchild = std::atoi(ReadAll(pid_file).c_str());
  ASSERT_GT(grandchild, 0);
  ASSERT_TRUE(Alive(grandchild));
  auto stopped = jobs.Stop(*id);
  ASSERT_TRUE(stopped.ok() && *stopped);
  JobRecord job = AwaitEnd(*id);
  EXPECT_EQ(job.status, JobStatus::kStopped);
  EXPECT_FALSE(Alive(grandchild));
  EXPECT_TRUE(JobProcesses(-1, "MORAY_JOB_SUBMISSION_ID=" + *id).empty());
  // Stopping an ended job says so.
  EXPECT_FALSE(*jobs.Stop(*id));
}

TEST_F(JobSupervisorTest, StopKillsWhatIgnoresSigtermAfterTheGrace) {
  auto& jobs = Make({.stop_grace = absl::Milliseconds(300)});
  const std::string ready = dir_ + "/ready";
  auto id =
      jobs.Submit({.entrypoint = "trap '' TERM; touch " + ready + "; while :; do sleep 1; done"});
  ASSERT_TRUE(id.ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!fs::exists(ready) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(fs::exists(ready)) << "the entrypoint never got past its trap";
  ASSERT_TRUE(*jobs.Stop(*id));
  JobRecord job = AwaitEnd(*id);
  EXPECT_EQ(job.status, JobStatus::kStopped);
  EXPECT_EQ(job.driver_exit_code, -SIGKILL);
}

TEST_F(JobSupervisorTest, RefusesBadSubmissions) {
  auto& jobs = Make({.cluster_cpus = [] { return absl::StatusOr<double>(2); }});
  ASSERT_TRUE(jobs.Submit({.entrypoint = "true", .submission_id = "once"}).ok());
  auto twice = jobs.Submit({.entrypoint = "true", .submission_id = "once"});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(twice.status().message().find("'once'"), std::string::npos);
  EXPECT_EQ(jobs.Submit({.entrypoint = ""}).status().code(), absl::StatusCode::kInvalidArgument);
  auto pip = jobs.Submit({.entrypoint = "true", .runtime_env = {{"pip", {"numpy"}}}});
  EXPECT_EQ(pip.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(pip.status().message().find("'pip'"), std::string::npos);
  auto cpus = jobs.Submit({.entrypoint = "true", .entrypoint_num_cpus = 3});
  EXPECT_EQ(cpus.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(cpus.status().message().find("2 CPUs"), std::string::npos) << cpus.status();
  auto fits = jobs.Submit({.entrypoint = "true", .entrypoint_num_cpus = 1.5});
  ASSERT_TRUE(fits.ok());
  EXPECT_DOUBLE_EQ(jobs.Get(*fits)->entrypoint_num_cpus, 1.5);
  EXPECT_EQ(jobs.Submit({.entrypoint = "true", .submission_id = "../x"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs.Get("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(jobs.Stop("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JobSupervisorTest, DeleteOnlyEndedJobs) {
  auto& jobs = Make();
  auto running = jobs.Submit({.entrypoint = "sleep 1000"});
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(jobs.Delete(*running).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(*jobs.Stop(*running));
  AwaitEnd(*running);
  ASSERT_TRUE(*jobs.Delete(*running));
  EXPECT_EQ(jobs.Get(*running).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(jobs.LogPath(*running)));
}

TEST_F(JobSupervisorTest, RunsInThePreparedWorkingDirOrFailsSayingWhy) {
  fs::create_directories(dir_ + "/pkg/abc");
  std::ofstream(dir_ + "/pkg/abc/data.txt") << "from the package\n";
  auto& jobs =
      Make({.prepare_working_dir = [this](const std::string& uri) -> absl::StatusOr<std::string> {
        if (uri == "pkg://abc") return dir_ + "/pkg/abc";
        return absl::NotFoundError("no package " + uri);
      }});
  auto id =
      jobs.Submit({.entrypoint = "cat data.txt", .runtime_env = {{"working_dir", "pkg://abc"}}});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(AwaitEnd(*id).status, JobStatus::kSucceeded);
  EXPECT_EQ(*jobs.Logs(*id), "from the package\n");

  auto missing = jobs.Submit({.entrypoint = "true", .runtime_env = {{"working_dir", "pkg://zz"}}});
  ASSERT_TRUE(missing.ok());
  JobRecord failed = AwaitEnd(*missing);
  EXPECT_EQ(failed.status, JobStatus::kFailed);
  EXPECT_NE(failed.message.find("no package pkg://zz"), std::string::npos) << failed.message;
}

TEST_F(JobSupervisorTest, HoldsTheWorkingDirsPackageFromAcceptanceToTheEnd) {
  std::mutex mu;
  std::vector<std::string> calls;  // "hold <id> <uri>" / "release <id> <uri>"
  bool refuse = false;
  auto note = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(what);
  };
  auto seen = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return calls;
  };
  fs::create_directories(dir_ + "/pkg/abc");
  auto& jobs =
      Make({.prepare_working_dir = [this](const std::string&) { return dir_ + "/pkg/abc"; },
            .hold_package =
                [&](const std::string& id, const std::string& uri) {
                  if (refuse) return absl::UnavailableError("the KV is away");
                  note("hold " + id + " " + uri);
                  return absl::OkStatus();
                },
            .release_package = [&](const std::string& id,
                                   const std::string& uri) { note("release " + id + " " + uri); }});
  auto id = jobs.Submit({.entrypoint = "sleep 1000",
                         .submission_id = "held",
                         .runtime_env = {{"working_dir", "pkg://abc"}}});
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(seen(), std::vector<std::string>{"hold held pkg://abc"});
  // A taken id never touches the ref of the job that holds it.
  EXPECT_EQ(jobs.Submit({.entrypoint = "true",
                         .submission_id = "held",
                         .runtime_env = {{"working_dir", "pkg://abc"}}})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(seen().size(), 1u);
  ASSERT_TRUE(*jobs.Stop(*id));
  EXPECT_EQ(AwaitEnd(*id).status, JobStatus::kStopped);
  // Persist runs on the monitor thread right after the state changes.
  for (int i = 0; i < 2000 && seen().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(seen().size(), 2u);
  EXPECT_EQ(seen()[1], "release held pkg://abc");
  ASSERT_TRUE(*jobs.Delete(*id));
  EXPECT_EQ(seen().back(), "release held pkg://abc");

  // A job without a working_dir holds nothing; a failing hold refuses the job.
  auto plain = jobs.Submit({.entrypoint = "true"});
  ASSERT_TRUE(plain.ok());
  AwaitEnd(*plain);
  const size_t before = seen().size();
  refuse = true;
  auto refused = jobs.Submit({.entrypoint = "true",
                              .submission_id = "refused",
                              .runtime_env = {{"working_dir", "pkg://abc"}}});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(store_.Get("refused")->has_value());
  EXPECT_EQ(seen().size(), before);
}

TEST_F(JobSupervisorTest, RecoverFailsJobsWhoseSupervisorIsGoneAndShutdownStopsRunningOnes) {
  ASSERT_TRUE(
      store_.Put({.submission_id = "orphan", .status = JobStatus::kRunning, .entrypoint = "x"})
          .ok());
  auto& jobs = Make();
  ASSERT_TRUE(jobs.Recover().ok());
  JobRecord orphan = *jobs.Get("orphan");
  EXPECT_EQ(orphan.status, JobStatus::kFailed);
  EXPECT_NE(orphan.message.find("dashboard"), std::string::npos);

  auto id = jobs.Submit({.entrypoint = "sleep 1000"});
  ASSERT_TRUE(id.ok());
  jobs.Shutdown();
  auto stored = store_.Get(*id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, JobStatus::kStopped);
}

}  // namespace
}  // namespace moray::jobs
