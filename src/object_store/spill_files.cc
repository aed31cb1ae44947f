#include "object_store/spill_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace moray::object_store {
namespace {

absl::Status IoError(const std::string& what, int err) {
  std::string message = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

}  // namespace

SpillFiles::SpillFiles(std::string dir, uint64_t file_limit)
    : dir_(std::move(dir)), file_limit_(file_limit) {}

SpillFiles::~SpillFiles() {
  while (!files_.empty()) Remove(files_.begin());
}

std::string SpillFiles::PathOf(uint64_t file) const {
  return absl::StrCat(dir_, "/spill-", getpid(), "-", file, ".bin");
}

absl::Status SpillFiles::OpenNewFile() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create the spill directory ", dir_, ": ", ec.message()));
  }
  const uint64_t number = next_file_++;
  const std::string path = PathOf(number);
  int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return IoError(absl::StrCat("cannot create spill file ", path), errno);
  files_[number].fd = fd;
  current_ = number;
  return absl::OkStatus();
}

absl::StatusOr<SpillExtent> SpillFiles::Write(const char* data, uint64_t size) {
  if (current_ == 0 || files_[current_].size >= file_limit_) {
    if (absl::Status opened = OpenNewFile(); !opened.ok()) return opened;
  }
  File& file = files_[current_];
  SpillExtent extent{current_, file.size, size};
  uint64_t written = 0;
  while (written < size) {
    ssize_t n = pwrite(file.fd, data + written, size - written,
                       static_cast<off_t>(file.size + written));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      // Leave the file as it was; the partial tail is overwritten by the next append.
      return IoError(absl::StrCat("cannot write ", size, " bytes to spill file ", PathOf(current_)),
                     err);
    }
    written += static_cast<uint64_t>(n);
  }
  file.size += size;
  file.live_extents++;
  live_bytes_ += size;
  return extent;
}

absl::Status SpillFiles::Read(const SpillExtent& extent, char* out) const {
  auto it = files_.find(extent.file);
  if (it == files_.end()) {
    return absl::InternalError(absl::StrCat("spill file ", extent.file, " is gone"));
  }
  uint64_t done = 0;
  while (done < extent.size) {
    ssize_t n = pread(it->second.fd, out + done, extent.size - done,
                      static_cast<off_t>(extent.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return IoError(absl::StrCat("cannot read ", extent.size, " bytes from spill file ",
                                  PathOf(extent.file)),
                     n < 0 ? errno : EIO);
    }
    done += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

void SpillFiles::Drop(const SpillExtent& extent) {
  auto it = files_.find(extent.file);
  if (it == files_.end()) return;
  live_bytes_ -= extent.size;
  if (--it->second.live_extents == 0) Remove(it);  // the next append opens a new file
}

void SpillFiles::Remove(std::map<uint64_t, File>::iterator it) {
  close(it->second.fd);
  const std::string path = PathOf(it->first);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("cannot remove spill file {}: {}", path, std::strerror(errno));
  }
  if (it->first == current_) current_ = 0;
  files_.erase(it);
}

}  // namespace moray::object_store
