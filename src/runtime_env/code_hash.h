// What a driver's code is, as content: the SHA-256 of its executable and of its code-search-path
// libraries, described as proto::CodeFile records for its JobInfo (docs/runtime_env.md, "Shipped
// code"). Hashing a large binary costs time, so each hash is remembered per machine under the
// file's stat identity (device, inode, size, mtime in ns): a rerun of an unchanged program does not
// hash again, and a rebuilt one (new inode or mtime) is hashed afresh.
//
//   std::string dir = CodeHashCacheDir();                 // $MORAY_TMPDIR/code_hashes
//   absl::StatusOr<proto::CodeFile> exe = DescribeCodeFile("/proc/self/exe", CodeFile::EXECUTABLE,
//                                                          dir);
//   absl::StatusOr<std::vector<std::string>> libs = LibraryFiles({"/opt/app/lib", "/x/f.so"});
//
// Thread model: free functions, safe from any thread; concurrent processes may share the cache
// directory (entries are written to a temporary file and renamed).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gcs.pb.h"

namespace moray::runtime_env {

// <SessionRoot()>/code_hashes, created if missing.
std::string CodeHashCacheDir();

// The SHA-256 (lowercase hex) of the file at `path` (followed if a link: "/proc/self/exe" is the
// running inode even if its path was deleted or rebuilt). Looked up in, and recorded to,
// `cache_dir` by stat identity; an empty `cache_dir` always hashes. NotFound / PermissionDenied
// etc. from the file system.
[[nodiscard]] absl::StatusOr<std::string> CachedSha256(const std::string& path,
                                                       const std::string& cache_dir);

// A CodeFile for the file at `path`: its hash (CachedSha256), size, basename and kind. `name`
// overrides the basename (the executable is described from /proc/self/exe, named after the
// program's real path). original_path is `path` unless `original_path` is given.
[[nodiscard]] absl::StatusOr<proto::CodeFile> DescribeCodeFile(
    const std::string& path, proto::CodeFile::Kind kind, const std::string& cache_dir,
    const std::string& name = "", const std::string& original_path = "");

// The library files a code search path means, as the `moray worker` loader reads it: a directory
// entry is the `.so` files directly inside it (sorted), any other entry the file itself.
// NotFound naming the entry if it does not exist.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> LibraryFiles(
    const std::vector<std::string>& search_path);

// Whether `hash` is 64 lowercase hex digits and `name` a plain file name (no '/', not "." or
// ".."): what a node accepts before it builds a cache path from them.
bool IsValidCodeFile(const proto::CodeFile& code);

}  // namespace moray::runtime_env
