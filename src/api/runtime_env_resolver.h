// RuntimeEnvResolver: the submitting side of runtime envs (docs/runtime_env.md). Each process
// has one: its base env is the job's (a driver: RayConfig::runtime_env over MORAY_JOB_RUNTIME_ENV)
// or the env it runs in (a worker: MORAY_RUNTIME_ENV, set by its raylet). Resolve() validates a
// task's or actor's own env, merges it over the base, replaces a local working_dir by the
// pkg:// URI of its uploaded package, and returns the canonical JSON and hash for the spec.
//
//   RuntimeEnvResolver resolver(*RuntimeEnvSpec::Parse(job_json), pack);
//   absl::StatusOr<RuntimeEnvResolver::Resolved> env = resolver.Resolve(options.runtime_env);
//   if (!env.ok()) throw ray::internal::RayRuntimeEnvException(...);
//   if (*env) *spec.mutable_runtime_env() = **env;   // null: the empty env, nothing on the wire
//
// Results are cached by the env text given, and packages by (path, excludes), so a loop of
// Remote() calls with one env parses, packs and uploads once. Errors (InvalidArgument,
// NotFound, ResourceExhausted, the upload's) name the field or path.
//
// Thread-safe: Remote() runs on any user thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common.pb.h"
#include "common/id.h"
#include "runtime_env/runtime_env.h"

namespace moray::gcs {
class GcsClient;
}

namespace moray::api {

class RuntimeEnvResolver {
 public:
  // Packs and uploads the local directory (or archive) `path` without `excludes`; returns its
  // pkg:// URI. Null: a local working_dir is refused (local mode).
  using PackFn = std::function<absl::StatusOr<std::string>(
      const std::string& path, const std::vector<std::string>& excludes)>;
  // The resolved env; null for the empty env.
  using Resolved = std::shared_ptr<const proto::RuntimeEnvInfo>;

  // `base` must be resolved already (no local working_dir).
  RuntimeEnvResolver(runtime_env::RuntimeEnvSpec base, PackFn pack);

  // `child_json`: RuntimeEnv::Serialize() text of SetRuntimeEnv, "" (or "{}") to inherit.
  absl::StatusOr<Resolved> Resolve(const std::string& child_json);

  // Resolves `spec` as a whole: a local working_dir becomes a pkg:// URI.
  absl::StatusOr<runtime_env::RuntimeEnvSpec> ResolvePaths(runtime_env::RuntimeEnvSpec spec);

  const Resolved& base() const { return base_info_; }

 private:
  absl::StatusOr<std::string> PackCached(const std::string& path,
                                         const std::vector<std::string>& excludes);

  const runtime_env::RuntimeEnvSpec base_;
  const Resolved base_info_;
  const PackFn pack_;
  std::mutex mu_;
  std::map<std::string, Resolved> by_text_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::vector<std::string>>, std::string> packed_
      ABSL_GUARDED_BY(mu_);
};

// Packs a working_dir (runtime_env::PackWorkingDir, limit DefaultMaxPackageBytes) and uploads it
// to the GCS's package store with a reference for the job, over a GCS connection of its own made
// on first use. Thread-safe. Before the driver's job exists the reference is recorded under the
// nil job; AdoptForJob moves it to the job once registered.
class PackageUploader {
 public:
  PackageUploader(std::string gcs_address, JobId job);
  absl::StatusOr<std::string> Upload(const std::string& path,
                                     const std::vector<std::string>& excludes);
  // Uploads made before the job exists (`job` nil) are referenced by this uploader's own
  // pending owner (runtime_env::NewPendingRefOwner), so concurrent drivers never share a ref.
  // The driver's job now exists: later uploads are referenced by it, and so is `uri` (the job
  // env's package, uploaded before), whose pending reference then goes.
  absl::Status AdoptForJob(const JobId& job, const std::string& uri);
  // The job never came to exist: drops this uploader's pending reference to `uri`, so the
  // package store may collect it.
  absl::Status Abandon(const std::string& uri);
  // A PackFn uploading through `uploader` (kept alive by the function).
  static RuntimeEnvResolver::PackFn AsPackFn(std::shared_ptr<PackageUploader> uploader);

 private:
  absl::StatusOr<gcs::GcsClient*> Client();

  const std::string gcs_address_;
  std::mutex mu_;
  const std::string pending_owner_;
  JobId job_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<gcs::GcsClient> client_ ABSL_GUARDED_BY(mu_);
};

// The info of a resolved spec (null when empty).
RuntimeEnvResolver::Resolved InfoOf(const runtime_env::RuntimeEnvSpec& spec);

// The job env text a driver starts with: `config_json` (RayConfig::runtime_env or
// --ray_runtime_env) merged over MORAY_JOB_RUNTIME_ENV (`env_json`, the job supervisor's).
absl::StatusOr<runtime_env::RuntimeEnvSpec> JobEnvOf(const std::string& env_json,
                                                     const std::string& config_json);

}  // namespace moray::api
