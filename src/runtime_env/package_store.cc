#include "runtime_env/package_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/id.h"
#include "gcs/gcs_client.h"
#include "runtime_env/package_internal.h"

namespace moray::runtime_env {
namespace {

constexpr std::string_view kNs = kPackageNamespace;

absl::Status WithContext(const absl::Status& s, std::string_view context) {
  return absl::Status(s.code(), Cat(context, ": ", s.message()));
}

// Writes the chunks of one package from `next_chunk` (which fills its argument with up to a
// chunk and returns the bytes read), then its meta. The caller has recorded the ref.
template <typename NextChunk>
absl::Status WriteChunks(KvAccess& kv, std::string_view hash, uint64_t size,
                         std::string_view format, NextChunk next_chunk) {
  if (auto s = kv.Put(kNs, PackageIndexKey(hash), "", /*overwrite=*/true); !s.ok()) {
    return WithContext(s.status(), Cat("uploading package ", hash));
  }
  const uint64_t chunks = (size + kPackageChunkBytes - 1) / kPackageChunkBytes;
  std::string chunk;
  for (uint64_t n = 0; n < chunks; ++n) {
    auto got = next_chunk(chunk);
    if (!got.ok()) return got.status();
    const uint64_t expected = std::min<uint64_t>(kPackageChunkBytes, size - n * kPackageChunkBytes);
    if (*got != expected) {
      return absl::FailedPreconditionError(
          Cat("uploading package ", hash, ": its source changed size while uploading"));
    }
    // Overwrite: a partial upload by someone who died may have left chunks behind.
    if (auto s = kv.Put(kNs, PackageChunkKey(hash, n), chunk, /*overwrite=*/true); !s.ok()) {
      return WithContext(s.status(), Cat("uploading chunk ", n, " of package ", hash));
    }
  }
  PackageMeta meta{size, chunks, std::string(format)};
  if (auto s = kv.Put(kNs, PackageMetaKey(hash), EncodePackageMeta(meta), /*overwrite=*/true);
      !s.ok()) {
    return WithContext(s.status(), Cat("uploading package ", hash));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<bool> GcsKvAccess::Put(std::string_view ns, std::string_view key,
                                      std::string_view value, bool overwrite) {
  return client_->KvPut(ns, key, value, overwrite);
}
absl::StatusOr<std::optional<std::string>> GcsKvAccess::Get(std::string_view ns,
                                                            std::string_view key) {
  return client_->KvGet(ns, key);
}
absl::StatusOr<int64_t> GcsKvAccess::Del(std::string_view ns, std::string_view key,
                                         bool by_prefix) {
  return client_->KvDel(ns, key, by_prefix);
}
absl::StatusOr<std::vector<std::string>> GcsKvAccess::Keys(std::string_view ns,
                                                           std::string_view prefix) {
  return client_->KvKeys(ns, prefix);
}

std::string EncodePackageMeta(const PackageMeta& meta) {
  return Cat("size=", meta.size, "\nchunks=", meta.chunks, "\nformat=", meta.format, "\n");
}

std::optional<PackageMeta> DecodePackageMeta(std::string_view text) {
  PackageMeta meta;
  bool size = false, chunks = false;
  for (absl::string_view line : absl::StrSplit(Sv(text), '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    if (kv.first == "size") {
      size = absl::SimpleAtoi(kv.second, &meta.size);
    } else if (kv.first == "chunks") {
      chunks = absl::SimpleAtoi(kv.second, &meta.chunks);
    } else if (kv.first == "format") {
      meta.format = std::string(kv.second);
    }  // unknown keys: a later version's additions
  }
  if (!size || !chunks) return std::nullopt;
  if (meta.chunks != (meta.size + kPackageChunkBytes - 1) / kPackageChunkBytes) return std::nullopt;
  return meta;
}

std::string PackageChunkKey(std::string_view hash, uint64_t n) { return Cat(hash, "/", n); }
std::string PackageMetaKey(std::string_view hash) { return Cat(hash, "/meta"); }
std::string PackageRefKey(std::string_view hash, std::string_view owner) {
  return Cat("refs/", hash, "/", owner);
}
std::string PackageRefKey(std::string_view hash, const JobId& job) {
  return PackageRefKey(hash, job.Hex());
}
std::string SubmissionRefOwner(std::string_view submission_id) {
  return Cat("sub-", submission_id);
}
std::string NewPendingRefOwner() { return Cat("pending-", ToHex(RandomBytes(8))); }
std::string PackageIndexKey(std::string_view hash) { return Cat("index/", hash); }

absl::StatusOr<bool> HasPackage(KvAccess& kv, std::string_view hash) {
  auto meta = kv.Get(kNs, PackageMetaKey(hash));
  if (!meta.ok()) return WithContext(meta.status(), Cat("looking up package ", hash));
  return meta->has_value();
}

absl::StatusOr<PackageMeta> GetPackageMeta(KvAccess& kv, std::string_view hash) {
  auto text = kv.Get(kNs, PackageMetaKey(hash));
  if (!text.ok()) return WithContext(text.status(), Cat("looking up package ", hash));
  if (!text->has_value()) {
    return absl::NotFoundError(Cat("package ", hash, " is not in the package store"));
  }
  auto meta = DecodePackageMeta(**text);
  if (!meta) {
    return absl::DataLossError(Cat("package ", hash, " has a malformed meta record"));
  }
  return *meta;
}

absl::Status AddPackageRef(KvAccess& kv, std::string_view hash, std::string_view owner) {
  auto s = kv.Put(kNs, PackageRefKey(hash, owner), "", /*overwrite=*/true);
  if (!s.ok()) return WithContext(s.status(), Cat("recording a ref to package ", hash));
  return absl::OkStatus();
}
absl::Status AddPackageRef(KvAccess& kv, std::string_view hash, const JobId& job) {
  return AddPackageRef(kv, hash, job.Hex());
}

absl::Status DropPackageRef(KvAccess& kv, std::string_view hash, std::string_view owner) {
  auto s = kv.Del(kNs, PackageRefKey(hash, owner), /*by_prefix=*/false);
  if (!s.ok()) return WithContext(s.status(), Cat("dropping a ref to package ", hash));
  return absl::OkStatus();
}

absl::Status UploadPackage(KvAccess& kv, const Package& package, const JobId& job) {
  return UploadPackage(kv, package, job.Hex());
}

absl::Status UploadPackage(KvAccess& kv, const Package& package, std::string_view owner) {
  // The ref first: from then on the package GC keeps whatever is written for this hash.
  if (auto s = AddPackageRef(kv, package.hash, owner); !s.ok()) return s;
  auto present = HasPackage(kv, package.hash);
  if (!present.ok()) return present.status();
  if (*present) return absl::OkStatus();
  uint64_t offset = 0;
  return WriteChunks(kv, package.hash, package.bytes.size(), package.format,
                     [&](std::string& chunk) -> absl::StatusOr<uint64_t> {
                       chunk.assign(package.bytes, offset, kPackageChunkBytes);
                       offset += chunk.size();
                       return chunk.size();
                     });
}

absl::Status UploadFile(KvAccess& kv, std::string_view hash, const std::string& path,
                        std::string_view format, const JobId& job) {
  if (auto s = AddPackageRef(kv, hash, job); !s.ok()) return s;
  auto present = HasPackage(kv, hash);
  if (!present.ok()) return present.status();
  if (*present) return absl::OkStatus();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "could not open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "could not stat", path);
  }
  absl::Status s = WriteChunks(kv, hash, st.st_size, format,
                               [&](std::string& chunk) -> absl::StatusOr<uint64_t> {
                                 chunk.resize(kPackageChunkBytes);
                                 size_t done = 0;
                                 while (done < chunk.size()) {
                                   ssize_t n = ::read(fd, chunk.data() + done, chunk.size() - done);
                                   if (n < 0 && errno == EINTR) continue;
                                   if (n < 0) return ErrnoStatus(errno, "could not read", path);
                                   if (n == 0) break;
                                   done += n;
                                 }
                                 chunk.resize(done);
                                 return done;
                               });
  ::close(fd);
  return s;
}

absl::Status DownloadPackage(KvAccess& kv, std::string_view hash, const std::string& dest_file) {
  auto meta = GetPackageMeta(kv, hash);
  if (!meta.ok()) return meta.status();
  const std::string tmp = Cat(dest_file, ".tmp.", ToHex(RandomBytes(8)));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "could not create", tmp);
  Sha256 sha;
  absl::Status status;
  uint64_t size = 0;
  for (uint64_t n = 0; n < meta->chunks && status.ok(); ++n) {
    auto chunk = kv.Get(kNs, PackageChunkKey(hash, n));
    if (!chunk.ok()) {
      status = WithContext(chunk.status(), Cat("fetching chunk ", n, " of package ", hash));
      break;
    }
    if (!chunk->has_value()) {
      status =
          absl::DataLossError(Cat("package ", hash, " is incomplete: chunk ", n, " is missing"));
      break;
    }
    const std::string& bytes = **chunk;
    sha.Update(bytes);
    size += bytes.size();
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        status = ErrnoStatus(errno, "could not write", tmp);
        break;
      }
      done += w;
    }
  }
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, "could not write", tmp);
  if (status.ok()) {
    const std::string actual = sha.HexDigest();
    if (size != meta->size || actual != hash) {
      status = absl::DataLossError(Cat("package ", hash, " is corrupt in the package store: its ",
                                       size, " bytes hash to ", actual, " (expected ", meta->size,
                                       " bytes hashing to its id)"));
    }
  }
  if (status.ok() && ::rename(tmp.c_str(), dest_file.c_str()) != 0) {
    status = ErrnoStatus(errno, "could not rename the downloaded package to", dest_file);
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

}  // namespace moray::runtime_env
