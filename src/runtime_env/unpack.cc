// UnpackArchive: pick the format by its magic bytes, extract into a fresh sibling of the
// destination, rename it into place (or find that another caller already did).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/id.h"
#include "runtime_env/extractor.h"
#include "runtime_env/package.h"
#include "runtime_env/package_internal.h"

namespace moray::runtime_env {
namespace {

namespace fs = std::filesystem;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string RandomSuffix() { return ToHex(RandomBytes(8)); }

}  // namespace

absl::Status UnpackArchive(std::string_view bytes, const std::string& dest_dir) {
  std::string dest = dest_dir;
  while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
  if (Exists(dest)) return absl::OkStatus();

  const bool gzip = bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
                    static_cast<unsigned char>(bytes[1]) == 0x8b;
  const bool zip = bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("PK\3\4", 4);
  const bool empty_zip = bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("PK\5\6", 4);
  if (!gzip && !zip && !empty_zip) {
    return absl::InvalidArgumentError(
        Cat("cannot unpack into ", dest, ": the package is neither a .tar.gz nor a .zip"));
  }

  std::error_code ec;
  fs::path parent = fs::path(dest).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return ErrnoStatus(ec.value(), "could not create", parent.string());

  // A hidden sibling on the same file system, so the rename is atomic.
  std::string tmp = Cat(parent.string(), parent.empty() ? "" : "/", ".",
                        fs::path(dest).filename().string(), ".tmp-", RandomSuffix());
  if (::mkdir(tmp.c_str(), 0755) != 0) return ErrnoStatus(errno, "could not create", tmp);
  Extractor out(tmp);
  absl::Status s = gzip ? ExtractTarGz(bytes, out) : ExtractZip(bytes, out);
  if (s.ok()) {
    if (::rename(tmp.c_str(), dest.c_str()) == 0) return absl::OkStatus();
    const int err = errno;
    if ((err == ENOTEMPTY || err == EEXIST) && Exists(dest)) {
      // Someone else renamed theirs into place first: theirs is as good as ours.
      fs::remove_all(tmp, ec);
      return absl::OkStatus();
    }
    s = ErrnoStatus(err, "could not rename the unpacked package to", dest);
  }
  fs::remove_all(tmp, ec);
  return absl::Status(s.code(), Cat("unpacking into ", dest, ": ", s.message()));
}

absl::Status UnpackArchiveFile(const std::string& archive_path, const std::string& dest_dir) {
  int fd = ::open(archive_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "could not open", archive_path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "could not stat", archive_path);
  }
  if (st.st_size == 0) {
    ::close(fd);
    return absl::InvalidArgumentError(Cat(archive_path, " is empty"));
  }
  void* map = ::mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);
  if (map == MAP_FAILED) return ErrnoStatus(err, "could not map", archive_path);
  absl::Status s =
      UnpackArchive(std::string_view(static_cast<const char*>(map), st.st_size), dest_dir);
  ::munmap(map, st.st_size);
  return s;
}

}  // namespace moray::runtime_env
