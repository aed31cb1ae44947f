// Starting a node's services as background processes: a head node (GCS + raylet), used by
// `moray start --head` and by ray::Init() without an address (the embedded cluster, whose processes
// exit with their owner); or a worker node (a raylet that joins an existing GCS), used by
// `moray start --address=HOST:PORT`.
//
//   HeadOptions options;                      // defaults: loopback, free ports, all CPUs
//   options.owner_pid = getpid();             // embedded: exit when this process does
//   options.service_env = rpc::AuthEnvironment(*rpc::EnsureAuthToken());  // the cluster's token
//   absl::StatusOr<StartedHead> head = StartHead(options);
//   ...
//   StopProcesses({head->raylet_pid, head->gcs_pid}, absl::Seconds(5));
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/node_options.h"

namespace moray {

struct StartedHead {
  std::string gcs_address;     // host:port
  std::string raylet_host;
  int raylet_port = 0;
  std::string session_dir;
  pid_t gcs_pid = -1;
  pid_t raylet_pid = -1;
  // The dashboard (HeadOptions::include_dashboard): its host:port, or empty with the reason in
  // dashboard_error (the cluster runs without it: a dashboard that cannot start is a warning).
  std::string dashboard_address;
  std::string dashboard_error;
  pid_t dashboard_pid = -1;
};

// The services run in this process's environment with `options.service_env` set: that is how they
// get the cluster's auth token (never on their command lines, which any user can read).
//
// Starts the GCS, then a raylet registered with it, then (include_dashboard) the dashboard; waits
// until each is ready (a few seconds at
// most) and returns their addresses. On failure nothing is left running. A port that cannot be
// used (--port, --node-manager-port, or --node-ip-address not of this machine) is one sentence —
// AlreadyExists for a port in use, checked before anything starts and again if a service loses
// the race to it — and leaves no session directory; other failures carry the tail of the failing
// service's log.
absl::StatusOr<StartedHead> StartHead(const HeadOptions& options);

// Starts a raylet (own session directory, store and ports) that joins the cluster whose GCS is at
// `gcs_address` (host:port); `options.gcs_port` is ignored. The result has gcs_pid -1.
// Unavailable with the raylet's log tail if it cannot register (wrong address, GCS down); ports as
// for StartHead.
absl::StatusOr<StartedHead> StartWorkerNode(const HeadOptions& options,
                                            const std::string& gcs_address);

// SIGTERM, then SIGKILL after `grace`; reaps children of this process.
void StopProcesses(const std::vector<pid_t>& pids, absl::Duration grace);

// The moray executable: $MORAY_BIN, else the installed one beside libmoray (<prefix>/bin/moray for
// <prefix>/lib/libmoray.so, also with a multiarch libdir), else the absolute path of `moray` on
// PATH, else "moray" (which StartHead reports as not found).
std::string FindMorayBinary();

}  // namespace moray
