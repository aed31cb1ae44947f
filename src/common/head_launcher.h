// Starting a node's services as background processes: a head node (GCS + raylet), used by
// `moray start --head` and by ray::Init() without an address (the embedded cluster, whose processes
// exit with their owner); or a worker node (a raylet that joins an existing GCS), used by
// `moray start --address=HOST:PORT`.
//
//   HeadOptions options;                      // defaults: loopback, free ports, all CPUs
//   options.owner_pid = getpid();             // embedded: exit when this process does
//   absl::StatusOr<StartedHead> head = StartHead(options);
//   ...
//   StopProcesses({head->raylet_pid, head->gcs_pid}, absl::Seconds(5));
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace moray {

struct HeadOptions {
  std::string node_ip = "127.0.0.1";  // every service binds here
  int gcs_port = 0;                   // 0: any free port
  double num_cpus = -1;               // -1: all of this machine's CPUs
  double num_gpus = 0;
  std::map<std::string, double> resources;  // custom resources
  int64_t object_store_memory = 0;          // bytes; 0: default
  std::string object_spilling_directory;    // empty: <session_dir>/spill
  // Bytes of the store faulted in at start. -1: the raylet's default (min(capacity, 2 GiB)) for
  // `moray start`; kEmbeddedPrefault for the embedded cluster of ray::Init, which is often
  // short-lived and shares the machine with others (tests, several drivers).
  int64_t object_store_prefault = -1;
  // Bytes of small values each driver/worker keeps in its own memory before putting new ones in
  // the store; -1: the raylet's default (a quarter of the store, at most 256 MiB).
  int64_t inline_object_memory = -1;
  int owner_pid = 0;      // > 0: the services exit when that process exits (the embedded cluster)
  bool detach = false;    // new session, so the services outlive the starting terminal
  std::string session_dir;  // empty: a fresh one
  std::string node_name;    // empty: the node's IP address
  std::map<std::string, std::string> labels;
  int raylet_port = 0;      // 0: any free port
  // The GCS's health checks of raylets (head only); 0: the GCS's defaults (1 s, 1 s, 5).
  int health_check_period_ms = 0;
  int health_check_timeout_ms = 0;
  int health_check_failure_threshold = 0;
};

inline constexpr int64_t kEmbeddedPrefault = 256ll << 20;

struct StartedHead {
  std::string gcs_address;     // host:port
  std::string raylet_host;
  int raylet_port = 0;
  std::string session_dir;
  pid_t gcs_pid = -1;
  pid_t raylet_pid = -1;
};

// Parses `moray start --head`-style arguments (for RayConfig::head_args): --port, --num-cpus,
// --num-gpus, --resources (JSON object of numbers), --object-store-memory,
// --object-spilling-directory, --node-ip-address, in
// `--flag=value` or `--flag value` form. InvalidArgument with the offending text otherwise.
absl::Status ParseHeadArgs(const std::vector<std::string>& args, HeadOptions* options);
// Parses a --resources value: a JSON object of non-negative numbers.
absl::StatusOr<std::map<std::string, double>> ParseResourcesJson(const std::string& json);

// Starts the GCS, then a raylet registered with it; waits until both are ready (a few seconds at
// most) and returns their addresses. On failure nothing is left running and the error carries the
// tail of the failing service's log.
absl::StatusOr<StartedHead> StartHead(const HeadOptions& options);

// Starts a raylet (own session directory, store and ports) that joins the cluster whose GCS is at
// `gcs_address` (host:port); `options.gcs_port` is ignored. The result has gcs_pid -1.
// Unavailable with the raylet's log tail if it cannot register (wrong address, GCS down).
absl::StatusOr<StartedHead> StartWorkerNode(const HeadOptions& options,
                                            const std::string& gcs_address);

// Parses a --labels value: a JSON object of strings.
absl::StatusOr<std::map<std::string, std::string>> ParseLabelsJson(const std::string& json);

// SIGTERM, then SIGKILL after `grace`; reaps children of this process.
void StopProcesses(const std::vector<pid_t>& pids, absl::Duration grace);

// The moray executable: $MORAY_BIN, else the installed one beside libmoray (<prefix>/bin/moray for
// <prefix>/lib/libmoray.so, also with a multiarch libdir), else the absolute path of `moray` on
// PATH, else "moray" (which StartHead reports as not found).
std::string FindMorayBinary();

}  // namespace moray
