// Runtime envs on a real (embedded) cluster (docs/runtime_env.md): env_vars at the job, task and
// actor level, ${VAR} from the raylet's environment, the merge rule, inheritance by child tasks,
// workers pooled per env, and the errors (an unsupported field at Remote(), a setup that fails,
// an actor whose env cannot be set up).
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/scoped_env.h"
#include "tests/test_env.h"

namespace {

using ray::internal::RayRuntimeEnvException;

std::string GetEnv(std::string name) {
  const char* value = std::getenv(name.c_str());
  return value ? value : "<unset>";
}
int Pid() { return static_cast<int>(getpid()); }
// A child task with no env of its own: it inherits the env its parent runs in.
std::string ChildGetEnv(std::string name) { return *ray::Task(GetEnv).Remote(name).Get(); }

class EnvReader {
 public:
  static EnvReader* Create() { return new EnvReader(); }
  std::string Get(std::string name) { return GetEnv(name); }
};
RAY_REMOTE(GetEnv, Pid, ChildGetEnv, EnvReader::Create, &EnvReader::Get);

ray::RuntimeEnv Vars(std::map<std::string, std::string> vars) {
  ray::RuntimeEnv env;
  env.Set("env_vars", vars);
  return env;
}

constexpr int kTimeoutMs = 60000;

// A fresh embedded cluster per test, with the job env `job_env` (may be empty).
class RuntimeEnvTest : public ::testing::Test {
 protected:
  void Start(std::optional<ray::RuntimeEnv> job_env = std::nullopt) {
    ray::RayConfig config;
    config.runtime_env = std::move(job_env);
    ray::Init(config);
  }
  void TearDown() override { ray::Shutdown(); }
};

TEST_F(RuntimeEnvTest, JobEnvVarsReachTasksActorsAndChildren) {
  Start(Vars({{"JOB_VAR", "from-job"}}));
  EXPECT_EQ(*ray::Task(GetEnv).Remote("JOB_VAR").Get(kTimeoutMs), "from-job");
  EXPECT_EQ(*ray::Task(ChildGetEnv).Remote("JOB_VAR").Get(kTimeoutMs), "from-job");
  ray::ActorHandle<EnvReader> actor = ray::Actor(EnvReader::Create).Remote();
  EXPECT_EQ(*actor.Task(&EnvReader::Get).Remote("JOB_VAR").Get(kTimeoutMs), "from-job");
}

TEST_F(RuntimeEnvTest, TaskEnvMergesOverTheJobEnvKeyByKey) {
  Start(Vars({{"A", "job"}, {"B", "job"}}));
  auto a = ray::Task(GetEnv).SetRuntimeEnv(Vars({{"B", "task"}})).Remote("A");
  auto b = ray::Task(GetEnv).SetRuntimeEnv(Vars({{"B", "task"}})).Remote("B");
  EXPECT_EQ(*a.Get(kTimeoutMs), "job");
  EXPECT_EQ(*b.Get(kTimeoutMs), "task");
  // Without an env of its own a task runs in the job's.
  EXPECT_EQ(*ray::Task(GetEnv).Remote("B").Get(kTimeoutMs), "job");
}

TEST_F(RuntimeEnvTest, TaskAndActorEnvVarsAndInheritance) {
  Start();
  EXPECT_EQ(*ray::Task(GetEnv).Remote("TASK_VAR").Get(kTimeoutMs), "<unset>");
  auto env = Vars({{"TASK_VAR", "from-task"}});
  EXPECT_EQ(*ray::Task(GetEnv).SetRuntimeEnv(env).Remote("TASK_VAR").Get(kTimeoutMs), "from-task");
  // The child of a task with an env runs in that env.
  EXPECT_EQ(*ray::Task(ChildGetEnv).SetRuntimeEnv(env).Remote("TASK_VAR").Get(kTimeoutMs),
            "from-task");
  ray::ActorHandle<EnvReader> actor =
      ray::Actor(EnvReader::Create).SetRuntimeEnv(Vars({{"ACTOR_VAR", "from-actor"}})).Remote();
  EXPECT_EQ(*actor.Task(&EnvReader::Get).Remote("ACTOR_VAR").Get(kTimeoutMs), "from-actor");
}

TEST_F(RuntimeEnvTest, VariablesExpandFromTheRayletsEnvironment) {
  // The embedded raylet inherits this process's environment, so the value is there. (That the
  // raylet, not the submitter, expands it is covered by RuntimeEnvAgentTest in raylet_unit_test.)
  moray::testing::ScopedEnv value("MORAY_TEST_NODE_VALUE", "node-value");
  Start();
  auto env = Vars({{"EXPANDED", "${MORAY_TEST_NODE_VALUE}/x${MORAY_TEST_UNSET_VALUE}"}});
  EXPECT_EQ(*ray::Task(GetEnv).SetRuntimeEnv(env).Remote("EXPANDED").Get(kTimeoutMs),
            "node-value/x");
}

TEST_F(RuntimeEnvTest, WorkersArePooledPerEnv) {
  Start();
  auto one = Vars({{"POOL", "one"}});
  auto two = Vars({{"POOL", "two"}});
  const int first = *ray::Task(Pid).SetRuntimeEnv(one).Remote().Get(kTimeoutMs);
  const int second = *ray::Task(Pid).SetRuntimeEnv(two).Remote().Get(kTimeoutMs);
  EXPECT_NE(first, second);
  // The same env again: its worker is reused (idle workers live for a second at least).
  EXPECT_EQ(*ray::Task(Pid).SetRuntimeEnv(one).Remote().Get(kTimeoutMs), first);
  EXPECT_NE(*ray::Task(Pid).Remote().Get(kTimeoutMs), first);
}

TEST_F(RuntimeEnvTest, UnsupportedFieldThrowsAtRemote) {
  Start();
  ray::RuntimeEnv env;
  env.Set("pip", std::vector<std::string>{"requests"});
  try {
    ray::Task(GetEnv).SetRuntimeEnv(env).Remote("X");
    FAIL() << "Remote() accepted a pip env";
  } catch (const RayRuntimeEnvException& e) {
    EXPECT_NE(std::string(e.what()).find("'pip' is not supported"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ray::Actor(EnvReader::Create).SetRuntimeEnv(env).Remote(), RayRuntimeEnvException);
}

TEST_F(RuntimeEnvTest, UnsupportedJobFieldThrowsAtInit) {
  ray::RayConfig config;
  ray::RuntimeEnv env;
  env.Set("conda", std::string("myenv"));
  config.runtime_env = env;
  try {
    ray::Init(config);
    FAIL() << "Init accepted a conda env";
  } catch (const RayRuntimeEnvException& e) {
    EXPECT_NE(std::string(e.what()).find("'conda' is not supported"), std::string::npos);
  }
  EXPECT_FALSE(ray::IsInitialized());
  Start();  // for TearDown
}

// A working_dir package that never arrives: the setup fails within its timeout, and a task of
// that env raises RayRuntimeEnvException; the same for every call of an actor in it.
ray::RuntimeEnv MissingPackageEnv() {
  ray::RuntimeEnv env;
  env.Set("working_dir", std::string("pkg://00000000000000000000000000000000deadbeef"));
  env.SetJsonStr("config", R"({"setup_timeout_seconds": 1})");
  return env;
}

TEST_F(RuntimeEnvTest, SetupFailureFailsTheTaskWithRuntimeEnvException) {
  Start();
  auto ref = ray::Task(GetEnv).SetRuntimeEnv(MissingPackageEnv()).Remote("X");
  try {
    ref.Get(kTimeoutMs);
    FAIL() << "a task ran in an env that cannot be set up";
  } catch (const RayRuntimeEnvException& e) {
    EXPECT_NE(std::string(e.what()).find("runtime env setup failed"), std::string::npos)
        << e.what();
  }
  // It fails again (that the failure is not cached is RuntimeEnvAgentTest.FailuresAreNotCached),
  // and other envs are unaffected.
  EXPECT_THROW(ray::Task(GetEnv).SetRuntimeEnv(MissingPackageEnv()).Remote("X").Get(kTimeoutMs),
               RayRuntimeEnvException);
  EXPECT_EQ(*ray::Task(GetEnv).Remote("X").Get(kTimeoutMs), "<unset>");
}

TEST_F(RuntimeEnvTest, ActorWithAFailingEnvRaisesOnEveryCall) {
  Start();
  ray::ActorHandle<EnvReader> actor =
      ray::Actor(EnvReader::Create).SetRuntimeEnv(MissingPackageEnv()).Remote();
  for (int i = 0; i < 2; ++i) {
    try {
      actor.Task(&EnvReader::Get).Remote("X").Get(kTimeoutMs);
      FAIL() << "an actor ran in an env that cannot be set up";
    } catch (const RayRuntimeEnvException& e) {
      EXPECT_NE(std::string(e.what()).find("runtime env setup failed"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
