#include "cli/options.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace moray::cli {
namespace {

template <typename Target>
void AddOptionsFeeding(CLI::App* command, NodeService service, Target* target) {
  for (const NodeOption& option : NodeOptions()) {
    if (!option.Feeds(service)) continue;
    AddOption(command, std::string(option.name), std::string(option.help),
              std::string(option.value_name),
              [&option, target](std::string_view text) {
                return SetNodeOption(option, text, target);
              });
  }
}

// "--grace-period" of "-g,--grace-period".
std::string LongName(const std::string& names) {
  return names.substr(names.rfind(',') == std::string::npos ? 0 : names.rfind(',') + 1);
}

template <typename T>
CLI::Option* AddWholeNumber(CLI::App* command, const std::string& names, const std::string& help,
                            const std::string& value_name, NumberRange range, T* target) {
  range.min = std::max<int64_t>(range.min, std::numeric_limits<T>::min());
  range.max = std::min<int64_t>(range.max, std::numeric_limits<T>::max());
  std::string name = LongName(names);
  return AddOption(command, names, help, value_name,
                   [name, range, target](std::string_view text) -> absl::Status {
                     auto value = ParseWholeNumber(name, text, range);
                     if (!value.ok()) return value.status();
                     *target = static_cast<T>(*value);
                     return absl::OkStatus();
                   });
}

// The command being parsed when the error came: the deepest subcommand given, else `app`.
const CLI::App* CurrentCommand(const CLI::App& app) {
  const CLI::App* current = &app;
  while (!current->get_subcommands().empty()) current = current->get_subcommands().back();
  return current;
}

std::string CommandPath(const CLI::App* command) {
  std::vector<std::string> names;
  for (const CLI::App* c = command; c != nullptr && c->get_parent() != nullptr;
       c = c->get_parent()) {
    names.insert(names.begin(), c->get_name());
  }
  names.insert(names.begin(), "moray");
  return absl::StrJoin(names, " ");
}

// The subcommands `command` offers (hidden internal ones left out).
std::vector<std::string> VisibleSubcommands(const CLI::App* command) {
  std::vector<std::string> names;
  for (const CLI::App* sub : command->get_subcommands([](const CLI::App* s) {
         return !s->get_group().empty();
       })) {
    names.push_back(sub->get_name());
  }
  return names;
}

// What CLI11 put before the first ": " of its message (an option's name), or "".
std::string NamePart(const std::string& what) {
  auto colon = what.find(": ");
  return colon == std::string::npos ? "" : what.substr(0, colon);
}

// What is left over on `command`'s line: unknown options and arguments.
std::string FirstExtra(const CLI::App* command) {
  std::vector<std::string> extras = command->remaining(false);
  return extras.empty() ? "" : extras.front();
}

std::string ExtraSentence(const CLI::App* command, const std::string& extra,
                          const std::string& help) {
  if (absl::StartsWith(extra, "-")) {
    return absl::StrCat("unknown option ", extra.substr(0, extra.find('=')), " (", help, ")");
  }
  if (command->get_parent() == nullptr) {
    return absl::StrCat("unknown command '", extra, "'; the commands are ",
                        JoinAlternatives(VisibleSubcommands(command), "and"));
  }
  return absl::StrCat("unexpected argument '", extra, "' (", help, ")");
}

// CLI11's own errors, which name things in its words ("ExtrasError: The following argument was
// not expected"), say it our way. Its message is read only for the option's name.
std::string Sentence(const CLI::App* command, const std::string& path, const CLI::Error& e) {
  const std::string what = e.what();
  const std::string help = absl::StrCat("`", path, " --help` shows the usage");
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    return ExtraSentence(command, FirstExtra(command), help);
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    if (command->get_parent() == nullptr) {
      // Requirements are checked before extras: `moray frobnicate` lands here.
      std::string extra = FirstExtra(command);
      if (!extra.empty()) return ExtraSentence(command, extra, help);
      return absl::StrCat("give a command: ", JoinAlternatives(VisibleSubcommands(command)),
                          " (`moray --help` describes them)");
    }
    if (absl::EndsWith(what, " is required") && !absl::StartsWith(what, "-")) {
      std::string argument = what.substr(0, what.size() - std::string(" is required").size());
      return absl::StrCat("the ", argument, " argument is missing (", help, ")");
    }
    return what;
  }
  std::string option = NamePart(what);
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    if (absl::StrContains(what, "flag override")) {
      return absl::StrCat(what.substr(0, what.find(' ')), " takes no value");
    }
    if (option.empty()) return what;
    if (absl::StrContains(what, "At Most")) {
      return absl::StrCat(option, " was given more than once; give it once");
    }
    return absl::StrCat(option, " needs a value");
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
    // Only flags convert with CLI11 here: "Could not convert: --head = maybe" or
    // "--head: Should be true/false or a number".
    const std::string prefix = "Could not convert: ";
    if (absl::StartsWith(what, prefix)) {
      option = what.substr(prefix.size(), what.find(" = ") - prefix.size());
    }
    if (!option.empty()) return absl::StrCat(option, " takes no value");
  }
  return what;
}

}  // namespace

CLI::Option* AddOption(CLI::App* command, const std::string& names, const std::string& help,
                       const std::string& value_name,
                       std::function<absl::Status(std::string_view)> parse, bool repeatable) {
  CLI::Option* option = command->add_option(
      names,
      [parse = std::move(parse)](const CLI::results_t& values) {
        for (const auto& value : values) {
          if (absl::Status parsed = parse(value); !parsed.ok()) {
            throw CLI::ValidationError(std::string(parsed.message()));
          }
        }
        return true;
      },
      help);
  option->type_name(value_name);
  if (repeatable) option->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  return option;
}

CLI::Option* AddWholeNumberOption(CLI::App* command, const std::string& names,
                                  const std::string& help, const std::string& value_name,
                                  const NumberRange& range, int64_t* target) {
  return AddWholeNumber(command, names, help, value_name, range, target);
}

CLI::Option* AddWholeNumberOption(CLI::App* command, const std::string& names,
                                  const std::string& help, const std::string& value_name,
                                  const NumberRange& range, int* target) {
  return AddWholeNumber(command, names, help, value_name, range, target);
}

CLI::Option* AddTextOption(CLI::App* command, const std::string& names, const std::string& help,
                           const std::string& value_name, std::string* target) {
  std::string name = LongName(names);
  return AddOption(command, names, help, value_name,
                   [name, target](std::string_view text) -> absl::Status {
                     auto value = ParseText(name, text);
                     if (!value.ok()) return value.status();
                     *target = *std::move(value);
                     return absl::OkStatus();
                   });
}

void AddNodeOptions(CLI::App* command, NodeOptionUse use, HeadOptions* target) {
  for (const NodeOption& option : NodeOptions()) {
    if (!(option.uses & use)) continue;
    CLI::Option* added = AddOption(command, std::string(option.name), std::string(option.help),
                                   std::string(option.value_name),
                                   [&option, target](std::string_view text) {
                                     return SetNodeOption(option, text, target);
                                   });
    if (option.show_default) added->default_str(FormatNodeOption(option, *target));
  }
}

void AddServiceOptions(CLI::App* command, gcs::GcsServerOptions* target) {
  AddOptionsFeeding(command, NodeService::kGcs, target);
}

void AddServiceOptions(CLI::App* command, raylet::RayletOptions* target) {
  AddOptionsFeeding(command, NodeService::kRaylet, target);
}

void AddServiceOptions(CLI::App* command, dashboard::DashboardOptions* target) {
  AddOptionsFeeding(command, NodeService::kDashboard, target);
}

std::string UsageMessage(const CLI::App& app, const CLI::Error& e) {
  const CLI::App* command = CurrentCommand(app);
  std::string path = CommandPath(command);
  return absl::StrCat(path, ": ", Sentence(command, path, e));
}

int Run(CLI::App& app, int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e, out, err);  // --help
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // the command failed and said why
  } catch (const CLI::ParseError& e) {
    err << UsageMessage(app, e) << std::endl;
    return 2;
  }
  return 0;
}

}  // namespace moray::cli
