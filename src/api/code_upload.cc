#include "api/code_upload.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gcs/gcs_client.h"
#include "runtime_env/code_hash.h"
#include "runtime_env/package_store.h"
#include "spdlog/spdlog.h"

namespace moray::api {
namespace {

constexpr const char* kSelfExe = "/proc/self/exe";

// The package store over the upload's GCS client, refusing further calls once cancelled: a
// driver shutting down stops its background upload at the next chunk.
class CancellableKv : public runtime_env::KvAccess {
 public:
  CancellableKv(gcs::GcsClient* client, const std::atomic<bool>* cancelled)
      : kv_(client), cancelled_(cancelled) {}
  absl::StatusOr<bool> Put(std::string_view ns, std::string_view key, std::string_view value,
                           bool overwrite) override {
    if (*cancelled_) return Cancelled();
    return kv_.Put(ns, key, value, overwrite);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    if (*cancelled_) return Cancelled();
    return kv_.Get(ns, key);
  }
  absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key, bool by_prefix) override {
    if (*cancelled_) return Cancelled();
    return kv_.Del(ns, key, by_prefix);
  }
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns,
                                                std::string_view prefix) override {
    if (*cancelled_) return Cancelled();
    return kv_.Keys(ns, prefix);
  }

 private:
  static absl::Status Cancelled() { return absl::CancelledError("the driver is shutting down"); }
  runtime_env::GcsKvAccess kv_;
  const std::atomic<bool>* cancelled_;
};

const char* FormatOf(const proto::CodeFile& code) {
  return code.kind() == proto::CodeFile::EXECUTABLE ? "exe" : "so";
}

}  // namespace

std::vector<proto::CodeFile> DescribeDriverCode(const std::vector<std::string>& code_search_path) {
  namespace rt = runtime_env;
  const std::string cache = rt::CodeHashCacheDir();
  std::vector<proto::CodeFile> code;
  absl::Status status;
  if (code_search_path.empty()) {
    std::error_code ec;
    const std::string path = std::filesystem::read_symlink(kSelfExe, ec).string();
    // A deleted or replaced file reads "<path> (deleted)": the name is only the cache's file name.
    std::string name = std::filesystem::path(path).filename().string();
    if (const auto cut = name.find(" (deleted)"); cut != std::string::npos) name.resize(cut);
    absl::StatusOr<proto::CodeFile> exe = rt::DescribeCodeFile(
        kSelfExe, proto::CodeFile::EXECUTABLE, cache, name.empty() ? "driver" : name, path);
    if (exe.ok()) code.push_back(*std::move(exe));
    status = exe.status();
  } else {
    absl::StatusOr<std::vector<std::string>> files = rt::LibraryFiles(code_search_path);
    status = files.status();
    for (size_t i = 0; status.ok() && i < files->size(); ++i) {
      absl::StatusOr<proto::CodeFile> library =
          rt::DescribeCodeFile((*files)[i], proto::CodeFile::LIBRARY, cache);
      if (library.ok()) code.push_back(*std::move(library));
      status = library.status();
    }
  }
  if (!status.ok()) {
    spdlog::warn("cannot describe this driver's code ({}); workers will run it from its paths",
                 status.ToString());
    code.clear();
  }
  return code;
}

absl::StatusOr<std::unique_ptr<CodeUpload>> CodeUpload::Start(
    const std::string& gcs_address, const JobId& job, const std::vector<proto::CodeFile>& code) {
  std::unique_ptr<CodeUpload> upload(new CodeUpload());
  if (code.empty()) {
    upload->done_.Notify();
    return upload;
  }
  std::optional<proto::CodeFile> exe;
  for (const proto::CodeFile& file : code) {
    if (file.kind() == proto::CodeFile::EXECUTABLE) {
      exe = file;
      continue;
    }
    if (!upload->gcs_) {
      absl::StatusOr<std::unique_ptr<gcs::GcsClient>> client =
          gcs::GcsClient::Connect(gcs_address, absl::Seconds(5));
      if (!client.ok()) return client.status();
      upload->gcs_ = *std::move(client);
    }
    CancellableKv kv(upload->gcs_.get(), &upload->cancelled_);
    absl::Status status =
        runtime_env::UploadFile(kv, file.hash(), file.original_path(), FormatOf(file), job);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("cannot upload ", file.original_path(),
                                                      " to the package store: ", status.message()));
    }
  }
  if (!exe) {
    upload->gcs_.reset();
    upload->done_.Notify();
    return upload;
  }
  CodeUpload* raw = upload.get();
  // Connecting is part of the background work too: Init waits for none of it.
  raw->thread_ = std::thread([raw, exe = *std::move(exe), job, gcs_address] {
    raw->UploadExecutable(exe, job, gcs_address);
  });
  return upload;
}

void CodeUpload::UploadExecutable(proto::CodeFile exe, JobId job, std::string gcs_address) {
  const absl::Time start = absl::Now();
  absl::Status status;
  if (!gcs_) {
    absl::StatusOr<std::unique_ptr<gcs::GcsClient>> client =
        gcs::GcsClient::Connect(gcs_address, absl::Seconds(5));
    if (client.ok()) gcs_ = *std::move(client);
    status = client.status();
  }
  if (status.ok()) {
    CancellableKv kv(gcs_.get(), &cancelled_);
    // The bytes of the running inode, wherever its path went since the process started.
    status = runtime_env::UploadFile(kv, exe.hash(), kSelfExe, FormatOf(exe), job);
  }
  if (status.ok()) {
    spdlog::debug("code {} (sha256 {}, {} bytes) in the package store after {}", exe.name(),
                  exe.hash(), exe.size(), absl::FormatDuration(absl::Now() - start));
  } else if (!cancelled_) {
    spdlog::warn(
        "cannot upload this driver's executable to the package store: {}; workers on "
        "other nodes cannot start",
        status.ToString());
  }
  background_status_ = status;
  gcs_.reset();  // its connection and I/O thread are not needed any more
  done_.Notify();
}

absl::Status CodeUpload::Wait() {
  done_.WaitForNotification();
  return background_status_;
}

CodeUpload::~CodeUpload() {
  cancelled_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace moray::api
