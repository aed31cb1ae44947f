#include "jobs/job_record.h"

#include "gtest/gtest.h"
#include "jobs/job_runtime_env.h"

namespace moray::jobs {
namespace {

TEST(JobRecordTest, RoundTripsThroughRaysJobDetailsShape) {
  JobRecord job{.submission_id = "raysubmit_abc",
                .status = JobStatus::kFailed,
                .entrypoint = "exit 3",
                .message = "The entrypoint exited with code 3.",
                .error_type = "JOB_ENTRYPOINT_COMMAND_ERROR",
                .start_time_ms = 1000,
                .end_time_ms = 2000,
                .metadata = {{"owner", "me"}},
                .runtime_env = {{"env_vars", {{"A", "1"}}}},
                .driver_exit_code = 3,
                .entrypoint_num_cpus = 0.5};
  auto json = ToJson(job);
  EXPECT_EQ(json["type"], "SUBMISSION");
  EXPECT_EQ(json["status"], "FAILED");
  EXPECT_EQ(json["driver_exit_code"], 3);
  EXPECT_EQ(json["end_time"], 2000);
  EXPECT_TRUE(json["job_id"].is_null());
  auto back = JobFromJson(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->submission_id, job.submission_id);
  EXPECT_EQ(back->status, JobStatus::kFailed);
  EXPECT_EQ(back->driver_exit_code, 3);
  EXPECT_EQ(back->metadata, job.metadata);
  EXPECT_EQ(back->runtime_env, job.runtime_env);
  EXPECT_DOUBLE_EQ(back->entrypoint_num_cpus, 0.5);

  JobRecord running{.submission_id = "x", .status = JobStatus::kRunning, .entrypoint = "e"};
  auto open = ToJson(running);
  EXPECT_TRUE(open["end_time"].is_null());
  EXPECT_TRUE(open["driver_exit_code"].is_null());
  EXPECT_FALSE(JobFromJson(nlohmann::json::parse(open.dump()))->driver_exit_code.has_value());
  EXPECT_FALSE(JobFromJson(nlohmann::json{{"status", "RUNNING"}}).ok());
}

TEST(JobRecordTest, SubmissionIds) {
  std::string id = NewSubmissionId();
  EXPECT_EQ(id.rfind("raysubmit_", 0), 0u);
  EXPECT_EQ(id.size(), 26u);
  EXPECT_NE(id, NewSubmissionId());
  EXPECT_TRUE(CheckSubmissionId(id).ok());
  EXPECT_TRUE(CheckSubmissionId("my-job_1.2").ok());
  EXPECT_FALSE(CheckSubmissionId("").ok());
  EXPECT_FALSE(CheckSubmissionId("../etc").ok());
  EXPECT_FALSE(CheckSubmissionId(".hidden").ok());
  EXPECT_FALSE(CheckSubmissionId("a b").ok());
}

TEST(JobRuntimeEnvTest, RefusesUnsupportedFieldsNamingThem) {
  auto pip = CheckJobRuntimeEnv({{"pip", {"numpy"}}}, false);
  EXPECT_EQ(pip.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(pip.message().find("'pip'"), std::string::npos) << pip;
  EXPECT_NE(pip.message().find("env_vars, working_dir, excludes, config"), std::string::npos);
  EXPECT_TRUE(CheckJobRuntimeEnv({{"env_vars", {{"A", "1"}}},
                                  {"working_dir", "/tmp"},
                                  {"excludes", {"*.o"}},
                                  {"config", {{"setup_timeout_seconds", 10}}}},
                                 false)
                  .ok());
  EXPECT_FALSE(CheckJobRuntimeEnv({{"env_vars", {{"A", 1}}}}, false).ok());
  EXPECT_FALSE(CheckJobRuntimeEnv({{"working_dir", "/tmp"}}, /*require_uploaded=*/true).ok());
  EXPECT_TRUE(CheckJobRuntimeEnv({{"working_dir", "pkg://ab"}}, true).ok());
  EXPECT_FALSE(CheckJobRuntimeEnv(nlohmann::json::array(), false).ok());
}

TEST(JobRuntimeEnvTest, EnvVarsExpandFromTheLookup) {
  auto vars = JobEnvVars({{"env_vars", {{"A", "x${HOME}y${NONE}"}, {"B", "${"}}}},
                         [](const std::string& name) -> std::optional<std::string> {
                           if (name == "HOME") return "/h";
                           return std::nullopt;
                         });
  EXPECT_EQ(vars, (std::vector<std::string>{"A=x/hy", "B=${"}));
}

}  // namespace
}  // namespace moray::jobs
