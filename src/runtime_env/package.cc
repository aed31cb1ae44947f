// Package ids, URIs, the size limit, archives taken as is, and the working_dir dispatch.
// PackDirectory is in pack_directory.cc, the unpackers in unpack.cc.
#include "runtime_env/package.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime_env/package_internal.h"
#include "spdlog/spdlog.h"

namespace moray::runtime_env {
namespace {

constexpr std::string_view kUriScheme = "pkg://";
constexpr uint64_t kDefaultMaxPackageBytes = 500ull << 20;

std::string Hex(const unsigned char* bytes, unsigned len) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(2 * len, '\0');
  for (unsigned i = 0; i < len; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }
void Sha256::Update(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }
std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_, digest, &len);
  return Hex(digest, len);
}

absl::Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  std::string message = Cat(what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

std::string MiB(uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "could not open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "could not stat", path);
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return absl::ResourceExhaustedError(Cat("working_dir ", path, " is ", MiB(st.st_size),
                                            ", over the ", MiB(max_bytes), " limit"));
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "could not read", path);
    }
    if (n == 0) break;
    done += n;
  }
  ::close(fd);
  out.resize(done);
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return sha.HexDigest();
}

absl::StatusOr<std::string> Sha256OfFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "could not open", path);
  Sha256 sha;
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "could not read", path);
    }
    if (n == 0) break;
    sha.Update(std::string_view(buf.data(), n));
  }
  ::close(fd);
  return sha.HexDigest();
}

std::string PackageUri(std::string_view hash) { return Cat(kUriScheme, hash); }

std::optional<std::string> HashOfUri(std::string_view uri) {
  if (uri.substr(0, kUriScheme.size()) != kUriScheme) return std::nullopt;
  std::string_view hash = uri.substr(kUriScheme.size());
  if (hash.size() != 64) return std::nullopt;
  for (char c : hash) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return std::nullopt;
  }
  return std::string(hash);
}

uint64_t DefaultMaxPackageBytes() {
  const char* value = std::getenv("MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES");
  if (value == nullptr || *value == '\0') return kDefaultMaxPackageBytes;
  uint64_t parsed = 0;
  if (absl::SimpleAtoi(Sv(value), &parsed) && parsed > 0) return parsed;
  static std::once_flag logged;
  std::call_once(logged, [&] {
    spdlog::warn(
        "MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES={} is not a positive number of bytes; "
        "using the default {}",
        value, kDefaultMaxPackageBytes);
  });
  return kDefaultMaxPackageBytes;
}

absl::StatusOr<Package> PackageFromArchive(const std::string& path, uint64_t max_bytes) {
  Package package;
  if (absl::EndsWith(path, ".zip")) {
    package.format = "zip";
  } else if (absl::EndsWith(path, ".tar.gz") || absl::EndsWith(path, ".tgz")) {
    package.format = "tar.gz";
  } else {
    return absl::InvalidArgumentError(
        Cat("working_dir ", path, " is a file but not a .zip, .tar.gz or .tgz archive"));
  }
  auto bytes = ReadWholeFile(path, max_bytes);
  if (!bytes.ok()) return bytes.status();
  package.bytes = *std::move(bytes);
  package.hash = Sha256Hex(package.bytes);
  return package;
}

absl::StatusOr<Package> PackWorkingDir(const std::string& path,
                                       const std::vector<std::string>& excludes,
                                       uint64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(Cat("working_dir ", path, " does not exist"));
    }
    return ErrnoStatus(errno, "could not stat working_dir", path);
  }
  if (S_ISDIR(st.st_mode)) return PackDirectory(path, excludes, max_bytes);
  if (S_ISREG(st.st_mode)) return PackageFromArchive(path, max_bytes);
  return absl::InvalidArgumentError(
      Cat("working_dir ", path, " is neither a directory nor a file"));
}

}  // namespace moray::runtime_env
