// RuntimeEnvSpec: the runtime env of a job, task or actor as the runtime sees it — parsed and
// validated from the JSON text of ray::RuntimeEnv, merged over a parent's, and reduced to a
// canonical JSON text whose hash names the env everywhere (scheduling key, worker pool, node
// cache). Design: docs/runtime_env.md.
//
//   absl::StatusOr<RuntimeEnvSpec> job = RuntimeEnvSpec::Parse(R"({"env_vars": {"A": "1"}})");
//   absl::StatusOr<RuntimeEnvSpec> task = RuntimeEnvSpec::Parse(R"({"env_vars": {"B": "2"}})");
//   RuntimeEnvSpec env = RuntimeEnvSpec::Merge(*job, *task);  // env_vars A=1, B=2
//   std::string json = env.Serialize();  // {"env_vars":{"A":"1","B":"2"}}
//   std::string hash = env.Hash();       // 16 hex digits; "" for the empty env
//
// Supported fields: env_vars (string -> string), working_dir (a local path, or pkg://<hash>
// once uploaded), excludes (list of patterns), config {setup_timeout_seconds, eager_install}.
// Any other field is InvalidArgument naming it. Thread-safe as a value (no shared state).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moray::runtime_env {

// Lease failures caused by a runtime env's setup start with this text, so the owner (and the
// GCS, for an actor) can tell them from other lease failures and report
// RUNTIME_ENV_SETUP_FAILED / an actor dead with that cause.
inline constexpr absl::string_view kSetupFailedPrefix = "runtime env setup failed";
// Whether `status` is such a failure.
bool IsSetupFailure(const absl::Status& status);
// FailedPrecondition("runtime env setup failed: <cause>").
absl::Status SetupFailure(absl::string_view cause);

// The default of config.setup_timeout_seconds (-1: no limit).
inline constexpr int kDefaultSetupTimeoutSeconds = 600;

struct RuntimeEnvSpec {
  // Unset fields were not given: a merge keeps the parent's value for them.
  std::map<std::string, std::string> env_vars;
  std::optional<std::string> working_dir;
  std::optional<std::vector<std::string>> excludes;
  std::optional<int> setup_timeout_seconds;
  std::optional<bool> eager_install;

  bool Empty() const;
  int SetupTimeoutSeconds() const {
    return setup_timeout_seconds.value_or(kDefaultSetupTimeoutSeconds);
  }
  bool EagerInstall() const { return eager_install.value_or(true); }

  // From ray::RuntimeEnv::Serialize() text ("" and "{}" are the empty env). InvalidArgument for
  // malformed JSON, an unsupported field ("runtime env field 'pip' is not supported by Moray's
  // C++ workers; supported: env_vars, working_dir, excludes, config") or a value of the wrong
  // type (naming the field and the type expected).
  static absl::StatusOr<RuntimeEnvSpec> Parse(absl::string_view json);

  // Ray's rule: the child's fields win over the parent's field by field; env_vars merge key by
  // key (the child's value winning).
  static RuntimeEnvSpec Merge(const RuntimeEnvSpec& parent, const RuntimeEnvSpec& child);

  // Canonical JSON: sorted keys, no spaces, unset fields left out. "" for the empty env.
  std::string Serialize() const;
  // 16 hex digits of a 64-bit hash (FNV-1a) of Serialize(); "" for the empty env.
  std::string Hash() const;
};

// The hash of a canonical JSON text as Serialize() gives it ("" for "").
std::string HashOfCanonical(absl::string_view canonical_json);

// `value` with every ${NAME} replaced by getenv(NAME) (nothing when unset). Text that is not a
// complete ${NAME} is left as it is.
std::string ExpandVars(absl::string_view value,
                       const std::function<std::optional<std::string>(const std::string&)>& getenv);

}  // namespace moray::runtime_env
