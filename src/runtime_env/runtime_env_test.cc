#include "runtime_env/runtime_env.h"

#include <map>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace moray::runtime_env {
namespace {

RuntimeEnvSpec ParseOk(const std::string& json) {
  absl::StatusOr<RuntimeEnvSpec> spec = RuntimeEnvSpec::Parse(json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.value_or(RuntimeEnvSpec{});
}

TEST(RuntimeEnvSpecTest, EmptyEnvHasNoTextAndNoHash) {
  for (const char* json : {"", "{}"}) {
    RuntimeEnvSpec spec = ParseOk(json);
    EXPECT_TRUE(spec.Empty());
    EXPECT_EQ(spec.Serialize(), "");
    EXPECT_EQ(spec.Hash(), "");
  }
}

TEST(RuntimeEnvSpecTest, ParsesEveryField) {
  RuntimeEnvSpec spec = ParseOk(
      R"({"working_dir": "/tmp/x", "env_vars": {"B": "2", "A": "${HOME}"},
          "excludes": ["*.o", "build/"],
          "config": {"setup_timeout_seconds": 5, "eager_install": false}})");
  EXPECT_EQ(spec.env_vars, (std::map<std::string, std::string>{{"A", "${HOME}"}, {"B", "2"}}));
  EXPECT_EQ(spec.working_dir, "/tmp/x");
  ASSERT_TRUE(spec.excludes.has_value());
  EXPECT_EQ(spec.excludes->size(), 2u);
  EXPECT_EQ(spec.SetupTimeoutSeconds(), 5);
  EXPECT_FALSE(spec.EagerInstall());
  // Sorted keys, no spaces: the same env written differently has one text and one hash.
  EXPECT_EQ(spec.Serialize(), R"({"config":{"eager_install":false,"setup_timeout_seconds":5},)"
                              R"("env_vars":{"A":"${HOME}","B":"2"},"excludes":["*.o","build/"],)"
                              R"("working_dir":"/tmp/x"})");
  RuntimeEnvSpec again = ParseOk(spec.Serialize());
  EXPECT_EQ(again.Serialize(), spec.Serialize());
  EXPECT_EQ(again.Hash(), spec.Hash());
  EXPECT_EQ(spec.Hash().size(), 16u);
  EXPECT_EQ(spec.Hash(), HashOfCanonical(spec.Serialize()));
}

TEST(RuntimeEnvSpecTest, Defaults) {
  RuntimeEnvSpec spec = ParseOk(R"({"env_vars": {"A": "1"}})");
  EXPECT_EQ(spec.SetupTimeoutSeconds(), 600);
  EXPECT_TRUE(spec.EagerInstall());
  EXPECT_EQ(ParseOk(R"({"config": {"setup_timeout_seconds": -1}})").SetupTimeoutSeconds(), -1);
}

TEST(RuntimeEnvSpecTest, UnsupportedFieldsAreNamed) {
  for (const char* field : {"pip", "conda", "py_modules", "container"}) {
    absl::StatusOr<RuntimeEnvSpec> spec =
        RuntimeEnvSpec::Parse(std::string("{\"") + field + "\": []}");
    ASSERT_FALSE(spec.ok());
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(spec.status().message(),
              std::string("runtime env field '") + field +
                  "' is not supported by Moray's C++ workers; supported: env_vars, working_dir, "
                  "excludes, config");
  }
}

TEST(RuntimeEnvSpecTest, WrongTypesAreNamed) {
  auto message = [](const std::string& json) {
    return std::string(RuntimeEnvSpec::Parse(json).status().message());
  };
  EXPECT_NE(message(R"({"env_vars": ["A"]})").find("'env_vars' must be an object"),
            std::string::npos);
  EXPECT_NE(message(R"({"env_vars": {"A": 1}})").find("'env_vars.A' must be a string"),
            std::string::npos);
  EXPECT_NE(message(R"({"working_dir": 3})").find("'working_dir' must be"), std::string::npos);
  EXPECT_NE(message(R"({"excludes": "x"})").find("'excludes' must be a list"), std::string::npos);
  EXPECT_NE(message(R"({"config": {"setup_timeout_seconds": "1"}})")
                .find("'config.setup_timeout_seconds' must be a whole number"),
            std::string::npos);
  EXPECT_NE(message(R"({"config": {"setup_timeout_seconds": 0}})").find("positive or -1"),
            std::string::npos);
  EXPECT_NE(message(R"({"config": {"eager_install": 1}})").find("'config.eager_install'"),
            std::string::npos);
  EXPECT_NE(message(R"({"config": {"other": 1}})").find("'config.other' is not supported"),
            std::string::npos);
  EXPECT_NE(message("[1]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(message("{nope").find("not valid JSON"), std::string::npos);
}

TEST(RuntimeEnvSpecTest, MergeChildWinsFieldByFieldAndVarByVar) {
  RuntimeEnvSpec parent = ParseOk(
      R"({"env_vars": {"A": "job", "B": "job"}, "working_dir": "pkg://p",
          "config": {"setup_timeout_seconds": 30}})");
  RuntimeEnvSpec child =
      ParseOk(R"({"env_vars": {"B": "task", "C": "task"}, "config": {"eager_install": false}})");
  RuntimeEnvSpec merged = RuntimeEnvSpec::Merge(parent, child);
  EXPECT_EQ(merged.env_vars,
            (std::map<std::string, std::string>{{"A", "job"}, {"B", "task"}, {"C", "task"}}));
  EXPECT_EQ(merged.working_dir, "pkg://p");
  EXPECT_EQ(merged.SetupTimeoutSeconds(), 30);
  EXPECT_FALSE(merged.EagerInstall());
  EXPECT_EQ(RuntimeEnvSpec::Merge(parent, ParseOk(R"({"working_dir": "pkg://c"})")).working_dir,
            "pkg://c");
  // Nothing over nothing is nothing; nothing over a parent is the parent.
  EXPECT_TRUE(RuntimeEnvSpec::Merge(RuntimeEnvSpec{}, RuntimeEnvSpec{}).Empty());
  EXPECT_EQ(RuntimeEnvSpec::Merge(parent, RuntimeEnvSpec{}).Hash(), parent.Hash());
  EXPECT_NE(merged.Hash(), parent.Hash());
}

TEST(RuntimeEnvSpecTest, ExpandVars) {
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return "/home/me";
    if (name == "EMPTY") return "";
    return std::nullopt;
  };
  EXPECT_EQ(ExpandVars("${HOME}/data", env), "/home/me/data");
  EXPECT_EQ(ExpandVars("a${HOME}b${HOME}c", env), "a/home/meb/home/mec");
  EXPECT_EQ(ExpandVars("x${UNSET}y${EMPTY}z", env), "xyz");
  EXPECT_EQ(ExpandVars("$HOME ${HOME", env), "$HOME ${HOME");
  EXPECT_EQ(ExpandVars("plain", env), "plain");
}

TEST(RuntimeEnvSpecTest, SetupFailuresAreRecognised) {
  absl::Status failure = SetupFailure("timed out after 1 s");
  EXPECT_TRUE(IsSetupFailure(failure));
  EXPECT_EQ(failure.message(), "runtime env setup failed: timed out after 1 s");
  EXPECT_FALSE(IsSetupFailure(absl::FailedPreconditionError("no driver")));
  EXPECT_FALSE(IsSetupFailure(absl::OkStatus()));
}

}  // namespace
}  // namespace moray::runtime_env
