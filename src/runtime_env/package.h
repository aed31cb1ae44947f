// Packages: a working directory (or a .zip / .tar.gz file) turned into bytes with a content id,
// and back into a directory on a node (docs/runtime_env.md, "Packages").
//
//   auto pkg = PackWorkingDir("/home/me/proj", {"*.log", "build/"}, DefaultMaxPackageBytes());
//   if (!pkg.ok()) { ...message names the path and why ("working_dir /x does not exist")... }
//   std::string uri = PackageUri(pkg->hash);            // "pkg://<sha256 hex>"
//   ...upload (package_store.h), then on a node:
//   absl::Status s = UnpackArchive(pkg->bytes, "/cache/pkg/" + pkg->hash);
//
// Packing a directory is deterministic: the same tree gives the same bytes (and id) on every
// machine, whatever the files' mtimes, owners or the order readdir returns them in.
//
// Thread model: free functions without shared state; safe from any thread. UnpackArchive may run
// concurrently for the same destination (one wins, the others see it done).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moray::runtime_env {

struct Package {
  std::string hash;    // SHA-256 of `bytes`, lower-case hex (64 characters)
  std::string format;  // "tar.gz" or "zip"
  std::string bytes;   // the archive
};

// A directory as a deterministic tar.gz: ustar entries sorted by path; mtime, uid, gid and owner
// names zeroed; permission bits kept; symlinks kept as links (never followed); empty directories
// kept. Left out: what `excludes` (gitignore patterns, relative to `dir`) or a `.gitignore` /
// `.rayignore` in the tree (applying below its own directory) ignores; see ignore_rules.h.
// Errors: NotFound / InvalidArgument for a path that is missing or not a directory;
// ResourceExhausted when the files alone or the archive exceed `max_bytes` ("working_dir /x packs
// to 612.3 MiB, over the 500.0 MiB limit"); Internal/PermissionDenied naming the file that could
// not be read. Sockets, fifos and devices are skipped.
[[nodiscard]] absl::StatusOr<Package> PackDirectory(const std::string& dir,
                                                    const std::vector<std::string>& excludes,
                                                    uint64_t max_bytes);

// A .zip, .tar.gz or .tgz file taken as is (its bytes hashed). InvalidArgument for another
// suffix; ResourceExhausted over `max_bytes`; NotFound when missing.
[[nodiscard]] absl::StatusOr<Package> PackageFromArchive(const std::string& path,
                                                         uint64_t max_bytes);

// A directory -> PackDirectory; a file -> PackageFromArchive; missing -> NotFound
// "working_dir /x does not exist".
[[nodiscard]] absl::StatusOr<Package> PackWorkingDir(const std::string& path,
                                                     const std::vector<std::string>& excludes,
                                                     uint64_t max_bytes);

// Unpacks a tar.gz or zip (told apart by their magic bytes) into `dest_dir`: first into a fresh
// directory beside it, renamed into place when complete, so `dest_dir` either does not exist or
// is complete. If `dest_dir` already exists the call succeeds without unpacking (another caller
// finished first). Entries that would land outside the directory (`..`, absolute paths, links
// pointing outside) make the whole unpack fail with InvalidArgument. An archive whose entries all
// sit under one top-level directory unpacks as is (that directory stays; no stripping), so a
// package means the same whichever way it was made.
[[nodiscard]] absl::Status UnpackArchive(std::string_view bytes, const std::string& dest_dir);
// The same from a file (read whole; packages are bounded by the package limit).
[[nodiscard]] absl::Status UnpackArchiveFile(const std::string& archive_path,
                                             const std::string& dest_dir);

// "pkg://<hash>" and back (nullopt unless `uri` is "pkg://" followed by 64 hex digits).
std::string PackageUri(std::string_view hash);
std::optional<std::string> HashOfUri(std::string_view uri);

// 500 MiB, or MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES when it holds a positive integer (a malformed
// value is logged once and the default used).
uint64_t DefaultMaxPackageBytes();

// SHA-256 as lower-case hex.
std::string Sha256Hex(std::string_view bytes);
// Of a file, read in pieces (any size). NotFound / PermissionDenied / Internal naming the path.
[[nodiscard]] absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace moray::runtime_env
