// SpillFiles: the on-disk side of a full store. Objects are appended to the current spill file
// (so small objects share a file), a file rolls over once it reaches `file_limit` bytes, and a file
// is unlinked when the last object in it is dropped.
//
//   SpillFiles spill("/tmp/session/spill", 256 << 20);
//   absl::StatusOr<SpillExtent> extent = spill.Write(data, size);
//   spill.Read(*extent, destination);
//   spill.Drop(*extent);                 // unlinks the file if that was its last object
//
// Thread model: not thread-safe; the store calls it from its loop thread (blocking file I/O).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace moray::object_store {

struct SpillExtent {
  uint64_t file = 0;  // SpillFiles' file number
  uint64_t offset = 0;
  uint64_t size = 0;
};

class SpillFiles {
 public:
  // Files go under `dir` (created on first use) as spill-<pid>-<n>.bin.
  SpillFiles(std::string dir, uint64_t file_limit);
  ~SpillFiles();  // closes and unlinks every file it still has
  SpillFiles(const SpillFiles&) = delete;
  SpillFiles& operator=(const SpillFiles&) = delete;

  // Appends `size` bytes. Internal/ResourceExhausted (disk full) on an I/O error.
  absl::StatusOr<SpillExtent> Write(const char* data, uint64_t size);
  // Reads an extent back into `out` (extent.size bytes).
  absl::Status Read(const SpillExtent& extent, char* out) const;
  // Forgets an extent; unlinks its file once nothing in it is live.
  void Drop(const SpillExtent& extent);

  uint64_t live_bytes() const { return live_bytes_; }
  size_t num_files() const { return files_.size(); }
  std::string PathOf(uint64_t file) const;

 private:
  struct File {
    int fd = -1;
    uint64_t size = 0;        // bytes appended
    uint64_t live_extents = 0;
  };
  absl::Status OpenNewFile();
  void Remove(std::map<uint64_t, File>::iterator it);

  const std::string dir_;
  const uint64_t file_limit_;
  std::map<uint64_t, File> files_;
  uint64_t current_ = 0;  // 0: none open for appending
  uint64_t next_file_ = 1;
  uint64_t live_bytes_ = 0;
};

}  // namespace moray::object_store
