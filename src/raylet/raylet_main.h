// The raylet process entry: `moray` runs it for `moray start` and for a driver's embedded local
// cluster.
//
//   moray::raylet::RayletOptions options;
//   options.gcs_address = "127.0.0.1:6379";
//   options.session_dir = session_dir;
//   return moray::raylet::RunRaylet(options);
#pragma once

#include "raylet/raylet_options.h"

namespace moray::raylet {

// Logs to <session_dir>/logs/raylet.log, connects to the GCS, starts a Raylet, writes
// "<port>\n" to options.ready_fd once registered, and blocks until SIGTERM/SIGINT or the exit of
// options.owner_pid. Then kills the workers and unregisters the node. Returns the process exit
// code: 0 after a requested stop, 1 if the raylet could not start.
// Call it before the process starts other threads: it blocks SIGTERM and SIGINT process-wide.
int RunRaylet(const RayletOptions& options);

}  // namespace moray::raylet
