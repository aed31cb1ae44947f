// Options of the `moray` commands and their usage errors. Every option parses its own value and
// says what is wrong in a sentence (common/option_values.h); the node options are registered from
// their table (common/node_options.h); and every usage error — a bad value, an unknown option or
// command, a missing argument — is printed as one line:
//   moray start: --port must be a whole number from 0 to 65535, not 70000
//
//   CLI::App app{"...", "moray"};
//   auto* start = app.add_subcommand("start", "...");
//   AddNodeOptions(start, kStartFlag, &head_options);
//   AddOption(start, "--address", "...", "HOST:PORT", [&](std::string_view v) { ... });
//   return Run(app, argc, argv, std::cout, std::cerr);
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "common/node_options.h"

namespace moray::cli {

// Registers `names` (e.g. "-g,--grace-period") on `command`. Each value given goes to `parse`,
// whose error, a sentence naming the option, becomes the usage error. Given twice, it is an error
// unless `repeatable` (then every value is parsed, in order).
CLI::Option* AddOption(CLI::App* command, const std::string& names, const std::string& help,
                       const std::string& value_name,
                       std::function<absl::Status(std::string_view)> parse,
                       bool repeatable = false);

// AddOption for the common kinds, storing into `*target` (its value at registration is kept when
// the option is not given). The error names the option's long name.
CLI::Option* AddWholeNumberOption(CLI::App* command, const std::string& names,
                                  const std::string& help, const std::string& value_name,
                                  const NumberRange& range, int64_t* target);
CLI::Option* AddWholeNumberOption(CLI::App* command, const std::string& names,
                                  const std::string& help, const std::string& value_name,
                                  const NumberRange& range, int* target);
CLI::Option* AddTextOption(CLI::App* command, const std::string& names, const std::string& help,
                           const std::string& value_name, std::string* target);

// Registers the node options with `use` on `command`; they set `target`'s fields, whose values at
// registration are the defaults help shows (for options marked show_default).
void AddNodeOptions(CLI::App* command, NodeOptionUse use, HeadOptions* target);
// Registers the node options the service reads (NodeOption::Feeds) on its internal command.
void AddServiceOptions(CLI::App* command, gcs::GcsServerOptions* target);
void AddServiceOptions(CLI::App* command, raylet::RayletOptions* target);
void AddServiceOptions(CLI::App* command, dashboard::DashboardOptions* target);

// Parses the command line and runs the chosen command's callback. Returns the exit code: 0, or
// 2 after a usage error (one line on `err`), or a command's own code (CLI::RuntimeError). --help
// prints to `out`.
int Run(CLI::App& app, int argc, const char* const* argv, std::ostream& out, std::ostream& err);

// The one-line message for a usage error `e` raised while parsing `app`'s command line:
// "moray <command>: <sentence>".
std::string UsageMessage(const CLI::App& app, const CLI::Error& e);

}  // namespace moray::cli
