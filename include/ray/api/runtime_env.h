// RuntimeEnv: the environment a job, task or actor runs in (environment variables, working
// directory, ...), kept as a JSON object from field name to value.
//
//   ray::RuntimeEnv env;
//   env.Set("env_vars", std::map<std::string, std::string>{{"MODE", "fast"}});
//   auto vars = env.Get<std::map<std::string, std::string>>("env_vars");
//   env.SetJsonStr("working_dir", "\"/tmp/job\"");
//   std::string wire = env.Serialize();
//   ray::RuntimeEnv copy = ray::RuntimeEnv::Deserialize(wire);
//
// Errors: a missing field, a value of the wrong type or malformed JSON throws
// RayRuntimeEnvException. Not thread-safe; copy it to share.
#pragma once

#include <string>

#include "nlohmann/json.hpp"
#include "ray/api/ray_exception.h"

namespace ray {

class RuntimeEnv {
 public:
  // Sets field `name` to `value`, which must be convertible to JSON (nlohmann::json).
  template <typename T>
  void Set(const std::string& name, const T& value) {
    try {
      fields_[name] = nlohmann::json(value);
    } catch (const nlohmann::json::exception& e) {
      throw internal::RayRuntimeEnvException("Failed to set runtime env field " + name + ": " +
                                             e.what());
    }
  }

  // Field `name` converted to T.
  template <typename T>
  T Get(const std::string& name) const {
    const nlohmann::json& value = Field(name);
    try {
      return value.get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw internal::RayRuntimeEnvException("Runtime env field " + name +
                                             " has an unexpected type: " + e.what());
    }
  }

  // Sets field `name` from its JSON text.
  void SetJsonStr(const std::string& name, const std::string& json_str) {
    try {
      fields_[name] = nlohmann::json::parse(json_str);
    } catch (const nlohmann::json::exception& e) {
      throw internal::RayRuntimeEnvException("Invalid JSON for runtime env field " + name + ": " +
                                             e.what());
    }
  }

  // Field `name` as JSON text.
  std::string GetJsonStr(const std::string& name) const { return Field(name).dump(); }

  bool Contains(const std::string& name) const { return fields_.contains(name); }

  // Removes field `name`; returns whether it was present.
  bool Remove(const std::string& name) { return fields_.erase(name) > 0; }

  bool Empty() const { return fields_.empty(); }

  // The whole environment as a JSON object text.
  std::string Serialize() const { return fields_.dump(); }

  // Inverse of Serialize; throws RayRuntimeEnvException unless `serialized` is a JSON object.
  static RuntimeEnv Deserialize(const std::string& serialized) {
    RuntimeEnv env;
    try {
      env.fields_ = nlohmann::json::parse(serialized);
    } catch (const nlohmann::json::exception& e) {
      throw internal::RayRuntimeEnvException(std::string("Invalid runtime env JSON: ") + e.what());
    }
    if (!env.fields_.is_object()) {
      throw internal::RayRuntimeEnvException("Invalid runtime env JSON: not an object: " +
                                             serialized);
    }
    return env;
  }

 private:
  const nlohmann::json& Field(const std::string& name) const {
    auto it = fields_.find(name);
    if (it == fields_.end()) {
      throw internal::RayRuntimeEnvException("Runtime env field " + name + " is not set");
    }
    return *it;
  }

  nlohmann::json fields_ = nlohmann::json::object();
};

}  // namespace ray
