// Where a cluster's files live on this machine, and how a program finds a running cluster.
//
//   <root>/                       $MORAY_TMPDIR, default /tmp/moray
//   <root>/moray_current_cluster  the clusters `auto` may mean, newest first: "<gcs address>
//                                 <owner pid>" per line (owner 0: `moray start`, lives until
//                                 `moray stop`; else the embedded cluster of that driver)
//   <root>/session_<time>_<pid>/  one per cluster: logs/, pids (one "pid name" per line)
//
// Tests point MORAY_TMPDIR at a private directory, so concurrent test clusters never meet.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace moray {

// The root directory for sessions on this machine (created if missing).
std::string SessionRoot();

// Creates a fresh session directory (with logs/) under SessionRoot() and returns its path.
absl::StatusOr<std::string> CreateSessionDir();
// Removes a session directory that never served a cluster (a start that failed), and the
// session_latest link if it points there.
void RemoveSessionDir(const std::string& dir);

// The file naming the GCS address of the cluster that `auto` refers to.
std::string CurrentClusterFile();

// Records `gcs_address` as the current cluster, in front of the earlier ones. `owner_pid` > 0: the
// cluster lives only as long as that process (an embedded cluster), so the record is ignored once
// it has exited, even if nobody cleared it (a killed driver). ClearCurrentCluster removes the
// record of `gcs_address`, making the cluster recorded before it current again: a driver with an
// embedded cluster does not hide the `moray start` cluster from `auto` after it ends.
absl::Status WriteCurrentCluster(const std::string& gcs_address, int owner_pid = 0);
void ClearCurrentCluster(const std::string& gcs_address);
// Whether `gcs_address` is recorded as a cluster that is still running (its owner, if any, alive).
bool IsRecordedCluster(const std::string& gcs_address);

// Turns what a user gave (flag value, may be empty) into a GCS address "host:port":
//   ""      -> $RAY_ADDRESS if set, else NotFound
//   "auto"  -> the newest recorded cluster whose owner (if any) is alive, else NotFound with a
//              message saying how to start one
//   "h:p"   -> itself, after checking its form (InvalidArgument for a malformed address)
// Connectivity is not checked here.
absl::StatusOr<std::string> ResolveGcsAddress(const std::string& given);

// Splits "host:port"; InvalidArgument unless the port is a number in 1..65535.
absl::Status ParseHostPort(const std::string& address, std::string* host, int* port);

// Appends "pid name" to <session_dir>/pids, so `moray stop` can find the process.
absl::Status RecordPid(const std::string& session_dir, int pid, const std::string& name);

// All session directories under SessionRoot().
std::vector<std::string> ListSessionDirs();

}  // namespace moray
