#include "api/config_flags.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ray/api/ray_exception.h"

namespace moray::api {
namespace {

// argv built from strings; keeps them alive and remembers the original pointers.
struct Argv {
  explicit Argv(std::vector<std::string> args) : storage(std::move(args)) {
    for (auto& s : storage) pointers.push_back(s.data());
    original = pointers;
  }
  int argc() const { return static_cast<int>(pointers.size()); }
  char** argv() { return pointers.data(); }
  std::vector<std::string> storage;
  std::vector<char*> pointers;
  std::vector<char*> original;
};

TEST(ConfigFlagsTest, EqualsForm) {
  Argv args({"prog", "--ray_address=10.0.0.1:6379", "--ray_code_search_path=/a/lib.so:/b::/c",
             "--ray_head_args=--num-cpus 4  --port=7000", "--ray_default_actor_lifetime=detached",
             "--ray_job_namespace=team", "--ray_redis_password=secret"});
  ray::RayConfig config;
  ApplyCommandLineFlags(args.argc(), args.argv(), config);
  EXPECT_EQ(config.address, "10.0.0.1:6379");
  EXPECT_THAT(config.code_search_path, ::testing::ElementsAre("/a/lib.so", "/b", "/c"));
  EXPECT_THAT(config.head_args, ::testing::ElementsAre("--num-cpus", "4", "--port=7000"));
  EXPECT_EQ(config.default_actor_lifetime, ray::ActorLifetime::DETACHED);
  EXPECT_EQ(config.ray_namespace, "team");
  EXPECT_EQ(config.redis_password_, "secret");
}

TEST(ConfigFlagsTest, RuntimeEnvFlagIsTheJobEnv) {
  Argv args({"prog", R"(--ray_runtime_env={"env_vars": {"A": "1"}})"});
  ray::RayConfig config;
  ApplyCommandLineFlags(args.argc(), args.argv(), config);
  ASSERT_TRUE(config.runtime_env.has_value());
  EXPECT_EQ(config.runtime_env->GetJsonStr("env_vars"), R"({"A":"1"})");
  Argv bad({"prog", "--ray_runtime_env", "[1]"});
  EXPECT_THROW(ApplyCommandLineFlags(bad.argc(), bad.argv(), config),
               ray::internal::RayRuntimeEnvException);
}

TEST(ConfigFlagsTest, LogToDriverFlagTakesTrueOrFalseOnly) {
  ray::RayConfig config;
  EXPECT_TRUE(config.log_to_driver);
  Argv off({"prog", "--ray_log_to_driver=false"});
  ApplyCommandLineFlags(off.argc(), off.argv(), config);
  EXPECT_FALSE(config.log_to_driver);
  Argv on({"prog", "--ray_log_to_driver", "true"});
  ApplyCommandLineFlags(on.argc(), on.argv(), config);
  EXPECT_TRUE(config.log_to_driver);
  Argv bad({"prog", "--ray_log_to_driver=maybe"});
  EXPECT_THROW(ApplyCommandLineFlags(bad.argc(), bad.argv(), config), ray::internal::RayException);
}

TEST(ConfigFlagsTest, SeparateValueFormAndOverridesConfig) {
  Argv args({"prog", "--ray_address", "auto", "--ray_head_args", "--num-cpus 2",
             "--ray_default_actor_lifetime", "non_detached"});
  ray::RayConfig config;
  config.address = "old:1";
  config.default_actor_lifetime = ray::ActorLifetime::DETACHED;
  ApplyCommandLineFlags(args.argc(), args.argv(), config);
  EXPECT_EQ(config.address, "auto");
  EXPECT_THAT(config.head_args, ::testing::ElementsAre("--num-cpus", "2"));
  EXPECT_EQ(config.default_actor_lifetime, ray::ActorLifetime::NON_DETACHED);
}

TEST(ConfigFlagsTest, UnknownFlagsAndArgvAreLeftAlone) {
  Argv args({"prog", "--verbose", "input.txt", "--ray_addressx=1", "-ray_address=2",
             "--ray_job_namespace=ns", "--other", "value"});
  ray::RayConfig config;
  ApplyCommandLineFlags(args.argc(), args.argv(), config);
  EXPECT_EQ(config.address, "");
  EXPECT_EQ(config.ray_namespace, "ns");
  EXPECT_EQ(args.pointers, args.original);
  EXPECT_STREQ(args.argv()[1], "--verbose");
  EXPECT_STREQ(args.argv()[5], "--ray_job_namespace=ns");
}

TEST(ConfigFlagsTest, BadLifetimeNamesTheValue) {
  Argv args({"prog", "--ray_default_actor_lifetime=forever"});
  ray::RayConfig config;
  try {
    ApplyCommandLineFlags(args.argc(), args.argv(), config);
    FAIL() << "expected RayException";
  } catch (const ray::internal::RayException& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("\"forever\""));
  }
}

TEST(ConfigFlagsTest, MissingValueThrows) {
  Argv args({"prog", "--ray_address"});
  ray::RayConfig config;
  EXPECT_THROW(ApplyCommandLineFlags(args.argc(), args.argv(), config), ray::internal::RayException);
}

}  // namespace
}  // namespace moray::api
