#include "runtime_env/runtime_env.h"

#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace moray::runtime_env {
namespace {

using Json = nlohmann::json;

constexpr char kSupported[] = "supported: env_vars, working_dir, excludes, config";

absl::Status WrongType(absl::string_view field, absl::string_view expected, const Json& got) {
  return absl::InvalidArgumentError(absl::StrCat("runtime env field '", field, "' must be ",
                                                 expected, ", not ", got.type_name(), " ",
                                                 got.dump()));
}

absl::Status ParseConfig(const Json& config, RuntimeEnvSpec* spec) {
  if (!config.is_object()) return WrongType("config", "an object", config);
  for (const auto& [key, value] : config.items()) {
    if (key == "setup_timeout_seconds") {
      if (!value.is_number_integer()) {
        return WrongType("config.setup_timeout_seconds", "a whole number", value);
      }
      const int64_t seconds = value.get<int64_t>();
      if (seconds != -1 && (seconds <= 0 || seconds > INT32_MAX)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "runtime env field 'config.setup_timeout_seconds' must be positive or -1, not ",
            seconds));
      }
      spec->setup_timeout_seconds = static_cast<int>(seconds);
    } else if (key == "eager_install") {
      if (!value.is_boolean()) return WrongType("config.eager_install", "true or false", value);
      spec->eager_install = value.get<bool>();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("runtime env field 'config.", key,
                       "' is not supported; supported: setup_timeout_seconds, eager_install"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsSetupFailure(const absl::Status& status) {
  return !status.ok() && absl::StartsWith(status.message(), kSetupFailedPrefix);
}

absl::Status SetupFailure(absl::string_view cause) {
  return absl::FailedPreconditionError(absl::StrCat(kSetupFailedPrefix, ": ", cause));
}

bool RuntimeEnvSpec::Empty() const {
  return env_vars.empty() && !working_dir && !excludes && !setup_timeout_seconds && !eager_install;
}

absl::StatusOr<RuntimeEnvSpec> RuntimeEnvSpec::Parse(absl::string_view json) {
  RuntimeEnvSpec spec;
  if (json.empty()) return spec;
  Json root = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat("runtime env is not valid JSON: ", json));
  }
  if (!root.is_object()) return WrongType("(the runtime env)", "a JSON object", root);
  for (const auto& [key, value] : root.items()) {
    if (key == "env_vars") {
      if (!value.is_object()) return WrongType("env_vars", "an object of strings", value);
      for (const auto& [name, var] : value.items()) {
        if (!var.is_string()) {
          return WrongType(absl::StrCat("env_vars.", name), "a string", var);
        }
        if (name.empty() || absl::StrContains(name, '=')) {
          return absl::InvalidArgumentError(
              absl::StrCat("runtime env variable name '", name, "' is empty or contains '='"));
        }
        spec.env_vars[name] = var.get<std::string>();
      }
    } else if (key == "working_dir") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return WrongType("working_dir", "a non-empty string (a path or pkg:// URI)", value);
      }
      spec.working_dir = value.get<std::string>();
    } else if (key == "excludes") {
      if (!value.is_array()) return WrongType("excludes", "a list of strings", value);
      std::vector<std::string> patterns;
      for (const auto& pattern : value) {
        if (!pattern.is_string()) return WrongType("excludes", "a list of strings", value);
        patterns.push_back(pattern.get<std::string>());
      }
      spec.excludes = std::move(patterns);
    } else if (key == "config") {
      if (absl::Status s = ParseConfig(value, &spec); !s.ok()) return s;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "runtime env field '", key, "' is not supported by Moray's C++ workers; ", kSupported));
    }
  }
  return spec;
}

RuntimeEnvSpec RuntimeEnvSpec::Merge(const RuntimeEnvSpec& parent, const RuntimeEnvSpec& child) {
  RuntimeEnvSpec out = parent;
  for (const auto& [name, value] : child.env_vars) out.env_vars[name] = value;
  if (child.working_dir) out.working_dir = child.working_dir;
  if (child.excludes) out.excludes = child.excludes;
  if (child.setup_timeout_seconds) out.setup_timeout_seconds = child.setup_timeout_seconds;
  if (child.eager_install) out.eager_install = child.eager_install;
  return out;
}

std::string RuntimeEnvSpec::Serialize() const {
  if (Empty()) return "";
  Json root = Json::object();  // nlohmann::json objects keep their keys sorted
  if (!env_vars.empty()) root["env_vars"] = env_vars;
  if (working_dir) root["working_dir"] = *working_dir;
  if (excludes) root["excludes"] = *excludes;
  if (setup_timeout_seconds || eager_install) {
    Json config = Json::object();
    if (setup_timeout_seconds) config["setup_timeout_seconds"] = *setup_timeout_seconds;
    if (eager_install) config["eager_install"] = *eager_install;
    root["config"] = std::move(config);
  }
  return root.dump();
}

std::string HashOfCanonical(absl::string_view canonical_json) {
  if (canonical_json.empty()) return "";
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a: stable across processes and machines
  for (unsigned char c : canonical_json) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) hex[i] = kDigits[hash & 0xf];
  return hex;
}

std::string RuntimeEnvSpec::Hash() const { return HashOfCanonical(Serialize()); }

std::string ExpandVars(
    absl::string_view value,
    const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    const size_t start = value.find("${", i);
    if (start == absl::string_view::npos) break;
    const size_t end = value.find('}', start + 2);
    if (end == absl::string_view::npos) break;
    absl::StrAppend(&out, value.substr(i, start - i));
    std::string name(value.substr(start + 2, end - start - 2));
    if (std::optional<std::string> v = getenv(name)) out.append(*v);
    i = end + 1;
  }
  absl::StrAppend(&out, value.substr(i));
  return out;
}

}  // namespace moray::runtime_env
