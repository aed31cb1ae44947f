#include "common/environment.h"

#include <cstdlib>
#include <cstring>

extern char** environ;

namespace moray {

std::vector<std::string> EnvironmentWith(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  auto overridden = [&](const char* var) {
    const char* eq = strchr(var, '=');
    const size_t name_len = eq ? static_cast<size_t>(eq - var) : strlen(var);
    for (const std::string& o : overrides) {
      if (o.size() > name_len && o[name_len] == '=' && o.compare(0, name_len, var, name_len) == 0) {
        return true;
      }
    }
    return false;
  };
  for (char** var = environ; var != nullptr && *var != nullptr; ++var) {
    if (!overridden(*var)) env.emplace_back(*var);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

std::vector<std::string> EnvironmentEntries(
    const std::vector<std::pair<std::string, std::string>>& variables) {
  std::vector<std::string> entries;
  entries.reserve(variables.size());
  for (const auto& [name, value] : variables) entries.push_back(name + "=" + value);
  return entries;
}

absl::StatusOr<bool> RpcLatencyMetricsFromEnv() {
  const char* value = std::getenv("MORAY_RPC_LATENCY_METRICS");
  const std::string text = value == nullptr ? "" : value;
  if (text.empty() || text == "1" || text == "true") return true;
  if (text == "0" || text == "false") return false;
  return absl::InvalidArgumentError("MORAY_RPC_LATENCY_METRICS must be 1, true, 0 or false, not '" +
                                    text + "'");
}

}  // namespace moray
