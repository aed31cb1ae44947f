// The package store: packages (package.h) and shipped code in the GCS KV, namespace "packages".
//
//   Layout                      value
//   <hash>/<n>                  chunk n (0, 1, ...) of the bytes, kPackageChunkBytes each
//   <hash>/meta                 "size=<bytes>\nchunks=<n>\nformat=<fmt>\n", written LAST: a
//                               reader that sees meta sees every chunk
//   refs/<hash>/<owner>         "" : <owner> uses the package. Owners: a job's hex id (src/gcs/
//                               package_gc.h deletes the job's refs when it finishes, then
//                               unreferenced packages); sub-<submission id> (a submitted job,
//                               dropped by the job supervisor when it ends); pending-<random>
//                               (an upload whose job does not exist yet, dropped by its uploader
//                               once the real owner's ref is recorded). Deleting a ref through
//                               the GCS starts a collection.
//   index/<hash>                "" : the package exists or is being written (what the GC sweeps;
//                               a prefix scan here never reads chunk bytes)
//
//   GcsKvAccess kv(gcs_client);
//   absl::Status s = UploadPackage(kv, *package, job_id);   // once per hash; ref always recorded
//   s = DownloadPackage(kv, hash, "/cache/pkg/<hash>.tar.gz");  // verified before it is renamed
//
// No KV message is larger than one chunk: uploads and downloads stream through files.
//
// Thread model: free functions; thread-safe if the KvAccess is (GcsKvAccess is, as GcsClient
// is). They block (never call them on an event loop).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/id.h"
#include "runtime_env/package.h"

namespace moray::gcs {
class GcsClient;
}

namespace moray::runtime_env {

inline constexpr std::string_view kPackageNamespace = "packages";
inline constexpr uint64_t kPackageChunkBytes = 4ull << 20;  // 4 MiB

// The key-value operations the store needs, so tests use a fake and callers wrap their own GCS
// connection. Same semantics as gcs::KvStore: Put returns whether the key was new (an existing
// value is replaced only when `overwrite`); Get nullopt when absent; Del the number deleted
// (every key starting with `key` when `by_prefix`); Keys sorted.
class KvAccess {
 public:
  virtual ~KvAccess() = default;
  virtual absl::StatusOr<bool> Put(std::string_view ns, std::string_view key,
                                   std::string_view value, bool overwrite) = 0;
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                         std::string_view key) = 0;
  virtual absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key,
                                      bool by_prefix) = 0;
  virtual absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns,
                                                        std::string_view prefix) = 0;
};

// KvAccess over a GcsClient (borrowed; must outlive this).
class GcsKvAccess : public KvAccess {
 public:
  explicit GcsKvAccess(gcs::GcsClient* client) : client_(client) {}
  absl::StatusOr<bool> Put(std::string_view ns, std::string_view key, std::string_view value,
                           bool overwrite) override;
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override;
  absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key, bool by_prefix) override;
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns,
                                                std::string_view prefix) override;

 private:
  gcs::GcsClient* client_;
};

// What <hash>/meta says.
struct PackageMeta {
  uint64_t size = 0;
  uint64_t chunks = 0;
  std::string format;
};
std::string EncodePackageMeta(const PackageMeta& meta);
std::optional<PackageMeta> DecodePackageMeta(std::string_view text);

// The keys of the layout above.
std::string PackageChunkKey(std::string_view hash, uint64_t n);
std::string PackageMetaKey(std::string_view hash);
std::string PackageRefKey(std::string_view hash, std::string_view owner);
std::string PackageRefKey(std::string_view hash, const JobId& job);  // owner: the job's hex
// The owner a job submission's ref names: "sub-<submission id>".
std::string SubmissionRefOwner(std::string_view submission_id);
// A fresh owner for an upload made before its job exists: "pending-<16 random hex digits>", so
// two uploaders never share (and never drop) each other's ref.
std::string NewPendingRefOwner();
std::string PackageIndexKey(std::string_view hash);

// Whether <hash>/meta exists (the package is complete).
[[nodiscard]] absl::StatusOr<bool> HasPackage(KvAccess& kv, std::string_view hash);
// Its meta; NotFound "package <hash> is not in the package store" when absent.
[[nodiscard]] absl::StatusOr<PackageMeta> GetPackageMeta(KvAccess& kv, std::string_view hash);

// Records job's ref, then writes the chunks and the meta unless the meta exists already.
[[nodiscard]] absl::Status UploadPackage(KvAccess& kv, const Package& package, const JobId& job);
[[nodiscard]] absl::Status UploadPackage(KvAccess& kv, const Package& package,
                                         std::string_view owner);

// The same from a file of any size, read one chunk at a time. `hash` is the file's SHA-256 hex
// (the caller knows it; it is not recomputed). `format` as Package::format ("tar.gz", "zip", or
// what shipped code uses, e.g. "exe").
[[nodiscard]] absl::Status UploadFile(KvAccess& kv, std::string_view hash, const std::string& path,
                                      std::string_view format, const JobId& job);

// Fetches the package chunk by chunk into `dest_file` + ".tmp.<random>" (its directory must
// exist), checks its size and SHA-256, then renames it to `dest_file` (replacing one there). NotFound when there is no meta; DataLoss naming the
// hash when a chunk is missing or the bytes do not hash to `hash`.
[[nodiscard]] absl::Status DownloadPackage(KvAccess& kv, std::string_view hash,
                                           const std::string& dest_file);

// Records refs/<hash>/<owner> (idempotent).
[[nodiscard]] absl::Status AddPackageRef(KvAccess& kv, std::string_view hash, const JobId& job);
[[nodiscard]] absl::Status AddPackageRef(KvAccess& kv, std::string_view hash,
                                         std::string_view owner);
// Deletes refs/<hash>/<owner> (idempotent); through the GCS this starts a collection, which
// deletes the package if no other ref names it.
[[nodiscard]] absl::Status DropPackageRef(KvAccess& kv, std::string_view hash,
                                          std::string_view owner);

}  // namespace moray::runtime_env
