// `moray`: the command line and every service process. Subcommands are registered by group:
// start/stop (start_stop.cc), the internal service processes (service_commands.cc), the state
// queries list/summary/get/status (state_commands.cc), the job CLI (job_commands.cc) and
// get-auth-token (auth_commands.cc);
// options.cc turns usage errors into one line.
//
// Each command that connects to a cluster or starts processes loads the auth itself
// (rpc::LoadAuthConfig or EnsureAuthToken) and sets it as the process's (rpc::SetProcessAuth), so
// that commands which need no token (stop, get-auth-token, --help, a usage error) never fail for
// the lack of one, and each failure names the command.
#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/state_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Moray: a distributed computing runtime with a Ray-compatible C++ API", "moray"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  moray::cli::AddStartStopCommands(app);
  moray::cli::AddServiceCommands(app);
  moray::cli::AddStateCommands(app);
  moray::cli::AddJobCommands(app);
  moray::cli::AddAuthCommands(app);
  moray::cli::AddLogCommands(app);
  return moray::cli::Run(app, argc, argv, std::cout, std::cerr);
}
