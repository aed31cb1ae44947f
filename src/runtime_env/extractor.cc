#include "runtime_env/extractor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime_env/package_internal.h"

namespace moray::runtime_env {
namespace {

absl::Status Refuse(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError(
      Cat("archive entry '", name, "' ", why, "; refusing to unpack"));
}

// The components of `path` without empty and "." ones; false when one is "..".
bool Components(std::string_view path, std::vector<std::string_view>& out) {
  for (absl::string_view c : absl::StrSplit(Sv(path), '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") return false;
    out.push_back(std::string_view(c.data(), c.size()));
  }
  return true;
}

}  // namespace

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status OutputFile::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "could not write", path_);
    bytes.remove_prefix(n);
  }
  return absl::OkStatus();
}

absl::Status OutputFile::Close() {
  int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) return ErrnoStatus(errno, "could not write", path_);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Extractor::Prepare(std::string_view name) {
  if (!name.empty() && name[0] == '/') return Refuse(name, "has an absolute path");
  std::vector<std::string_view> parts;
  if (!Components(name, parts)) return Refuse(name, "climbs out with '..'");
  std::string rel;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!rel.empty()) rel += '/';
    rel.append(parts[i]);
    std::string abs = Cat(root_, "/", rel);
    struct stat st {};
    if (::lstat(abs.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode)) return Refuse(name, "passes through a symlink");
      if (!S_ISDIR(st.st_mode)) return Refuse(name, "lies below a file");
      continue;
    }
    if (::mkdir(abs.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "could not create", abs);
    }
  }
  std::string joined;
  for (std::string_view part : parts) {
    if (!joined.empty()) joined += '/';
    joined.append(part);
  }
  return joined;
}

absl::Status Extractor::Directory(std::string_view name, uint32_t mode) {
  auto rel = Prepare(name);
  if (!rel.ok()) return rel.status();
  if (rel->empty()) return absl::OkStatus();
  std::string abs = Cat(root_, "/", *rel);
  mode = (mode & 0777) == 0 ? 0755 : ((mode & 0777) | 0700);  // we must be able to fill it
  struct stat st {};
  if (::lstat(abs.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Refuse(name, "is a directory where another entry is not");
    ::chmod(abs.c_str(), mode);
    return absl::OkStatus();
  }
  if (::mkdir(abs.c_str(), mode) != 0) return ErrnoStatus(errno, "could not create", abs);
  ::chmod(abs.c_str(), mode);  // past the umask
  return absl::OkStatus();
}

absl::StatusOr<OutputFile> Extractor::CreateFile(std::string_view name, uint32_t mode) {
  auto rel = Prepare(name);
  if (!rel.ok()) return rel.status();
  if (rel->empty()) return Refuse(name, "names the root as a file");
  std::string abs = Cat(root_, "/", *rel);
  mode = (mode & 0777) == 0 ? 0644 : (mode & 0777);
  struct stat st {};
  if (::lstat(abs.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Refuse(name, "is a file where a directory is");
    ::unlink(abs.c_str());  // a later entry replaces an earlier one, never writes through it
  }
  int fd = ::open(abs.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return ErrnoStatus(errno, "could not create", abs);
  ::fchmod(fd, mode);
  return OutputFile(fd, abs);
}

absl::Status Extractor::Symlink(std::string_view name, std::string_view target) {
  auto rel = Prepare(name);
  if (!rel.ok()) return rel.status();
  if (rel->empty()) return Refuse(name, "names the root as a link");
  if (target.empty()) return Refuse(name, "is a link to nothing");
  if (target[0] == '/') return Refuse(name, Cat("links to the absolute path ", target));
  // Resolve the target from the link's directory, lexically: it must stay inside the root.
  int depth = 0;
  for (char c : *rel) depth += c == '/';
  for (absl::string_view c : absl::StrSplit(Sv(target), '/')) {
    if (c.empty() || c == ".") continue;
    depth += c == ".." ? -1 : 1;
    if (depth < 0) return Refuse(name, Cat("links to ", target, ", outside"));
  }
  std::string abs = Cat(root_, "/", *rel);
  struct stat st {};
  if (::lstat(abs.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Refuse(name, "is a link where a directory is");
    ::unlink(abs.c_str());
  }
  std::string target_str(target);
  if (::symlink(target_str.c_str(), abs.c_str()) != 0) {
    return ErrnoStatus(errno, "could not create the link", abs);
  }
  return absl::OkStatus();
}

absl::Status Extractor::Hardlink(std::string_view name, std::string_view target) {
  auto rel = Prepare(name);
  if (!rel.ok()) return rel.status();
  auto target_rel = Prepare(target);  // the same rules: inside, not through a link
  if (!target_rel.ok()) return target_rel.status();
  if (rel->empty() || target_rel->empty()) return Refuse(name, "is a hard link to the root");
  std::string abs = Cat(root_, "/", *rel);
  std::string target_abs = Cat(root_, "/", *target_rel);
  ::unlink(abs.c_str());
  if (::link(target_abs.c_str(), abs.c_str()) != 0) {
    return ErrnoStatus(errno, "could not create the hard link", abs);
  }
  return absl::OkStatus();
}

}  // namespace moray::runtime_env
