// Sets (or, with nullopt, unsets) an environment variable until the end of the scope, then puts
// back what was there — also when the test fails or throws in between.
//
//   moray::testing::ScopedEnv no_python("MORAY_PYTHON", std::nullopt);
//   moray::testing::ScopedEnv path("PATH", empty_dir);
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace moray::testing {

class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    Set(value);
  }
  ~ScopedEnv() { Set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void Set(const std::optional<std::string>& value) {
    if (value) {
      setenv(name_.c_str(), value->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace moray::testing
