// Child processes for the worker pool: spawn with fork+exec (exec errors reported back), watch
// with a pidfd (readable when the child exits, so the event loop needs no polling), signal the
// child's process group, and reap.
//
//   SpawnSpec spec{.argv = {"/bin/worker"}, .env = {"A=1"}, .stdout_path = "/tmp/w.out", ...};
//   absl::StatusOr<Child> child = Spawn(spec);   // NotFound etc. if exec failed
//   loop->Watch(child->pidfd, EPOLLIN, [](uint32_t) { int status; Reap(pid, &status); });
//
// Thread model: free functions; Spawn must run on a thread that lives as long as the children
// should (PR_SET_PDEATHSIG fires when the *thread* that forked exits).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/environment.h"  // EnvironmentWith, for SpawnSpec::env

namespace moray::raylet {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is the path executed (no PATH search)
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string stdout_path;        // appended to; /dev/null if empty or unopenable
  std::string stderr_path;
  // Instead of the paths: descriptors the child gets as stdout / stderr (the caller keeps and
  // closes them; -1: use the path).
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::string cwd;  // the child's working directory; empty: the parent's
};

struct Child {
  pid_t pid = -1;
  int pidfd = -1;  // owned by the caller (close it after reaping)
};

// Forks and execs. The child: dies with SIGKILL when the spawning thread exits, leads a new
// process group, has stdin on /dev/null, default signal dispositions and an empty signal mask,
// and no inherited descriptors beyond 0-2. Fails (with the errno text) if exec fails.
[[nodiscard]] absl::StatusOr<Child> Spawn(const SpawnSpec& spec);

// Sends `signal` to the child's process group (falling back to the pid alone).
void SignalProcessGroup(pid_t pid, int signal);

// waitpid without blocking; true if the child was reaped (its raw wait status in *status).
bool Reap(pid_t pid, int* status);

// "exit code 3", "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int status);

}  // namespace moray::raylet
