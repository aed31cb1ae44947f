// `moray`: the command line and every service process. Subcommands are registered by group:
// start/stop (start_stop.cc), the internal service processes (service_commands.cc) and the state
// queries list/summary/get/status (state_commands.cc); options.cc turns usage errors into one line.
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
  return moray::cli::Run(app, argc, argv, std::cout, std::cerr);
}
