#include "raylet/package_fetcher.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "gcs/gcs_client.h"
#include "runtime_env/package.h"
#include "runtime_env/package_store.h"

namespace moray::raylet {
namespace {

// The GCS connection, made on first use and kept.
class Connection {
 public:
  explicit Connection(std::string address) : address_(std::move(address)) {}

  absl::StatusOr<gcs::GcsClient*> Get() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!client_) {
      auto client = gcs::GcsClient::Connect(address_, absl::Seconds(10));
      if (!client.ok()) return client.status();
      client_ = *std::move(client);
    }
    return client_.get();
  }

 private:
  const std::string address_;
  std::mutex mu_;
  std::unique_ptr<gcs::GcsClient> client_;
};

}  // namespace

FetchPackageFn MakePackageFetcher(std::string gcs_address) {
  auto connection = std::make_shared<Connection>(std::move(gcs_address));
  return [connection](const std::string& uri, const std::string& dest_dir,
                      const std::function<bool()>& cancelled) -> absl::Status {
    std::optional<std::string> hash = runtime_env::HashOfUri(uri);
    if (!hash) return absl::InvalidArgumentError(absl::StrCat("'", uri, "' is not a package URI"));
    absl::StatusOr<gcs::GcsClient*> client = connection->Get();
    if (!client.ok()) return client.status();
    runtime_env::GcsKvAccess kv(*client);
    // An upload still under way has no meta yet: wait for it (back-off up to 1 s) until the
    // agent gives up (the env's setup timeout, or the raylet stopping).
    absl::Duration wait = absl::Milliseconds(50);
    while (true) {
      absl::StatusOr<bool> has = runtime_env::HasPackage(kv, *hash);
      if (!has.ok()) return has.status();
      if (*has) break;
      if (cancelled()) {
        return absl::NotFoundError(absl::StrCat("package ", uri, " is not (yet) in the store"));
      }
      absl::SleepFor(wait);
      wait = std::min(wait * 2, absl::Seconds(1));
    }
    // Unique per download: two envs with the same working_dir may fetch it at once.
    const std::string archive = absl::StrCat(dest_dir, ".download.", ToHex(RandomBytes(8)));
    absl::Status status = runtime_env::DownloadPackage(kv, *hash, archive);
    if (status.ok() && !cancelled()) status = runtime_env::UnpackArchiveFile(archive, dest_dir);
    std::error_code ec;
    std::filesystem::remove(archive, ec);
    if (status.ok() && cancelled()) return absl::CancelledError("cancelled");
    return status;
  };
}

}  // namespace moray::raylet
