// The state commands of the `moray` CLI: `list`, `get`, `summary` and `status`, reading cluster
// state from the GCS (SEMANTICS.md, "State CLI").
//
//   CLI::App app{"moray"};
//   moray::cli::AddStateCommands(app);
//   CLI11_PARSE(app, argc, argv);
//
//   moray list tasks --filter state=RUNNING --limit 10 --format json
//   moray get tasks <task_id>
//   moray summary tasks
//   moray status --address 127.0.0.1:6379
//
// Every command takes --address (default: $RAY_ADDRESS, else the cluster last started on this
// machine). Failures print one "Error: ..." line to stderr and end the command by throwing
// CLI::RuntimeError(1), which CLI11_PARSE / App::exit turn into the exit code without printing.
#pragma once

#include <ostream>

#include "CLI/CLI.hpp"

namespace moray::cli {

void AddStateCommands(CLI::App& app);
// Same, writing results to `out` and errors/warnings to `err` (both must outlive `app`).
void AddStateCommands(CLI::App& app, std::ostream& out, std::ostream& err);

}  // namespace moray::cli
