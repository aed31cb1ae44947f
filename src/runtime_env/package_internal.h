// Helpers shared by the package sources (package.cc, pack_directory.cc, unpack*.cc,
// package_store.cc); not part of the API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace moray::runtime_env {

// Abseil here is built with its own string_view (not std's): what absl::StrCat and friends take.
inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// absl::StrCat that also takes std::string_view.
template <typename T>
decltype(auto) AbslArg(const T& v) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return Sv(v);
  } else {
    return (v);
  }
}
template <typename... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(AbslArg(args)...);
}

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view bytes);
  std::string HexDigest();  // once

 private:
  EVP_MD_CTX* ctx_;
};

// "<what> <path>: <strerror>" with a canonical code for `err` (NotFound, PermissionDenied,
// Internal).
absl::Status ErrnoStatus(int err, std::string_view what, std::string_view path);

// "612.3 MiB".
std::string MiB(uint64_t bytes);

// A whole file; ResourceExhausted naming it when larger than max_bytes.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes);

}  // namespace moray::runtime_env
