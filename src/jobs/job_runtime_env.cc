#include "jobs/job_runtime_env.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace moray::jobs {
namespace {

constexpr const char* kSupported = "env_vars, working_dir, excludes, config";

absl::Status Wrong(const std::string& field, const char* want) {
  return absl::InvalidArgumentError(absl::StrCat("runtime env field '", field, "' must be ", want));
}

// "${A}x${B}" with A, B looked up; an unterminated "${" stays as written.
std::string Expand(const std::string& value,
                   const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  std::string out;
  size_t pos = 0;
  while (pos < value.size()) {
    size_t start = value.find("${", pos);
    size_t end = start == std::string::npos ? start : value.find('}', start + 2);
    if (end == std::string::npos) {
      out += value.substr(pos);
      break;
    }
    out += value.substr(pos, start - pos);
    out += lookup(value.substr(start + 2, end - start - 2)).value_or("");
    pos = end + 1;
  }
  return out;
}

}  // namespace

absl::Status CheckJobRuntimeEnv(const nlohmann::json& env, bool require_uploaded) {
  if (env.is_null()) return absl::OkStatus();
  if (!env.is_object()) return absl::InvalidArgumentError("the runtime env must be a JSON object");
  for (const auto& [field, value] : env.items()) {
    if (field == "env_vars") {
      if (!value.is_object()) return Wrong(field, "an object of strings");
      for (const auto& [name, v] : value.items()) {
        if (name.empty() || !v.is_string()) return Wrong(field, "an object of strings");
      }
    } else if (field == "working_dir") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return Wrong(field, "a non-empty string");
      }
      if (require_uploaded && !absl::StartsWith(value.get<std::string>(), kPackageScheme)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "runtime env working_dir '", value.get<std::string>(),
            "' is not an uploaded package (pkg://<sha256>); `moray job submit --working-dir` "
            "uploads a local directory"));
      }
    } else if (field == "excludes") {
      if (!value.is_array()) return Wrong(field, "a list of strings");
      for (const auto& v : value) {
        if (!v.is_string()) return Wrong(field, "a list of strings");
      }
    } else if (field == "config") {
      if (!value.is_object()) return Wrong(field, "an object");
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("runtime env field '", field,
                       "' is not supported by Moray's C++ workers; supported: ", kSupported));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> JobEnvVars(
    const nlohmann::json& env,
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  std::vector<std::string> vars;
  if (!env.is_object() || !env.contains("env_vars")) return vars;
  for (const auto& [name, value] : env["env_vars"].items()) {
    vars.push_back(absl::StrCat(name, "=", Expand(value.get<std::string>(), lookup)));
  }
  return vars;
}

}  // namespace moray::jobs
