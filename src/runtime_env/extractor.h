// Writes archive entries under a root directory and nowhere else: the one place the unpackers
// (unpack_tar.cc, unpack_zip.cc) touch the file system.
//
//   Extractor x("/cache/pkg/.tmp-abc");
//   x.Directory("sub", 0755);
//   auto file = x.CreateFile("sub/a.txt", 0644);  // then write(file->fd()...)
//   x.Symlink("sub/l", "a.txt");
//
// Refused with InvalidArgument (the entry named): absolute paths, `..` components, a path that
// passes through a symlink (so no entry lands outside through a link an earlier entry made),
// symlinks whose target is absolute or climbs out of the root, hard links to outside. Missing
// parent directories are created (0755).
//
// Thread model: one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moray::runtime_env {

// An open file being written; closes on destruction.
class OutputFile {
 public:
  OutputFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  OutputFile(OutputFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  ~OutputFile();
  absl::Status Write(std::string_view bytes);
  absl::Status Close();
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

class Extractor {
 public:
  explicit Extractor(std::string root) : root_(std::move(root)) {}

  absl::Status Directory(std::string_view name, uint32_t mode);
  absl::StatusOr<OutputFile> CreateFile(std::string_view name, uint32_t mode);
  absl::Status Symlink(std::string_view name, std::string_view target);
  absl::Status Hardlink(std::string_view name, std::string_view target);

 private:
  // The entry's path relative to the root, normalised ("a/./b/" -> "a/b"), with its parents
  // created; "" for the root itself.
  absl::StatusOr<std::string> Prepare(std::string_view name);

  std::string root_;
};

// The archive formats (the input is a whole archive in memory or mapped).
absl::Status ExtractTarGz(std::string_view bytes, Extractor& out);
absl::Status ExtractZip(std::string_view bytes, Extractor& out);

}  // namespace moray::runtime_env
