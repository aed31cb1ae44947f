// The moray command table: each group of subcommands registers itself on the CLI11 app.
#pragma once

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

}  // namespace moray::cli
