// The token model: sources and their order, trimming, the errors (each naming its source),
// modes, generated tokens, the default file's creation (0600, kept when present, one winner among
// racing starters), constant-time comparison and the child environment. Every test runs with HOME
// in a fresh temporary directory: the real ~/.ray is never read or written.
#include "rpc/auth.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::rpc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kVars[] = {"HOME", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN",
                                 "RAY_AUTH_TOKEN_PATH"};

void SetEnv(const char* name, const std::string& value) { setenv(name, value.c_str(), 1); }

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVars) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      unsetenv(name);
    }
    char tmpl[] = "/tmp/moray-auth-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    home_ = tmpl;
    SetEnv("HOME", home_);
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name, value->c_str(), 1);
      } else {
        unsetenv(name);
      }
    }
    std::error_code ec;
    fs::permissions(home_, fs::perms::owner_all, ec);
    fs::remove_all(home_, ec);
  }
  fs::path DefaultFile() const { return home_ / ".ray" / "auth_token"; }
  void WriteDefault(const std::string& text) {
    fs::create_directories(DefaultFile().parent_path());
    WriteFile(DefaultFile(), text);
  }

  fs::path home_;
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

TEST_F(AuthTest, DefaultPathIsUnderHome) {
  EXPECT_EQ(DefaultTokenPath(), (home_ / ".ray" / "auth_token").string());
}

TEST_F(AuthTest, SourcesInRaysOrder) {
  const fs::path file = home_ / "token_file";
  WriteFile(file, "from-path");
  WriteDefault("from-default");
  SetEnv("RAY_AUTH_TOKEN", "from-env");
  SetEnv("RAY_AUTH_TOKEN_PATH", file.string());

  auto config = LoadAuthConfig();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->mode, AuthMode::kToken);
  EXPECT_EQ(config->token, "from-env");
  EXPECT_EQ(config->source, "RAY_AUTH_TOKEN");

  unsetenv("RAY_AUTH_TOKEN");
  config = LoadAuthConfig();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->token, "from-path");
  EXPECT_EQ(config->source, file.string());

  unsetenv("RAY_AUTH_TOKEN_PATH");
  config = LoadAuthConfig();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->token, "from-default");
  EXPECT_EQ(config->source, DefaultFile().string());
}

TEST_F(AuthTest, TokensAreTrimmedAtBothEnds) {
  SetEnv("RAY_AUTH_TOKEN", " \t abc def\n");
  EXPECT_EQ(LoadAuthConfig()->token, "abc def");
  unsetenv("RAY_AUTH_TOKEN");
  const fs::path file = home_ / "token_file";
  WriteFile(file, "\n  0123abcd  \r\n\n");
  SetEnv("RAY_AUTH_TOKEN_PATH", file.string());
  EXPECT_EQ(LoadAuthConfig()->token, "0123abcd");
  unsetenv("RAY_AUTH_TOKEN_PATH");
  WriteDefault("\tdefault-token\n");
  EXPECT_EQ(LoadAuthConfig()->token, "default-token");
}

TEST_F(AuthTest, ASourceSetButEmptyIsAnErrorNamingIt) {
  WriteDefault("a-good-token");  // never reached: the empty source comes first
  SetEnv("RAY_AUTH_TOKEN", "  \n");
  auto config = LoadAuthConfig();
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("RAY_AUTH_TOKEN is set but empty"));
  SetEnv("RAY_AUTH_TOKEN", "");
  EXPECT_EQ(LoadAuthConfig().status().code(), absl::StatusCode::kInvalidArgument);
  unsetenv("RAY_AUTH_TOKEN");

  SetEnv("RAY_AUTH_TOKEN_PATH", "");
  config = LoadAuthConfig();
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("RAY_AUTH_TOKEN_PATH is set but empty"));

  const fs::path blank = home_ / "blank";
  WriteFile(blank, " \n\t\n");
  SetEnv("RAY_AUTH_TOKEN_PATH", blank.string());
  config = LoadAuthConfig();
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              HasSubstr(blank.string() + " (RAY_AUTH_TOKEN_PATH) is empty"));
  unsetenv("RAY_AUTH_TOKEN_PATH");

  WriteDefault("\n");
  config = LoadAuthConfig();
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr(DefaultFile().string() + " is empty"));
  // Nor does EnsureAuthToken replace it: the user made it, and it is wrong.
  EXPECT_FALSE(EnsureAuthToken().ok());
  EXPECT_EQ(ReadAll(DefaultFile()), "\n");
}

TEST_F(AuthTest, AFileThatCannotBeReadIsNamedWithTheReason) {
  // A directory opens but cannot be read (EISDIR), even as root.
  const fs::path dir = home_ / "a_directory";
  fs::create_directory(dir);
  SetEnv("RAY_AUTH_TOKEN_PATH", dir.string());
  auto config = LoadAuthConfig();
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("cannot read the auth token file " + dir.string() + ": Is a directory"));
  unsetenv("RAY_AUTH_TOKEN_PATH");

  fs::create_directories(DefaultFile());
  config = LoadAuthConfig();
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr(DefaultFile().string() + ": Is a directory"));
  bool created = true;
  EXPECT_FALSE(EnsureAuthToken(&created).ok());
  EXPECT_FALSE(created);
  EXPECT_TRUE(fs::is_directory(DefaultFile()));
}

TEST_F(AuthTest, AFileWithoutReadPermissionIsNamed) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads a mode-000 file (the directory case covers it)";
  const fs::path file = home_ / "locked";
  WriteFile(file, "secret");
  fs::permissions(file, fs::perms::none);
  SetEnv("RAY_AUTH_TOKEN_PATH", file.string());
  auto config = LoadAuthConfig();
  EXPECT_EQ(config.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(config.status().message(),
              HasSubstr("cannot read the auth token file " + file.string() +
                        ": Permission denied"));
}

TEST_F(AuthTest, ATokenPathThatDoesNotExistIsAnErrorNotAPlaceToWrite) {
  const fs::path missing = home_ / "no" / "such" / "file";
  SetEnv("RAY_AUTH_TOKEN_PATH", missing.string());
  auto config = LoadAuthConfig();
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(config.status().message(),
              HasSubstr("RAY_AUTH_TOKEN_PATH names " + missing.string() +
                        ", which does not exist"));
  EXPECT_FALSE(EnsureAuthToken().ok());
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_FALSE(fs::exists(DefaultFile()));
}

TEST_F(AuthTest, NoSourceIsNotFoundNamingEveryPlaceAndHowToCreateOne) {
  auto config = LoadAuthConfig();
  ASSERT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  const std::string message(config.status().message());
  EXPECT_THAT(message, HasSubstr("RAY_AUTH_TOKEN (not set)"));
  EXPECT_THAT(message, HasSubstr("RAY_AUTH_TOKEN_PATH (not set)"));
  EXPECT_THAT(message, HasSubstr(DefaultFile().string() + " (does not exist)"));
  EXPECT_THAT(message, HasSubstr("moray get-auth-token --generate"));
  EXPECT_THAT(message, HasSubstr("moray start --head"));
  EXPECT_FALSE(fs::exists(DefaultFile()));  // loading never writes
}

TEST_F(AuthTest, ModeIsTokenByDefaultDisabledOnRequestAndNothingElse) {
  SetEnv("RAY_AUTH_TOKEN", "t");
  SetEnv("RAY_AUTH_MODE", "");
  EXPECT_EQ(LoadAuthConfig()->mode, AuthMode::kToken);
  SetEnv("RAY_AUTH_MODE", "token");
  EXPECT_EQ(LoadAuthConfig()->mode, AuthMode::kToken);

  // Disabled reads no source: even a broken one is no error.
  SetEnv("RAY_AUTH_TOKEN", "");
  for (const char* disabled : {"disabled", " Disabled\n"}) {
    SetEnv("RAY_AUTH_MODE", disabled);
    auto config = LoadAuthConfig();
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->mode, AuthMode::kDisabled);
    EXPECT_EQ(config->token, "");
  }

  SetEnv("RAY_AUTH_MODE", "tokens");
  auto config = LoadAuthConfig();
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "RAY_AUTH_MODE must be token (the default) or disabled, not 'tokens'");
  EXPECT_EQ(EnsureAuthToken().status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthTest, GeneratedTokensAre64LowercaseHexAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string token = GenerateToken();
    ASSERT_EQ(token.size(), 64u);
    for (char c : token) {
      ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << token;
    }
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST_F(AuthTest, EnsureCreatesAPrivateFileOnceAndThenKeepsIt) {
  const mode_t old_umask = umask(0);  // a careless umask must not make the file readable
  bool created = false;
  auto config = EnsureAuthToken(&created);
  umask(old_umask);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(created);
  EXPECT_EQ(config->mode, AuthMode::kToken);
  EXPECT_EQ(config->source, DefaultFile().string());
  EXPECT_EQ(config->token.size(), 64u);
  EXPECT_EQ(ReadAll(DefaultFile()), config->token + "\n");
  struct stat file_stat {};
  ASSERT_EQ(stat(DefaultFile().c_str(), &file_stat), 0);
  EXPECT_EQ(file_stat.st_mode & 07777, 0600u);
  ASSERT_EQ(stat(DefaultFile().parent_path().c_str(), &file_stat), 0);
  EXPECT_EQ(file_stat.st_mode & 07777, 0700u);
  // No temporary is left beside it.
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(DefaultFile().parent_path())) {
    entries.push_back(entry.path().filename());
  }
  EXPECT_EQ(entries, std::vector<std::string>{"auth_token"});

  auto again = EnsureAuthToken(&created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->token, config->token);
  EXPECT_EQ(LoadAuthConfig()->token, config->token);
}

TEST_F(AuthTest, EnsureKeepsATokenFromAnySource) {
  WriteDefault("  mine\n");
  bool created = true;
  auto config = EnsureAuthToken(&created);
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(config->token, "mine");
  EXPECT_EQ(ReadAll(DefaultFile()), "  mine\n");

  fs::remove_all(home_ / ".ray");
  SetEnv("RAY_AUTH_TOKEN", "from-env");
  config = EnsureAuthToken(&created);
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(config->source, "RAY_AUTH_TOKEN");
  EXPECT_FALSE(fs::exists(DefaultFile()));
}

TEST_F(AuthTest, EnsureWritesNothingWhenDisabledButTheFileVariantDoes) {
  SetEnv("RAY_AUTH_MODE", "disabled");
  bool created = true;
  auto config = EnsureAuthToken(&created);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->mode, AuthMode::kDisabled);
  EXPECT_FALSE(created);
  EXPECT_FALSE(fs::exists(home_ / ".ray"));

  // `moray get-auth-token --generate` makes one whatever the mode.
  config = EnsureAuthTokenFile(&created);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(created);
  EXPECT_EQ(config->mode, AuthMode::kToken);
  EXPECT_EQ(LoadAuthToken()->token, config->token);
}

TEST_F(AuthTest, RacingStartersEndWithOneToken) {
  constexpr int kStarters = 8;
  std::vector<std::thread> threads;
  std::vector<std::string> tokens(kStarters);
  std::vector<int> created(kStarters, 0);
  std::atomic<bool> go{false};
  for (int i = 0; i < kStarters; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      bool made = false;
      auto config = EnsureAuthToken(&made);
      if (config.ok()) tokens[i] = config->token;
      created[i] = made;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(tokens.begin(), tokens.end()).size(), 1u);
  EXPECT_EQ(tokens[0].size(), 64u);
  EXPECT_EQ(std::count(created.begin(), created.end(), 1), 1);
  EXPECT_EQ(LoadAuthConfig()->token, tokens[0]);
}

TEST_F(AuthTest, EnsureFailsNamingTheDirectoryItCannotCreate) {
  SetEnv("HOME", (home_ / "missing_home").string());
  auto config = EnsureAuthToken();
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("cannot create the directory " +
                        (home_ / "missing_home" / ".ray").string()));
}

TEST(TokensEqualTest, ComparesWholeStrings) {
  EXPECT_TRUE(TokensEqual("", ""));
  EXPECT_TRUE(TokensEqual("abc", "abc"));
  EXPECT_FALSE(TokensEqual("abc", "abd"));
  EXPECT_FALSE(TokensEqual("xbc", "abc"));
  EXPECT_FALSE(TokensEqual("abc", "abcd"));
  EXPECT_FALSE(TokensEqual("abcd", "abc"));
  EXPECT_FALSE(TokensEqual("", "a"));
  const std::string token = GenerateToken();
  EXPECT_TRUE(TokensEqual(token, std::string(token)));
  std::string other = token;
  other.back() = other.back() == '0' ? '1' : '0';
  EXPECT_FALSE(TokensEqual(token, other));
}

TEST(ProcessAuthTest, SetReplacesAndEarlierReferencesStayValid) {
  SetProcessAuth({AuthMode::kToken, "first", "RAY_AUTH_TOKEN"});
  const AuthConfig& first = ProcessAuth();
  SetProcessAuth({AuthMode::kDisabled, "", ""});
  EXPECT_EQ(first.token, "first");
  EXPECT_EQ(ProcessAuth().mode, AuthMode::kDisabled);
}

TEST_F(AuthTest, TheChildEnvironmentCarriesModeAndToken) {
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(AuthEnvironment({AuthMode::kToken, "tok", "generated"}),
            (Env{{"RAY_AUTH_MODE", "token"}, {"RAY_AUTH_TOKEN", "tok"}}));
  EXPECT_EQ(AuthEnvironment({AuthMode::kDisabled, "", ""}), (Env{{"RAY_AUTH_MODE", "disabled"}}));

  // A child with that environment loads the same token without reading a file.
  WriteDefault("not-this-one");
  for (const auto& [name, value] : AuthEnvironment({AuthMode::kToken, "tok", "x"})) {
    SetEnv(name.c_str(), value);
  }
  auto config = LoadAuthConfig();
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->token, "tok");
  EXPECT_EQ(config->source, "RAY_AUTH_TOKEN");
}

}  // namespace
}  // namespace moray::rpc
