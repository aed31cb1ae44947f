// The node's cache of shipped code (docs/runtime_env.md, "Shipped code"): the files a job's
// workers run — the driver's executable, its code-search-path libraries — stored by content under
// `<cache_dir>/code/<sha256>/<name>` (mode 0755). A raylet starts workers only from these copies,
// so a driver binary deleted or rebuilt while its job runs, or a path that does not exist on this
// node, still gives every new worker the code the driver started with.
//
//   absl::StatusOr<std::string> path =
//       EnsureCode(code_file, kv, "/tmp/moray/session_x/runtime_resources",
//                  /*driver_pid_if_local=*/1234, absl::Minutes(10));
//   // path: ".../runtime_resources/code/<sha256>/my_driver"
//
//   absl::StatusOr<PreparedCode> code = PrepareJobCode(job, kv, cache_dir, driver_pid, timeout,
//                                                      "/opt/moray/lib");
//   // code->program: what to exec; code->library_paths: MORAY_CODE_SEARCH_PATH; code->env
//
// Thread model: blocking free functions for a preparation thread (the raylet's runtime env
// agent), never the event loop: EnsureCode may copy or download hundreds of MB and waits for an
// upload still under way. Concurrent calls for the same file (threads or processes) are safe: each
// writes its own temporary file and renames it into place.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gcs.pb.h"
#include "runtime_env/package_store.h"

namespace moray::runtime_env {

// `<cache_dir>/code/<hash>/<name>` of `code`; present already → returned at once. Otherwise the
// file is made from, in order:
//   - `/proc/<driver_pid_if_local>/exe` for an EXECUTABLE when the job's driver runs on this node
//     (pid > 0): the inode the driver is running;
//   - `code.original_path`, if that file exists here;
//   - the package store (`kv`), waiting with back-off for an upload still under way until
//     `timeout` has passed.
// Every copy is written to a temporary file beside the target, its SHA-256 checked against
// `code.hash`, made 0755 and renamed into place; a source whose bytes do not match is skipped.
// Errors: InvalidArgument for a malformed hash or name; NotFound "code <name> (sha256 <hash>) is
// not in the cluster's package store" after `timeout`; Internal for a cache that cannot be written.
[[nodiscard]] absl::StatusOr<std::string> EnsureCode(const proto::CodeFile& code, KvAccess& kv,
                                                     const std::string& cache_dir,
                                                     int driver_pid_if_local,
                                                     absl::Duration timeout);

// What a job's workers run, from the node cache.
struct PreparedCode {
  std::string program;                     // argv[0]; empty: `moray worker` (libraries)
  std::vector<std::string> library_paths;  // the cached libraries, for MORAY_CODE_SEARCH_PATH
  // Extra variables: LD_LIBRARY_PATH=<moray_lib_dir>[:...] when the cached program's RUNPATH
  // would not find libmoray from the cache (an installed program's $ORIGIN/../lib).
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> hashes;  // the cache entries used (for the node's references)
};

// EnsureCode for every file of `job.code()` (all within `timeout`). `moray_lib_dir` is the
// directory of the libmoray this raylet runs (MorayLibraryDir()); "" skips the RUNPATH check.
// FailedPrecondition if the job carries no code.
[[nodiscard]] absl::StatusOr<PreparedCode> PrepareJobCode(const proto::JobInfo& job, KvAccess& kv,
                                                          const std::string& cache_dir,
                                                          int driver_pid_if_local,
                                                          absl::Duration timeout,
                                                          const std::string& moray_lib_dir);

// Deletes `<cache_dir>/code/<hash>` (its last job left the node). Missing: nothing.
void RemoveCachedCode(const std::string& cache_dir, const std::string& hash);

// The directory holding the libmoray.so this process runs ("" if it cannot be told).
std::string MorayLibraryDir();

}  // namespace moray::runtime_env
