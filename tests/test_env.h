// Test helpers for integration tests with real processes: a private session root per test binary
// (so clusters of concurrent tests never meet), waiting on conditions with deadlines, and running
// the moray CLI.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace moray::testing {

// The exit code of a test binary all of whose tests skipped themselves; CTest's SKIP_RETURN_CODE
// (cmake/MorayHelpers.cmake) must match.
inline constexpr int kAllSkippedExitCode = 77;

// Points MORAY_TMPDIR at a fresh directory for the whole test binary and removes it at the end;
// HOME is <that directory>/home (so the cluster token, ~/.ray/auth_token, is the test's own) and
// RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH are unset. RAY_AUTH_MODE is kept: the suite can be run with
// authentication disabled.
class PrivateTmpDir : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
  static const std::string& path();
};

// Polls `condition` every few milliseconds until it holds or `timeout` passes. For conditions
// that have no event to wait on (a process exiting that is not our child, a file appearing).
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(20));

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `moray <args>` (the build's binary, $MORAY_BIN) with the test's environment.
CommandResult RunMoray(const std::vector<std::string>& args);
// The GCS address `moray start --head` printed ("GCS address: ..."), or "" if it printed none.
std::string GcsAddressOf(const CommandResult& started);
// `moray start --head --port=0 --num-cpus=2 --dashboard-port=0` for a test: the GCS address, or ""
// with what the command printed in `*error`.
std::string StartHead(std::string* error);
// Runs any command line through /bin/sh.
CommandResult RunShell(const std::string& command);

// `moray <args> --format json` parsed (a list command's array of rows); null when the command
// fails or prints something else (`error`, if given, then says what it printed).
nlohmann::json RunMorayJson(const std::vector<std::string>& args, std::string* error = nullptr);

// `moray job <args[0]> --address=<address> <args[1..]>`, and the state `moray job status <id>`
// prints for a submission (or everything it printed, when that line is missing).
CommandResult RunMorayJob(const std::string& address, std::vector<std::string> args);
std::string JobStatusOf(const std::string& address, const std::string& id);

// Files through which a test and the tasks or actors it starts meet across processes: a task
// touches one to say it started, or waits for one the test creates when it may go on.
void Touch(const std::string& path);
bool FileExists(const std::string& path);
// A path named `name` in this test binary's private directory (PrivateTmpDir).
std::string Scratch(const std::string& name);
// The number of lines in `path` (0 if it cannot be read): tasks append one per run.
int LineCount(const std::string& path);
// Waits up to `timeout` for `path` to exist; false if it never did. The bound makes a broken
// test fail instead of hanging.
bool AwaitFile(const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(60));

// The contents of `path`; what could be read of it if it vanishes meanwhile (a /proc file of a
// process that exits), or "" if it cannot be opened.
std::string ReadFile(const std::string& path);

// The lines of `text`.
std::vector<std::string> Lines(const std::string& text);

// Pids recorded in every session under the private root (GCS, raylets).
std::vector<pid_t> RecordedServicePids();
bool ProcessAlive(pid_t pid);
// Pids of live processes whose environment has MORAY_TMPDIR == our root (workers included).
std::vector<pid_t> ProcessesOfThisTest();

// A TCP socket listening on 127.0.0.1 while it lives: a port in use. Port 0: any free one.
class ListeningSocket {
 public:
  explicit ListeningSocket(int port = 0);
  ~ListeningSocket();
  ListeningSocket(const ListeningSocket&) = delete;
  ListeningSocket& operator=(const ListeningSocket&) = delete;
  int port() const { return port_; }
  bool listening() const { return listening_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  bool listening_ = false;
};

}  // namespace moray::testing
