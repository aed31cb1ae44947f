// Environments for child processes: this process's own, with some variables replaced. Built
// before fork (the child of a threaded process may not allocate) and passed to execve.
//
//   std::vector<std::string> env = EnvironmentWith({"MORAY_WORKER_MODE=1"});
//   std::vector<std::string> more = EnvironmentEntries(rpc::AuthEnvironment(auth));
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace moray {

// The current environment with `overrides` ("NAME=value") replacing same-named entries.
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& overrides);

// "NAME=value" for each (name, value).
std::vector<std::string> EnvironmentEntries(
    const std::vector<std::pair<std::string, std::string>>& variables);

// MORAY_RPC_LATENCY_METRICS: whether the GCS and the raylet record their methods' latencies
// (unset, 1 or true: yes; 0 or false: no — for cost comparisons, bench/events_cost.sh).
// InvalidArgument naming the variable for any other value.
absl::StatusOr<bool> RpcLatencyMetricsFromEnv();

}  // namespace moray
