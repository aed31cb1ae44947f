// The driver's half of shipped code (docs/runtime_env.md, "Shipped code"): at ray::Init in
// cluster mode the driver describes its code — the executable it runs (/proc/self/exe) or, with a
// code search path, the libraries `moray worker` will load — as JobInfo.code, and puts the files
// the package store lacks there, so every node can run the job's workers from its own cache.
//
//   std::vector<proto::CodeFile> code = DescribeDriverCode(config.code_search_path);
//   job->mutable_code()->Assign(code.begin(), code.end());
//   ... the job is registered (its id known) ...
//   absl::StatusOr<std::unique_ptr<CodeUpload>> upload =
//       CodeUpload::Start(gcs_address, job_id, code);   // libraries uploaded when this returns
//   // the executable uploads on a background thread; destroying `upload` stops it.
//
// Thread model: Start blocks the caller for the libraries; one background thread per CodeUpload
// for the executable. Destruction cancels it between chunks and joins it.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "common/id.h"
#include "gcs.pb.h"

namespace moray::gcs {
class GcsClient;
}

namespace moray::api {

// JobInfo.code for this process: the executable (named after its path, hashed from
// /proc/self/exe) when `code_search_path` is empty, else each library file it means. Hashes are
// cached per machine ($MORAY_TMPDIR/code_hashes). If the code cannot be described (a path
// missing, unreadable) the reason is logged and the result is empty: the job then runs its workers
// from the paths, as before shipped code.
std::vector<proto::CodeFile> DescribeDriverCode(const std::vector<std::string>& code_search_path);

class CodeUpload {
 public:
  // Uploads every LIBRARY of `code` the store lacks (recording `job`'s reference to each) over a
  // connection of its own to the GCS at `gcs_address`, then starts the EXECUTABLE's upload (its
  // connect included) on a background thread, read from /proc/self/exe. An error: a library
  // could not be uploaded.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CodeUpload>> Start(
      const std::string& gcs_address, const JobId& job, const std::vector<proto::CodeFile>& code);
  ~CodeUpload();
  CodeUpload(const CodeUpload&) = delete;
  CodeUpload& operator=(const CodeUpload&) = delete;

  // Waits for the background upload (OK at once if there is none); its result.
  absl::Status Wait();

 private:
  CodeUpload() = default;
  void UploadExecutable(proto::CodeFile exe, JobId job, std::string gcs_address);

  std::unique_ptr<gcs::GcsClient> gcs_;
  std::atomic<bool> cancelled_{false};
  absl::Status background_status_;  // written by the thread before `done_`
  absl::Notification done_;
  std::thread thread_;
};

}  // namespace moray::api
