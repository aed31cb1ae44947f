// The moray command table: each group of subcommands registers itself on the CLI11 app.
#pragma once

#include <ostream>

#include "CLI/CLI.hpp"

namespace moray::cli {

// start, stop (start_stop.cc).
void AddStartStopCommands(CLI::App& app);
// Internal: gcs-server, raylet, worker — the processes `start` and the raylet launch
// (service_commands.cc).
void AddServiceCommands(CLI::App& app);
// job submit|status|logs|stop|list|delete (job_commands.cc).
void AddJobCommands(CLI::App& app);
// get-auth-token (auth_commands.cc).
void AddAuthCommands(CLI::App& app);
// logs [cluster|worker|actor|task] (log_commands.cc).
void AddLogCommands(CLI::App& app);
// stack, memory (debug_commands.cc): a worker's native stacks, the cluster's objects. The second
// form writes to `out` and `err` (both must outlive `app`).
void AddDebugCommands(CLI::App& app);
void AddDebugCommands(CLI::App& app, std::ostream& out, std::ostream& err);

}  // namespace moray::cli
