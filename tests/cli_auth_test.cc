// The cluster token as a user meets it, with real processes: `moray get-auth-token`, the token
// `moray start --head` and ray::Init()'s embedded cluster create in ~/.ray when none exists, and
// where the token may appear: in the environment of the services and workers, and nowhere else —
// not on stdout or stderr (except get-auth-token's), not in a session's files, not on any command
// line. Each test has a HOME of its own (a directory under the private root).
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/scoped_env.h"
#include "tests/test_env.h"

namespace {
namespace fs = std::filesystem;
using moray::testing::CommandResult;
using moray::testing::Lines;
using moray::testing::PrivateTmpDir;
using moray::testing::ReadFile;
using moray::testing::RunMoray;
using moray::testing::ScopedEnv;

int Pid() { return static_cast<int>(getpid()); }
RAY_REMOTE(Pid);

// An empty home directory for this test, 0700 like a real one.
std::string FreshHome() {
  const std::string dir = PrivateTmpDir::path() + "/home-" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name();
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);
  return dir;
}

std::string TokenFileOf(const std::string& home) { return home + "/.ray/auth_token"; }

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::vector<std::string> SessionDirs() {
  std::vector<std::string> dirs;
  for (const auto& entry : fs::directory_iterator(PrivateTmpDir::path())) {
    if (entry.path().filename().string().starts_with("session_") && !entry.is_symlink()) {
      dirs.push_back(entry.path());
    }
  }
  return dirs;
}

std::vector<pid_t> PidsOf(const std::string& session_dir) {
  std::vector<pid_t> pids;
  std::ifstream in(session_dir + "/pids");
  pid_t pid;
  std::string name;
  while (in >> pid >> name) pids.push_back(pid);
  return pids;
}

// Every regular file of the session (logs, pids, ...) whose contents hold `token`.
std::vector<std::string> FilesHolding(const std::string& session_dir, const std::string& token) {
  std::vector<std::string> found;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(session_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    if (ReadFile(it->path()).find(token) != std::string::npos) found.push_back(it->path());
  }
  return found;
}

// The process's command line and whether its environment holds RAY_AUTH_TOKEN=`token`.
void ExpectTokenInEnvironmentOnly(pid_t pid, const std::string& token) {
  SCOPED_TRACE("pid " + std::to_string(pid));
  const std::string proc = "/proc/" + std::to_string(pid);
  EXPECT_EQ(ReadFile(proc + "/cmdline").find(token), std::string::npos);
  const std::string nul(1, '\0');  // entries are NUL-terminated
  const std::string env = nul + ReadFile(proc + "/environ");
  EXPECT_NE(env.find(nul + "RAY_AUTH_TOKEN=" + token + nul), std::string::npos)
      << "the service or worker did not get the token in its environment";
}

// A non-loopback IPv4 address of this machine, or "".
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* a = list; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_UP) == 0 || (a->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char text[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text))) found = text;
  }
  freeifaddrs(list);
  return found;
}

bool IsToken(const std::string& text) { return std::regex_match(text, std::regex("[0-9a-f]{64}")); }

TEST(GetAuthTokenTest, WithoutATokenFailsNamingWhereItLooked) {
  const std::string home = FreshHome();
  ScopedEnv env("HOME", home);
  CommandResult r = RunMoray({"get-auth-token"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.starts_with("moray get-auth-token: no cluster auth token found")) << r.err;
  EXPECT_NE(r.err.find("RAY_AUTH_TOKEN (not set), RAY_AUTH_TOKEN_PATH (not set) and " +
                       TokenFileOf(home) + " (does not exist)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("moray get-auth-token --generate"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(home + "/.ray"));
}

TEST(GetAuthTokenTest, GenerateCreatesAPrivateFileOnceAndPrintsTheTokenLast) {
  const std::string home = FreshHome();
  ScopedEnv env("HOME", home);
  CommandResult made = RunMoray({"get-auth-token", "--generate"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_FALSE(Lines(made.out).empty());
  const std::string token = Lines(made.out).back();
  EXPECT_TRUE(IsToken(token)) << made.out;
  EXPECT_EQ(Trimmed(ReadFile(TokenFileOf(home))), token);
  EXPECT_EQ(ModeOf(TokenFileOf(home)), 0600u);
  EXPECT_EQ(ModeOf(home + "/.ray"), 0700u);
  EXPECT_EQ(made.err, "Created a cluster auth token in " + TokenFileOf(home) + " (mode 0600).\n");

  CommandResult again = RunMoray({"get-auth-token", "--generate"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Lines(again.out).back(), token);
  EXPECT_NE(again.err.find("exists already (" + TokenFileOf(home) + ")"), std::string::npos)
      << again.err;
  CommandResult plain = RunMoray({"get-auth-token"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, token + "\n");
  EXPECT_EQ(plain.err, "");

  // The environment's token comes first, as for every process of a cluster.
  ScopedEnv from_env("RAY_AUTH_TOKEN", "  token-from-the-environment\n");
  EXPECT_EQ(RunMoray({"get-auth-token"}).out, "token-from-the-environment\n");
}

TEST(StartAuthTest, JoiningOrServingWithoutATokenFailsAtOnce) {
  const std::string home = FreshHome();
  ScopedEnv env("HOME", home);
  CommandResult join = RunMoray({"start", "--address=127.0.0.1:1"});
  EXPECT_EQ(join.exit_code, 1);
  EXPECT_TRUE(join.err.starts_with("moray start: no cluster auth token found")) << join.err;
  const std::string dir = PrivateTmpDir::path() + "/gcs_without_a_token";
  fs::create_directories(dir + "/logs");
  CommandResult gcs = RunMoray({"gcs-server", "--session-dir=" + dir});
  EXPECT_EQ(gcs.exit_code, 1);
  EXPECT_TRUE(gcs.err.starts_with("moray gcs-server: no cluster auth token found")) << gcs.err;
  CommandResult status = RunMoray({"status", "--address=127.0.0.1:1"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_TRUE(status.err.starts_with("Error: no cluster auth token found")) << status.err;
  EXPECT_FALSE(fs::exists(home + "/.ray"));
}

// `moray start --head` with no token anywhere: it makes one, says where (not what), and the token
// reaches the services and the workers through their environments only.
TEST(StartAuthTest, StartHeadCreatesTheTokenAndShowsItNowhere) {
  const std::string home = FreshHome();
  ScopedEnv env("HOME", home);
  const auto sessions_before = SessionDirs();
  CommandResult started =
      RunMoray({"start", "--head", "--port=0", "--num-cpus=1", "--dashboard-port=0"});
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  EXPECT_NE(started.out.find("Created a cluster auth token in " + TokenFileOf(home) +
                             " (mode 0600); drivers and the CLI of this user find it there.\n"),
            std::string::npos)
      << started.out;
  EXPECT_EQ(ModeOf(TokenFileOf(home)), 0600u);
  const std::string token = Trimmed(ReadFile(TokenFileOf(home)));
  ASSERT_TRUE(IsToken(token));
  EXPECT_EQ(started.out.find(token), std::string::npos);
  EXPECT_EQ(started.err.find(token), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(started.out, m, std::regex("GCS address: (\\S+)")));
  const std::string address = m[1];
  ASSERT_TRUE(std::regex_search(started.out, m, std::regex("Session directory: (\\S+)")));
  const std::string session = m[1];

  // The CLI of this user finds the token.
  CommandResult status = RunMoray({"status", "--address", address});
  EXPECT_EQ(status.exit_code, 0) << status.err;

  // A driver of this user (same HOME) runs a task: the worker is started with the token too.
  int worker_pid = 0;
  {
    ray::RayConfig config;
    config.address = address;
    ray::Init(config);
    worker_pid = *ray::Task(Pid).Remote().Get();
    ASSERT_GT(worker_pid, 0);
    ExpectTokenInEnvironmentOnly(worker_pid, token);
    const auto services = PidsOf(session);
    ASSERT_EQ(services.size(), 3u);  // GCS, raylet, dashboard
    for (pid_t pid : services) ExpectTokenInEnvironmentOnly(pid, token);
    ray::Shutdown();
  }
  EXPECT_EQ(FilesHolding(session, token), std::vector<std::string>{});
  CommandResult stopped = RunMoray({"stop"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(FilesHolding(session, token), std::vector<std::string>{});
  for (const auto& dir : sessions_before) EXPECT_NE(dir, session);
}

// ray::Init() without an address and without any setup: the embedded cluster makes the token
// (the CLI of this user then finds it) and hands it to its services in their environment.
TEST(StartAuthTest, TheEmbeddedClusterNeedsNoSetup) {
  const std::string home = FreshHome();
  ScopedEnv env("HOME", home);
  const auto before = SessionDirs();
  ray::Init();
  EXPECT_EQ(ModeOf(TokenFileOf(home)), 0600u);
  const std::string token = Trimmed(ReadFile(TokenFileOf(home)));
  ASSERT_TRUE(IsToken(token));
  const int worker_pid = *ray::Task(Pid).Remote().Get();
  ExpectTokenInEnvironmentOnly(worker_pid, token);
  std::string session;
  for (const auto& dir : SessionDirs()) {
    if (std::find(before.begin(), before.end(), dir) == before.end()) session = dir;
  }
  ASSERT_FALSE(session.empty());
  for (pid_t pid : PidsOf(session)) ExpectTokenInEnvironmentOnly(pid, token);
  ray::Shutdown();
  EXPECT_EQ(FilesHolding(session, token), std::vector<std::string>{});

  // A second Init finds the file and keeps it.
  ray::Init();
  EXPECT_EQ(Trimmed(ReadFile(TokenFileOf(home))), token);
  EXPECT_GT(*ray::Task(Pid).Remote().Get(), 0);
  ray::Shutdown();
}

TEST(StartAuthTest, DisabledAuthWritesNoTokenAndWarnsOffLoopback) {
  const std::string home = FreshHome();
  ScopedEnv env("HOME", home);
  ScopedEnv disabled("RAY_AUTH_MODE", "disabled");
  CommandResult local =
      RunMoray({"start", "--head", "--port=0", "--num-cpus=1", "--dashboard-port=0"});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(local.err.find("WARNING"), std::string::npos) << local.err;
  EXPECT_EQ(local.out.find("auth token"), std::string::npos) << local.out;
  EXPECT_FALSE(fs::exists(home + "/.ray"));
  ASSERT_EQ(RunMoray({"stop"}).exit_code, 0);

  const std::string ip = NonLoopbackAddress();
  if (ip.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  CommandResult open = RunMoray({"start", "--head", "--port=0", "--num-cpus=1",
                                 "--dashboard-port=0", "--node-ip-address=" + ip});
  ASSERT_EQ(open.exit_code, 0) << open.err;
  EXPECT_NE(open.err.find("WARNING: authentication is disabled (RAY_AUTH_MODE=disabled) and "
                          "services listen on " + ip + ":\n  anyone who can reach these ports "
                          "can run code on this cluster.\n"),
            std::string::npos)
      << open.err;
  EXPECT_FALSE(fs::exists(home + "/.ray"));
  ASSERT_EQ(RunMoray({"stop"}).exit_code, 0);
}

}  // namespace
