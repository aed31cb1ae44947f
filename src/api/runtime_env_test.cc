#include "ray/api/runtime_env.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace moray::api {
namespace {

using ray::internal::RayRuntimeEnvException;

TEST(RuntimeEnvTest, SetGetAndJson) {
  ray::RuntimeEnv env;
  EXPECT_TRUE(env.Empty());
  env.Set("env_vars", std::map<std::string, std::string>{{"A", "1"}});
  env.SetJsonStr("working_dir", "\"/tmp/job\"");
  EXPECT_FALSE(env.Empty());
  EXPECT_TRUE(env.Contains("env_vars"));
  EXPECT_EQ((env.Get<std::map<std::string, std::string>>("env_vars").at("A")), "1");
  EXPECT_EQ(env.Get<std::string>("working_dir"), "/tmp/job");
  EXPECT_EQ(env.GetJsonStr("env_vars"), "{\"A\":\"1\"}");
  ray::RuntimeEnv copy = ray::RuntimeEnv::Deserialize(env.Serialize());
  EXPECT_EQ(copy.Get<std::string>("working_dir"), "/tmp/job");
  EXPECT_TRUE(copy.Remove("working_dir"));
  EXPECT_FALSE(copy.Remove("working_dir"));
  EXPECT_FALSE(copy.Contains("working_dir"));
}

TEST(RuntimeEnvTest, ErrorsThrowRuntimeEnvException) {
  ray::RuntimeEnv env;
  EXPECT_THROW(env.Get<int>("missing"), RayRuntimeEnvException);
  EXPECT_THROW(env.GetJsonStr("missing"), RayRuntimeEnvException);
  env.Set("count", std::string("not a number"));
  EXPECT_THROW(env.Get<int>("count"), RayRuntimeEnvException);
  EXPECT_THROW(env.SetJsonStr("bad", "{not json"), RayRuntimeEnvException);
  EXPECT_THROW(ray::RuntimeEnv::Deserialize("[1, 2]"), RayRuntimeEnvException);
  EXPECT_THROW(ray::RuntimeEnv::Deserialize("nope"), RayRuntimeEnvException);
}

}  // namespace
}  // namespace moray::api
