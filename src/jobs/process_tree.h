// The processes of a job, found in /proc: the entrypoint, everything descended from it (also
// those that left its process group with setsid), and everything that still carries the job's
// marker variable (daemons that double-forked away from the tree). Each is remembered with its
// start time, so a pid the kernel reuses later is never signalled.
//
//   std::vector<ProcessRef> tree = JobProcesses(leader_pid, "MORAY_JOB_SUBMISSION_ID=abc");
//   SignalAll(tree, SIGTERM);
//   ...
//   if (AnyAlive(tree)) SignalAll(tree, SIGKILL);
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace moray::jobs {

struct ProcessRef {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22, in clock ticks since boot
};

// `root` and its descendants (by parent pid, as /proc shows them now), the members of process
// group `root`, and the processes whose environment holds `marker` ("NAME=value"; empty: none).
// Zombies are left out.
std::vector<ProcessRef> JobProcesses(pid_t root, const std::string& marker);

// Sends `signo` to each process that is still the one remembered.
void SignalAll(const std::vector<ProcessRef>& processes, int signo);
// Whether any of them still runs (a zombie does not).
bool AnyAlive(const std::vector<ProcessRef>& processes);

}  // namespace moray::jobs
