// The GCS as a process: `moray` runs this for its internal GCS subcommand. Sets up logging,
// serves until SIGTERM/SIGINT or until the owning process exits, then shuts down cleanly.
//
//   moray::gcs::GcsServerOptions options;
//   options.session_dir = dir;
//   options.ready_fd = pipe_write_end;   // the parent reads "<port>\n" from the other end
//   return moray::gcs::RunGcsServer(options);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace moray::gcs {

struct GcsServerOptions {
  std::string host = "127.0.0.1";  // bind address
  int port = 0;                    // 0: any free port
  std::string session_dir;         // logs go to <session_dir>/logs/gcs_server.log
  int ready_fd = -1;               // if >= 0: write "<port>\n" here once listening, then close it
  int owner_pid = 0;               // if > 0: exit when that process exits
  int64_t max_task_records = 100000;     // task attempts kept for the state API (at least 1)
  int health_check_period_ms = 1000;     // how often each raylet is checked
  int health_check_timeout_ms = 1000;    // how long a check may take
  int health_check_failure_threshold = 5;  // failed checks in a row before a node is DEAD
};

// Blocks until SIGTERM/SIGINT or the owner's exit; returns the process exit code (0 on a clean
// shutdown, 1 if the server could not start). Installs handlers for SIGTERM and SIGINT and
// ignores SIGPIPE, so call it from a process that is meant to be the GCS.
int RunGcsServer(const GcsServerOptions& options);

}  // namespace moray::gcs
