#include "api/runtime_env_resolver.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gcs/gcs_client.h"
#include "runtime_env/package.h"
#include "runtime_env/package_store.h"

namespace moray::api {

using runtime_env::RuntimeEnvSpec;

RuntimeEnvResolver::Resolved InfoOf(const RuntimeEnvSpec& spec) {
  if (spec.Empty()) return nullptr;
  auto info = std::make_shared<proto::RuntimeEnvInfo>();
  info->set_json(spec.Serialize());
  info->set_hash(runtime_env::HashOfCanonical(info->json()));
  return info;
}

RuntimeEnvResolver::RuntimeEnvResolver(RuntimeEnvSpec base, PackFn pack)
    : base_(std::move(base)), base_info_(InfoOf(base_)), pack_(std::move(pack)) {}

absl::StatusOr<RuntimeEnvResolver::Resolved> RuntimeEnvResolver::Resolve(
    const std::string& child_json) {
  if (child_json.empty() || child_json == "{}") return base_info_;  // the common case: no work
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_text_.find(child_json);
    if (it != by_text_.end()) return it->second;
  }
  absl::StatusOr<RuntimeEnvSpec> child = RuntimeEnvSpec::Parse(child_json);
  if (!child.ok()) return child.status();
  absl::StatusOr<RuntimeEnvSpec> merged = ResolvePaths(RuntimeEnvSpec::Merge(base_, *child));
  if (!merged.ok()) return merged.status();
  Resolved info = InfoOf(*merged);
  std::lock_guard<std::mutex> lock(mu_);
  if (by_text_.size() >= 1024) by_text_.clear();  // bounded; a miss only re-merges
  by_text_[child_json] = info;
  return info;
}

absl::StatusOr<RuntimeEnvSpec> RuntimeEnvResolver::ResolvePaths(RuntimeEnvSpec spec) {
  if (!spec.working_dir || absl::StartsWith(*spec.working_dir, "pkg://")) return spec;
  if (!pack_) {
    return absl::InvalidArgumentError(
        absl::StrCat("runtime env working_dir '", *spec.working_dir,
                     "' cannot be used here (local mode runs tasks in the driver's process)"));
  }
  std::error_code ec;
  const std::string path =
      std::filesystem::absolute(*spec.working_dir, ec).lexically_normal().string();
  if (ec || !std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(
        absl::StrCat("runtime env working_dir '", *spec.working_dir, "' does not exist"));
  }
  absl::StatusOr<std::string> uri =
      PackCached(path, spec.excludes.value_or(std::vector<std::string>{}));
  if (!uri.ok()) return uri.status();
  spec.working_dir = *uri;
  spec.excludes.reset();  // applied: the package is the directory without them
  return spec;
}

absl::StatusOr<std::string> RuntimeEnvResolver::PackCached(
    const std::string& path, const std::vector<std::string>& excludes) {
  auto key = std::make_pair(path, excludes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = packed_.find(key);
    if (it != packed_.end()) return it->second;
  }
  // Packed outside the lock: other submissions go on meanwhile (two threads packing the same
  // directory at once both upload; the store keeps one copy).
  absl::StatusOr<std::string> uri = pack_(path, excludes);
  if (!uri.ok()) return uri.status();
  std::lock_guard<std::mutex> lock(mu_);
  packed_[key] = *uri;
  return uri;
}

PackageUploader::PackageUploader(std::string gcs_address, JobId job)
    : gcs_address_(std::move(gcs_address)),
      pending_owner_(runtime_env::NewPendingRefOwner()),
      job_(job) {}

absl::StatusOr<gcs::GcsClient*> PackageUploader::Client() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!client_) {
    auto client = gcs::GcsClient::Connect(gcs_address_, absl::Seconds(10));
    if (!client.ok()) return client.status();
    client_ = *std::move(client);
  }
  return client_.get();
}

absl::StatusOr<std::string> PackageUploader::Upload(const std::string& path,
                                                    const std::vector<std::string>& excludes) {
  absl::StatusOr<runtime_env::Package> package =
      runtime_env::PackWorkingDir(path, excludes, runtime_env::DefaultMaxPackageBytes());
  if (!package.ok()) return package.status();
  absl::StatusOr<gcs::GcsClient*> client = Client();
  if (!client.ok()) return client.status();
  runtime_env::GcsKvAccess kv(*client);
  JobId job;
  {
    std::lock_guard<std::mutex> lock(mu_);
    job = job_;
  }
  const std::string owner = job.IsNil() ? pending_owner_ : job.Hex();
  if (absl::Status s = runtime_env::UploadPackage(kv, *package, owner); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("could not upload working_dir ", path, ": ", s.message()));
  }
  return runtime_env::PackageUri(package->hash);
}

absl::Status PackageUploader::AdoptForJob(const JobId& job, const std::string& uri) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = job;
  }
  std::optional<std::string> hash = runtime_env::HashOfUri(uri);
  if (!hash) return absl::OkStatus();
  absl::StatusOr<gcs::GcsClient*> client = Client();
  if (!client.ok()) return client.status();
  runtime_env::GcsKvAccess kv(*client);
  if (absl::Status s = runtime_env::AddPackageRef(kv, *hash, job); !s.ok()) return s;
  return runtime_env::DropPackageRef(kv, *hash, pending_owner_);
}

absl::Status PackageUploader::Abandon(const std::string& uri) {
  std::optional<std::string> hash = runtime_env::HashOfUri(uri);
  if (!hash) return absl::OkStatus();
  absl::StatusOr<gcs::GcsClient*> client = Client();
  if (!client.ok()) return client.status();
  runtime_env::GcsKvAccess kv(*client);
  return runtime_env::DropPackageRef(kv, *hash, pending_owner_);
}

RuntimeEnvResolver::PackFn PackageUploader::AsPackFn(std::shared_ptr<PackageUploader> uploader) {
  return [uploader](const std::string& path, const std::vector<std::string>& excludes) {
    return uploader->Upload(path, excludes);
  };
}

absl::StatusOr<RuntimeEnvSpec> JobEnvOf(const std::string& env_json,
                                        const std::string& config_json) {
  absl::StatusOr<RuntimeEnvSpec> from_env = RuntimeEnvSpec::Parse(env_json);
  if (!from_env.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("MORAY_JOB_RUNTIME_ENV: ", from_env.status().message()));
  }
  absl::StatusOr<RuntimeEnvSpec> from_config = RuntimeEnvSpec::Parse(config_json);
  if (!from_config.ok()) return from_config.status();
  return RuntimeEnvSpec::Merge(*from_env, *from_config);
}

}  // namespace moray::api
