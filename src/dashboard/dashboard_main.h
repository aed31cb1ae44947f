// The dashboard as a process (`moray dashboard`, internal): the composition root that connects
// to the GCS, builds the job supervisor (src/jobs) over the GCS KV, serves Ray's Jobs REST API
// over HTTP behind the cluster token, records its address in the KV (namespace "cluster", key
// "dashboard_address") for the CLI, and on SIGTERM/SIGINT stops the jobs still running, removes
// its address and exits. `moray start --head` starts it; ray::Init's embedded cluster does not
// (it stays fast to start).
//
//   DashboardOptions options{.gcs_address = "127.0.0.1:6379", .session_dir = dir};
//   return RunDashboard(options, *rpc::LoadAuthConfig());
#pragma once

#include "dashboard/dashboard_options.h"
#include "rpc/auth.h"

namespace moray::dashboard {

inline constexpr char kClusterNamespace[] = "cluster";
inline constexpr char kDashboardAddressKey[] = "dashboard_address";

// Blocks until SIGTERM/SIGINT; returns the exit code (1 if it could not start: the GCS
// unreachable, the port not bindable). Installs signal handlers and ignores SIGPIPE.
int RunDashboard(const DashboardOptions& options, const rpc::AuthConfig& auth);

}  // namespace moray::dashboard
