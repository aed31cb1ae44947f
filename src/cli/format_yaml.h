// A tiny YAML emitter for the state CLI's `--format yaml` and `moray get`, in the block style
// PyYAML prints with indent=4 (what `ray get`/`ray list --format yaml` show):
//
//   -   task_id: 16310a0f0a45af5c
//       required_resources:
//           CPU: 1.0
//       driver_argv:
//       - ./app
//
// Strings that YAML would read as something else (numbers, booleans, null, leading indicators)
// are single-quoted; strings with control characters or newlines are double-quoted with escapes.
#pragma once

#include <string>

#include "cli/format_util.h"

namespace moray::cli {

// The document for `value`, ending with a newline; `explicit_start` prefixes "---".
std::string ToYaml(const Row& value, bool explicit_start = true);

// One scalar as YAML would write it (quoted when needed).
std::string YamlScalar(const Row& value);

}  // namespace moray::cli
