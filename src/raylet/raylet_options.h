// RayletOptions: everything a raylet is configured with, filled once by its main (`moray start`,
// or a driver's embedded local cluster) and passed down. No global configuration.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace moray::raylet {

struct RayletOptions {
  std::string node_ip = "127.0.0.1";  // bind + advertised address
  int port = 0;                       // framed channel port; 0: any free
  std::string gcs_address;            // host:port
  std::string session_dir;
  std::string node_name;              // default: node_ip
  bool is_head = false;
  double num_cpus = -1;               // -1: hardware concurrency
  int num_gpus = -1;                  // -1: the GPUs the node has (node_gpus.h)
  std::map<std::string, double> custom_resources;
  std::map<std::string, std::string> labels;
  int64_t object_store_memory = 0;    // bytes, 0: default (30% of RAM capped by /dev/shm size)
  std::string object_spilling_directory;     // empty: <session_dir>/spill
  int64_t object_store_prefault_bytes = -1;  // faulted in at start; -1: min(capacity, 2 GiB)
  // Bytes of small values each driver or worker of this node keeps in its own memory before
  // new ones go to the object store; -1: a quarter of the store, at most 256 MiB. 0: every
  // object goes to the store.
  int64_t inline_object_memory = -1;
  std::string moray_binary;           // path of the moray executable (for generic workers)
  // Fetches and unpacks a runtime env's working_dir package (RuntimeEnvAgentOptions::
  // fetch_package); null: envs with a working_dir fail to set up on this node.
  std::function<absl::Status(const std::string& uri, const std::string& dest_dir,
                             const std::function<bool()>& cancelled)>
      fetch_package;
  // Set in every worker's environment: the node's auth (rpc::AuthEnvironment of the config its
  // main loaded), so workers use the raylet's token whatever their own sources say.
  std::vector<std::pair<std::string, std::string>> worker_env;
  int ready_fd = -1;                  // write "<port>\n" once registered with the GCS, then close
  int owner_pid = 0;                  // > 0: exit (killing workers) when that process exits
  int prestart_workers = -1;          // per job, at driver registration; -1: num_cpus
  absl::Duration idle_worker_timeout = absl::Seconds(1);
  absl::Duration worker_register_timeout = absl::Seconds(60);
  // Worker log files (log_agent.h): rotated past this size, keeping this many old ones.
  int64_t log_rotation_bytes = 512ll << 20;
  int log_rotation_backup_count = 5;
};

}  // namespace moray::raylet
