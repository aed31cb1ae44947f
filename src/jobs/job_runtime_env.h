// The runtime env of a submitted job, as far as the job supervisor needs it: which fields Moray
// supports (docs/runtime_env.md: env_vars, working_dir, excludes, config; every other field is
// refused naming it) and the entrypoint's variables. The full parser, merge and canonical form
// are src/runtime_env's; this checks a job's env at the door of the dashboard and the CLI.
//
//   absl::Status ok = CheckJobRuntimeEnv(json);      // InvalidArgument naming what is wrong
//   auto vars = JobEnvVars(json, [](auto name) { return std::getenv(...); });
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace moray::jobs {

// The package URI scheme a job's working_dir has once uploaded ("pkg://<sha256>").
inline constexpr char kPackageScheme[] = "pkg://";

// InvalidArgument unless `env` is an object with only supported fields of the right types:
// env_vars an object of strings, working_dir a string, excludes a list of strings, config an
// object. `require_uploaded`: working_dir must already be a pkg:// URI (the dashboard's rule:
// local paths mean nothing on the head node; the CLI uploads them first).
absl::Status CheckJobRuntimeEnv(const nlohmann::json& env, bool require_uploaded);

// env_vars as NAME=value entries, `${NAME}` in a value replaced by `lookup(NAME)` (empty when
// lookup says nothing), as the runtime env expands variables from the node's environment.
std::vector<std::string> JobEnvVars(
    const nlohmann::json& env,
    const std::function<std::optional<std::string>(const std::string&)>& lookup);

}  // namespace moray::jobs
