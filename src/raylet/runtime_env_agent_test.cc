#include "raylet/runtime_env_agent.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime_env/runtime_env.h"
#include "tests/scoped_env.h"

namespace moray::raylet {
namespace {

namespace fs = std::filesystem;
using moray::testing::ScopedEnv;

const std::string kUri = "pkg://" + std::string(64, 'b');

proto::RuntimeEnvInfo Env(const std::string& json) {
  proto::RuntimeEnvInfo info;
  info.set_json(json);
  info.set_hash(runtime_env::HashOfCanonical(json));
  return info;
}

proto::JobInfo Job() {
  proto::JobInfo job;
  job.set_driver_binary("/bin/driver");
  job.add_driver_argv("driver");
  job.add_driver_argv("--flag");
  return job;
}

class RuntimeEnvAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/moray-agent-test-XXXXXX";
    cache_ = mkdtemp(pattern);
    loop_.StartThread("agent_test");
  }
  void TearDown() override {
    OnLoop([this] { agent_.reset(); });
    loop_.Stop();
    fs::remove_all(cache_);
  }
  void Make(RuntimeEnvAgentOptions::FetchFn fetch) {
    RuntimeEnvAgentOptions options;
    options.cache_dir = cache_;
    options.fetch_package = std::move(fetch);
    options.getenv = [](const std::string& name) -> std::optional<std::string> {
      if (name == "NODE_DIR") return "/node";
      return std::nullopt;
    };
    agent_ = std::make_unique<RuntimeEnvAgent>(&loop_, options);
  }
  void OnLoop(std::function<void()> fn) {
    std::promise<void> done;
    loop_.Post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
  // Prepares on the loop; the future gets the answer.
  std::future<absl::StatusOr<PreparedEnv>> Prepare(const JobId& job,
                                                   const proto::RuntimeEnvInfo& env) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<PreparedEnv>>>();
    auto future = promise->get_future();
    OnLoop([&] {
      agent_->Prepare(job, Job(), env, [promise](const absl::StatusOr<PreparedEnv>& prepared) {
        promise->set_value(prepared);
      });
    });
    return future;
  }

  std::string cache_;
  rpc::EventLoop loop_;
  std::unique_ptr<RuntimeEnvAgent> agent_;
};

// A fetch that writes data.txt into the destination and counts its calls.
RuntimeEnvAgentOptions::FetchFn CountingFetch(std::atomic<int>* calls) {
  return [calls](const std::string&, const std::string& dest, const std::function<bool()>&) {
    ++*calls;
    fs::create_directories(dest);
    std::ofstream(dest + "/data.txt") << "data";
    return absl::OkStatus();
  };
}

TEST_F(RuntimeEnvAgentTest, ExpandsVariablesFromTheNodeAndSetsTheEnvJson) {
  Make(nullptr);
  const std::string json = R"({"env_vars":{"A":"${NODE_DIR}/a","B":"${NOPE}b"}})";
  absl::StatusOr<PreparedEnv> prepared = Prepare(JobIdFromInt(1), Env(json)).get();
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(prepared->program, "/bin/driver");
  EXPECT_EQ(prepared->argv, (std::vector<std::string>{"/bin/driver", "--flag"}));
  EXPECT_EQ(prepared->cwd, "");
  using Var = std::pair<std::string, std::string>;
  EXPECT_EQ(prepared->env,
            (std::vector<Var>{{"A", "/node/a"}, {"B", "b"}, {"MORAY_RUNTIME_ENV", json}}));
}

TEST_F(RuntimeEnvAgentTest, ConcurrentRequestsShareOnePreparation) {
  std::atomic<int> calls{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Make([&, released](const std::string& uri, const std::string& dest,
                     const std::function<bool()>& cancelled) {
    released.wait();
    return CountingFetch(&calls)(uri, dest, cancelled);
  });
  const auto env = Env(absl::StrCat(R"({"working_dir":")", kUri, R"("})"));
  auto first = Prepare(JobIdFromInt(1), env);
  auto second = Prepare(JobIdFromInt(2), env);
  release.set_value();
  for (auto* f : {&first, &second}) {
    absl::StatusOr<PreparedEnv> prepared = f->get();
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    EXPECT_EQ(prepared->cwd, agent_->PackageDir(kUri));
  }
  EXPECT_EQ(calls.load(), 1);
  // Prepared: a third request is answered from the cache.
  EXPECT_TRUE(Prepare(JobIdFromInt(3), env).get().ok());
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(RuntimeEnvAgentTest, FailuresAreNotCached) {
  std::atomic<int> calls{0};
  Make([&](const std::string& uri, const std::string& dest, const std::function<bool()>& c) {
    if (calls.load() == 0) {
      ++calls;
      return absl::DataLossError("chunk 3 missing");
    }
    return CountingFetch(&calls)(uri, dest, c);
  });
  const auto env = Env(absl::StrCat(R"({"working_dir":")", kUri, R"("})"));
  absl::StatusOr<PreparedEnv> failed = Prepare(JobIdFromInt(1), env).get();
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(runtime_env::IsSetupFailure(failed.status())) << failed.status();
  EXPECT_NE(failed.status().message().find("chunk 3 missing"), absl::string_view::npos);
  EXPECT_TRUE(Prepare(JobIdFromInt(1), env).get().ok());
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(RuntimeEnvAgentTest, SetupTimeoutFailsTheRequests) {
  Make([](const std::string&, const std::string&, const std::function<bool()>& cancelled) {
    while (!cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return absl::NotFoundError("never uploaded");
  });
  const auto env =
      Env(absl::StrCat(R"({"config":{"setup_timeout_seconds":1},"working_dir":")", kUri, R"("})"));
  absl::StatusOr<PreparedEnv> failed = Prepare(JobIdFromInt(1), env).get();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("timed out after 1 s"), absl::string_view::npos)
      << failed.status();
}

TEST_F(RuntimeEnvAgentTest, PackageIsDeletedWhenNoJobAndNoWorkerUseIt) {
  std::atomic<int> calls{0};
  Make(CountingFetch(&calls));
  const auto env = Env(absl::StrCat(R"({"working_dir":")", kUri, R"("})"));
  const JobId job = JobIdFromInt(7);
  ASSERT_TRUE(Prepare(job, env).get().ok());
  const std::string dir = agent_->PackageDir(kUri);
  ASSERT_TRUE(fs::exists(dir + "/data.txt"));
  OnLoop([&] {
    agent_->AddWorker(env.hash());
    agent_->RemoveJob(job);
  });
  EXPECT_TRUE(fs::exists(dir));  // a worker still runs in it
  OnLoop([&] { agent_->RemoveWorker(env.hash()); });
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(agent_->num_envs(), 0u);
}

// A C++ driver's job (docs/python.md, "Across languages") names no interpreter: its Python
// workers run the node's (MORAY_PYTHON, else python3 on PATH) with the job's python_path and its
// code_search_path directories on PYTHONPATH; its C++ workers are unaffected.
TEST(ForLanguageTest, CppJobsPythonWorkersRunTheNodesPython) {
  const std::string dir = ::testing::TempDir() + "/for_language_modules";
  fs::create_directories(dir);
  proto::JobInfo job = Job();
  job.add_python_path("/driver/path");
  job.add_code_search_path(dir);
  job.add_code_search_path("/no/such/file.so");  // not a directory: not on sys.path
  PreparedEnv prepared;
  prepared.program = "/bin/driver";
  prepared.argv = {"/bin/driver"};
  EXPECT_EQ(JobLanguage(job), proto::CPP);
  absl::StatusOr<PreparedEnv> cpp = ForLanguage(prepared, job, proto::CPP);
  ASSERT_TRUE(cpp.ok()) << cpp.status();
  EXPECT_EQ(cpp->program, "/bin/driver");
  ScopedEnv python_env("MORAY_PYTHON", "/opt/python3");
  absl::StatusOr<PreparedEnv> python = ForLanguage(prepared, job, proto::PYTHON);
  ASSERT_TRUE(python.ok()) << python.status();
  EXPECT_EQ(python->argv, (std::vector<std::string>{"/opt/python3", "-m", "moray._worker"}));
  bool found = false;
  for (const auto& [name, value] : python->env) {
    if (name != "PYTHONPATH") continue;
    found = true;
    EXPECT_EQ(value, "/driver/path:" + dir);
  }
  EXPECT_TRUE(found);
}

TEST(ForLanguageTest, PythonTaskWithoutAnInterpreterSaysSo) {
  const std::string empty_dir = ::testing::TempDir() + "/for_language_no_python";
  fs::create_directories(empty_dir);
  ScopedEnv python_env("MORAY_PYTHON", std::nullopt);
  ScopedEnv path_env("PATH", empty_dir);
  PreparedEnv prepared;
  prepared.program = "/bin/driver";
  absl::StatusOr<PreparedEnv> python = ForLanguage(prepared, Job(), proto::PYTHON);
  ASSERT_FALSE(python.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(python.status())) << python.status();
  EXPECT_NE(python.status().message().find("needs a Python interpreter"), std::string::npos)
      << python.status();
}

TEST(ForLanguageTest, PythonJobsCppTasksNeedACodeSearchPath) {
  proto::JobInfo job = Job();
  job.set_python_executable("/usr/bin/python3");
  EXPECT_EQ(JobLanguage(job), proto::PYTHON);
  absl::StatusOr<PreparedEnv> cpp = ForLanguage(PreparedEnv{}, job, proto::CPP);
  ASSERT_FALSE(cpp.ok());
  EXPECT_NE(cpp.status().message().find("code_search_path"), std::string::npos) << cpp.status();
  job.add_code_search_path("/lib/functions.so");
  EXPECT_TRUE(ForLanguage(PreparedEnv{}, job, proto::CPP).ok());
}

}  // namespace
}  // namespace moray::raylet
