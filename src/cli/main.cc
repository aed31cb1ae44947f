// `moray`: the command line and every service process. Subcommands are registered by group;
// state queries (list, summary, get, status) live in state_commands.cc.
#include "CLI/CLI.hpp"
#include "cli/commands.h"
#if __has_include("cli/state_commands.h")  // lands with the state CLI
#include "cli/state_commands.h"
#define MORAY_HAVE_STATE_COMMANDS 1
#endif

int main(int argc, char** argv) {
  CLI::App app{"Moray: a distributed computing runtime with a Ray-compatible C++ API", "moray"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  moray::cli::AddStartStopCommands(app);
  moray::cli::AddServiceCommands(app);
#ifdef MORAY_HAVE_STATE_COMMANDS
  moray::cli::AddStateCommands(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
