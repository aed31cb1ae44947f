// Writes a ustar archive, gzip-compressed, into memory: the packer's output format (package.h).
// Headers carry no time, owner or group; a path or link target too long for ustar gets a PAX
// extended header before its entry.
//
//   TarGzWriter w;
//   w.AddDirectory("sub", 0755);
//   w.AddSymlink("sub/link", "../a.txt");
//   if (auto s = w.AddFile("a.txt", 0644, fd, size); !s.ok()) ...
//   absl::StatusOr<std::string> bytes = std::move(w).Finish();
//
// The output is unbounded: the packer bounds its input first. After an error every later call
// returns it.
//
// Thread model: one thread.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moray::runtime_env {

class TarGzWriter {
 public:
  TarGzWriter();
  ~TarGzWriter();
  TarGzWriter(const TarGzWriter&) = delete;
  TarGzWriter& operator=(const TarGzWriter&) = delete;

  absl::Status AddDirectory(std::string_view path, uint32_t mode);
  absl::Status AddSymlink(std::string_view path, std::string_view target);
  // Reads exactly `size` bytes from `fd` (Internal naming `path` if the file shrank or a read
  // failed).
  absl::Status AddFile(std::string_view path, uint32_t mode, int fd, uint64_t size);
  // The archive (two zero blocks ending the tar, then the gzip trailer).
  absl::StatusOr<std::string> Finish() &&;

  uint64_t compressed_bytes() const { return out_.size(); }

 private:
  absl::Status Header(std::string_view path, uint32_t mode, uint64_t size, char type,
                      std::string_view link);
  absl::Status Write(std::string_view bytes, int flush = Z_NO_FLUSH);
  absl::Status Pad(uint64_t size);

  z_stream z_{};
  std::string out_;
  std::string buf_;  // file reads, reused
  absl::Status status_;
};

}  // namespace moray::runtime_env
