// PackDirectory: walk the tree (ignore rules applied as the walk meets .gitignore / .rayignore
// files), bound its size, then stream every entry into a TarGzWriter.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime_env/ignore_rules.h"
#include "runtime_env/package.h"
#include "runtime_env/package_internal.h"
#include "runtime_env/tar_gz_writer.h"

namespace moray::runtime_env {
namespace {

constexpr const char* kIgnoreFiles[] = {".gitignore", ".rayignore"};
constexpr uint64_t kMaxIgnoreFileBytes = 1 << 20;

struct Entry {
  enum Kind { kDir, kFile, kLink } kind;
  std::string rel;  // relative to the root, '/'-separated
  uint32_t mode = 0;
  uint64_t size = 0;
  std::string link;  // kLink: the target as stored
};

class Walker {
 public:
  explicit Walker(std::string root) : root_(std::move(root)) {}

  IgnoreRules& rules() { return rules_; }
  std::vector<Entry>& entries() { return entries_; }
  uint64_t total() const { return total_; }

  absl::Status Walk(const std::string& rel_dir) {
    const std::string abs_dir = rel_dir.empty() ? root_ : Cat(root_, "/", rel_dir);
    if (auto s = LoadIgnoreFiles(abs_dir, rel_dir); !s.ok()) return s;
    std::vector<std::string> names;
    DIR* d = ::opendir(abs_dir.c_str());
    if (d == nullptr) return ErrnoStatus(errno, "could not list", abs_dir);
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      std::string rel = rel_dir.empty() ? name : Cat(rel_dir, "/", name);
      std::string abs = Cat(abs_dir, "/", name);
      struct stat st {};
      if (::lstat(abs.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // gone since the listing
        return ErrnoStatus(errno, "could not stat", abs);
      }
      const bool is_dir = S_ISDIR(st.st_mode);
      if (rules_.Ignored(rel, is_dir)) continue;
      if (is_dir) {
        entries_.push_back({Entry::kDir, rel, static_cast<uint32_t>(st.st_mode & 0777), 0, {}});
        if (auto s = Walk(rel); !s.ok()) return s;
      } else if (S_ISREG(st.st_mode)) {
        entries_.push_back({Entry::kFile,
                            rel,
                            static_cast<uint32_t>(st.st_mode & 0777),
                            static_cast<uint64_t>(st.st_size),
                            {}});
        total_ += st.st_size;
      } else if (S_ISLNK(st.st_mode)) {
        std::string target(st.st_size > 0 ? st.st_size + 1 : 4096, '\0');
        ssize_t n = ::readlink(abs.c_str(), target.data(), target.size());
        if (n < 0) return ErrnoStatus(errno, "could not read the link", abs);
        target.resize(n);
        entries_.push_back({Entry::kLink, rel, 0777, 0, std::move(target)});
      }
      // Sockets, fifos and devices have no place in a package.
    }
    return absl::OkStatus();
  }

 private:
  absl::Status LoadIgnoreFiles(const std::string& abs_dir, const std::string& rel_dir) {
    for (const char* file : kIgnoreFiles) {
      std::string path = Cat(abs_dir, "/", file);
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      auto text = ReadWholeFile(path, kMaxIgnoreFileBytes);
      if (!text.ok()) return text.status();
      rules_.Add(rel_dir, ParseIgnoreFile(*text));
    }
    return absl::OkStatus();
  }

  std::string root_;
  IgnoreRules rules_;
  std::vector<Entry> entries_;
  uint64_t total_ = 0;
};

}  // namespace

absl::StatusOr<Package> PackDirectory(const std::string& dir,
                                      const std::vector<std::string>& excludes,
                                      uint64_t max_bytes) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(Cat("working_dir ", dir, " does not exist"));
    }
    return ErrnoStatus(errno, "could not stat working_dir", dir);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(Cat("working_dir ", dir, " is not a directory"));
  }
  std::string root = dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();

  Walker walker(root);
  walker.rules().Add("", excludes);
  if (auto s = walker.Walk(""); !s.ok()) return s;
  // Compressing 10 GB to learn it is too big would take minutes: the files alone must fit.
  if (walker.total() > max_bytes) {
    return absl::ResourceExhaustedError(Cat("working_dir ", root, " holds ", MiB(walker.total()),
                                            " of files (before compression), over the ",
                                            MiB(max_bytes), " limit"));
  }

  TarGzWriter writer;
  for (const Entry& e : walker.entries()) {
    absl::Status s;
    switch (e.kind) {
      case Entry::kDir:
        s = writer.AddDirectory(e.rel, e.mode);
        break;
      case Entry::kLink:
        s = writer.AddSymlink(e.rel, e.link);
        break;
      case Entry::kFile: {
        std::string abs = Cat(root, "/", e.rel);
        int fd = ::open(abs.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return ErrnoStatus(errno, "could not open", abs);
        s = writer.AddFile(e.rel, e.mode, fd, e.size);
        ::close(fd);
        break;
      }
    }
    if (!s.ok()) return s;
  }
  auto bytes = std::move(writer).Finish();
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() > max_bytes) {
    return absl::ResourceExhaustedError(Cat("working_dir ", root, " packs to ", MiB(bytes->size()),
                                            ", over the ", MiB(max_bytes), " limit"));
  }
  Package package;
  package.format = "tar.gz";
  package.hash = Sha256Hex(*bytes);
  package.bytes = *std::move(bytes);
  return package;
}

}  // namespace moray::runtime_env
