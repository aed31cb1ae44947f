#include "runtime_env/code_cache.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/id.h"
#include "common/session.h"
#include "runtime_env/code_hash.h"
#include "runtime_env/elf_dynamic.h"
#include "spdlog/spdlog.h"

namespace moray::runtime_env {
namespace fs = std::filesystem;

namespace {

// Copies `from` to `to` (created 0600, truncated). Reading /proc/<pid>/exe reads the inode the
// process runs, wherever its path went.
absl::Status CopyFile(const std::string& from, const std::string& to) {
  const int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", from));
  const int out = open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    const int error = errno;
    close(in);
    return absl::ErrnoToStatus(error, absl::StrCat("cannot create ", to));
  }
  std::vector<char> buffer(1 << 20);
  absl::Status status;
  while (status.ok()) {
    const ssize_t n = read(in, buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      status = absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", from));
      break;
    }
    for (ssize_t done = 0; done < n && status.ok();) {
      const ssize_t w = write(out, buffer.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0)
        status = absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", to));
      else
        done += w;
    }
  }
  close(in);
  if (close(out) != 0 && status.ok()) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", to));
  }
  return status;
}

// Checks the bytes of `tmp` (unless `verified` already), makes it executable and renames it to
// `target`. On any failure `tmp` is removed.
absl::Status Install(const std::string& tmp, const std::string& target, const proto::CodeFile& code,
                     bool verified) {
  absl::StatusOr<std::string> hash = verified ? code.hash() : Sha256OfFile(tmp);
  std::error_code ec;
  if (!hash.ok() || *hash != code.hash()) {
    fs::remove(tmp, ec);
    return hash.ok() ? absl::DataLossError(absl::StrCat("sha256 ", *hash, " != ", code.hash()))
                     : hash.status();
  }
  if (chmod(tmp.c_str(), 0755) != 0 || rename(tmp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    fs::remove(tmp, ec);
    return absl::ErrnoToStatus(error, absl::StrCat("cannot install ", target));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> EnsureCode(const proto::CodeFile& code, KvAccess& kv,
                                       const std::string& cache_dir, int driver_pid_if_local,
                                       absl::Duration timeout) {
  if (!IsValidCodeFile(code)) {
    return absl::InvalidArgumentError(absl::StrCat("malformed code file record (name '",
                                                   code.name(), "', sha256 '", code.hash(), "')"));
  }
  const absl::Time deadline = absl::Now() + timeout;
  const std::string dir = absl::StrCat(cache_dir, "/code/", code.hash());
  const std::string target = absl::StrCat(dir, "/", code.name());
  std::error_code ec;
  if (fs::is_regular_file(target, ec)) return target;  // checked when it was stored
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create the code cache ", dir, ": ", ec.message()));
  }
  const std::string tmp =
      absl::StrCat(dir, "/.", code.name(), ".tmp.", getpid(), ".", ToHex(RandomBytes(4)));

  // Local sources first: the running driver's inode, then the path the driver named.
  std::vector<std::string> local;
  if (code.kind() == proto::CodeFile::EXECUTABLE && driver_pid_if_local > 0) {
    local.push_back(absl::StrCat("/proc/", driver_pid_if_local, "/exe"));
  }
  if (!code.original_path().empty()) local.push_back(code.original_path());
  for (const std::string& source : local) {
    if (!fs::exists(source, ec)) continue;
    absl::Status copied = CopyFile(source, tmp);
    if (copied.ok()) copied = Install(tmp, target, code, /*verified=*/false);
    if (copied.ok()) {
      spdlog::info("code {} (sha256 {}) cached from {}", code.name(), code.hash(), source);
      return target;
    }
    fs::remove(tmp, ec);
    spdlog::debug("code {}: {} is no copy: {}", code.name(), source, copied.ToString());
  }

  // The package store; the driver may still be uploading it.
  absl::Duration backoff = absl::Milliseconds(20);
  absl::Status last;
  while (true) {
    absl::StatusOr<bool> present = HasPackage(kv, code.hash());
    if (present.ok() && *present) {
      last = DownloadPackage(kv, code.hash(), tmp);  // its SHA-256 checked
      if (last.ok()) last = Install(tmp, target, code, /*verified=*/true);
      if (last.ok()) {
        spdlog::info("code {} (sha256 {}, {} bytes) fetched from the package store", code.name(),
                     code.hash(), code.size());
        return target;
      }
      fs::remove(tmp, ec);
    } else if (!present.ok()) {
      last = present.status();
      if (absl::IsCancelled(last)) return last;  // the caller is stopping
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    absl::SleepFor(std::min(backoff, left));
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
  std::string message = absl::StrCat("code ", code.name(), " (sha256 ", code.hash(),
                                     ") is not in the cluster's package store (waited ",
                                     absl::FormatDuration(timeout), ")");
  if (!last.ok()) absl::StrAppend(&message, "; last error: ", last.message());
  return absl::NotFoundError(message);
}

absl::StatusOr<PreparedCode> PrepareJobCode(const proto::JobInfo& job, KvAccess& kv,
                                            const std::string& cache_dir, int driver_pid_if_local,
                                            absl::Duration timeout,
                                            const std::string& moray_lib_dir) {
  if (job.code_size() == 0) return absl::FailedPreconditionError("the job carries no code");
  const absl::Time deadline = absl::Now() + timeout;
  PreparedCode prepared;
  for (const proto::CodeFile& code : job.code()) {
    absl::StatusOr<std::string> path =
        EnsureCode(code, kv, cache_dir, driver_pid_if_local,
                   std::max(deadline - absl::Now(), absl::ZeroDuration()));
    if (!path.ok()) return path.status();
    prepared.hashes.push_back(code.hash());
    if (code.kind() == proto::CodeFile::EXECUTABLE) {
      prepared.program = *path;
    } else {
      prepared.library_paths.push_back(*path);
    }
  }
  // A copied program (or library) must still find libmoray from the cache.
  std::vector<std::string> files = prepared.library_paths;
  if (!prepared.program.empty()) files.push_back(prepared.program);
  bool needs_path = false;
  for (const std::string& file : files) {
    absl::StatusOr<ElfDynamic> dynamic = ReadElfDynamic(file);
    if (dynamic.ok() &&
        !FindsNeededLibrary(*dynamic, fs::path(file).parent_path().string(), "libmoray.so")) {
      needs_path = true;
    }
  }
  if (needs_path && !moray_lib_dir.empty()) {
    const char* inherited = std::getenv("LD_LIBRARY_PATH");
    prepared.env.emplace_back("LD_LIBRARY_PATH", inherited && *inherited
                                                     ? absl::StrCat(moray_lib_dir, ":", inherited)
                                                     : moray_lib_dir);
  }
  return prepared;
}

void RemoveCachedCode(const std::string& cache_dir, const std::string& hash) {
  proto::CodeFile probe;
  probe.set_hash(hash);
  probe.set_name("x");
  if (!IsValidCodeFile(probe)) return;  // never remove anything but a hash directory
  std::error_code ec;
  fs::remove_all(absl::StrCat(cache_dir, "/code/", hash), ec);
  if (ec) spdlog::warn("cannot remove cached code {}: {}", hash, ec.message());
}

std::string MorayLibraryDir() {
  Dl_info info;
  // SessionRoot lives in libmoray (src/common): the library this process loaded.
  if (dladdr(reinterpret_cast<void*>(&SessionRoot), &info) == 0 || info.dli_fname == nullptr) {
    return "";
  }
  const fs::path library = fs::weakly_canonical(info.dli_fname);
  if (library.filename().string().rfind("libmoray.so", 0) != 0) return "";
  return library.parent_path().string();
}

}  // namespace moray::runtime_env
