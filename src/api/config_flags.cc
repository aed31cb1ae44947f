#include "api/config_flags.h"

#include <sstream>
#include <string>
#include <vector>

#include "ray/api/ray_exception.h"

namespace moray::api {
namespace {

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, separator)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

std::vector<std::string> SplitSpaces(const std::string& text) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  std::string part;
  while (in >> part) parts.push_back(part);
  return parts;
}

ray::ActorLifetime ParseLifetime(const std::string& value) {
  if (value == "detached") return ray::ActorLifetime::DETACHED;
  if (value == "non_detached") return ray::ActorLifetime::NON_DETACHED;
  throw ray::internal::RayException("Invalid --ray_default_actor_lifetime value \"" + value +
                                    "\": expected detached or non_detached");
}

void Apply(const std::string& flag, const std::string& value, ray::RayConfig& config) {
  if (flag == "ray_address") {
    config.address = value;
  } else if (flag == "ray_code_search_path") {
    config.code_search_path = Split(value, ':');
  } else if (flag == "ray_head_args") {
    config.head_args = SplitSpaces(value);
  } else if (flag == "ray_default_actor_lifetime") {
    config.default_actor_lifetime = ParseLifetime(value);
  } else if (flag == "ray_job_namespace") {
    config.ray_namespace = value;
  } else if (flag == "ray_redis_password") {
    config.redis_password_ = value;
  } else if (flag == "ray_runtime_env") {
    config.runtime_env = ray::RuntimeEnv::Deserialize(value);
  } else if (flag == "ray_log_to_driver") {
    if (value != "true" && value != "false" && value != "1" && value != "0") {
      throw ray::internal::RayException("Invalid --ray_log_to_driver value \"" + value +
                                        "\": expected true or false");
    }
    config.log_to_driver = value == "true" || value == "1";
  }
}

bool IsKnownFlag(const std::string& flag) {
  return flag == "ray_address" || flag == "ray_code_search_path" || flag == "ray_head_args" ||
         flag == "ray_default_actor_lifetime" || flag == "ray_job_namespace" ||
         flag == "ray_redis_password" || flag == "ray_runtime_env" || flag == "ray_log_to_driver";
}

}  // namespace

void ApplyCommandLineFlags(int argc, char** argv, ray::RayConfig& config) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == nullptr) continue;
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) continue;
    std::string body = arg.substr(2);
    size_t equals = body.find('=');
    std::string flag = body.substr(0, equals);
    if (!IsKnownFlag(flag)) continue;
    if (equals != std::string::npos) {
      Apply(flag, body.substr(equals + 1), config);
    } else if (i + 1 < argc && argv[i + 1] != nullptr) {
      // The next argument is the value even if it starts with "--" (e.g. --ray_head_args).
      Apply(flag, argv[++i], config);
    } else {
      throw ray::internal::RayException("Flag --" + flag + " needs a value");
    }
  }
}

}  // namespace moray::api
