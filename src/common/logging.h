// Process-wide logging for runtime components (spdlog). Each process calls InitLogging once in its
// main/composition root; components then use spdlog's free functions (spdlog::info(...)).
// User code uses RAYLOG from <ray/api.h>, which lands in the same log.
#pragma once

#include <string>

namespace moray {

// Logs to `file` (append) when non-empty, else to stderr. `component` prefixes every line.
// Level from $MORAY_LOG_LEVEL (debug|info|warning|error), default info.
void InitLogging(const std::string& component, const std::string& file);

}  // namespace moray
