#include "jobs/working_dir.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "runtime_env/package.h"
#include "runtime_env/package_store.h"

namespace moray::jobs {
namespace fs = std::filesystem;

absl::StatusOr<std::string> FetchWorkingDir(gcs::GcsClient& gcs, const std::string& uri,
                                            const std::string& cache_root) {
  std::optional<std::string> hash = runtime_env::HashOfUri(uri);
  if (!hash) {
    return absl::InvalidArgumentError(absl::StrCat("'", uri, "' is not a pkg://<sha256> URI"));
  }
  const std::string dir = absl::StrCat(cache_root, "/", *hash);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return dir;  // unpacked before (UnpackArchive is all or nothing)
  fs::create_directories(cache_root, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ", cache_root, ": ", ec.message()));
  }
  runtime_env::GcsKvAccess kv(&gcs);
  const std::string archive = absl::StrCat(dir, ".archive");
  if (auto got = runtime_env::DownloadPackage(kv, *hash, archive); !got.ok()) return got;
  absl::Status unpacked = runtime_env::UnpackArchiveFile(archive, dir);
  fs::remove(archive, ec);
  if (!unpacked.ok()) return unpacked;
  return dir;
}

}  // namespace moray::jobs
