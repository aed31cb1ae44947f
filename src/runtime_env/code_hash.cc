#include "runtime_env/code_hash.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "common/session.h"
#include "runtime_env/package_store.h"

namespace moray::runtime_env {
namespace fs = std::filesystem;

namespace {

// The stat identity of the file `path` leads to; the cache key.
absl::StatusOr<std::string> StatKey(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path));
  }
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(path + " is not a regular file");
  return absl::StrCat(static_cast<uint64_t>(st.st_dev), "-", static_cast<uint64_t>(st.st_ino), "-",
                      static_cast<int64_t>(st.st_size), "-",
                      static_cast<int64_t>(st.st_mtim.tv_sec), ".",
                      static_cast<int64_t>(st.st_mtim.tv_nsec));
}

bool IsHexHash(std::string_view hash) {
  return hash.size() == 64 && std::all_of(hash.begin(), hash.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

}  // namespace

std::string CodeHashCacheDir() {
  std::string dir = SessionRoot() + "/code_hashes";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return dir;
}

absl::StatusOr<std::string> CachedSha256(const std::string& path, const std::string& cache_dir) {
  absl::StatusOr<std::string> key = StatKey(path);
  if (!key.ok()) return key.status();
  const std::string entry = cache_dir.empty() ? "" : cache_dir + "/" + *key;
  if (!entry.empty()) {
    std::string cached = ReadSmallFile(entry);
    if (IsHexHash(cached)) return cached;
  }
  absl::StatusOr<std::string> hash = Sha256OfFile(path);
  if (!hash.ok()) return hash.status();
  // The file may have changed while it was read: remember the hash only under the identity it
  // had before and still has.
  absl::StatusOr<std::string> after = StatKey(path);
  if (!entry.empty() && after.ok() && *after == *key) {
    const std::string tmp = absl::StrCat(entry, ".tmp.", getpid(), ".", ToHex(RandomBytes(4)));
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << *hash << "\n";
    }
    std::error_code ec;
    fs::rename(tmp, entry, ec);
    if (ec) fs::remove(tmp, ec);  // a cache that cannot be written only costs a rehash
  }
  return hash;
}

absl::StatusOr<proto::CodeFile> DescribeCodeFile(const std::string& path,
                                                 proto::CodeFile::Kind kind,
                                                 const std::string& cache_dir,
                                                 const std::string& name,
                                                 const std::string& original_path) {
  absl::StatusOr<std::string> hash = CachedSha256(path, cache_dir);
  if (!hash.ok()) return hash.status();
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot size ", path, ": ", ec.message()));
  proto::CodeFile code;
  code.set_hash(*hash);
  code.set_size(static_cast<int64_t>(size));
  code.set_name(name.empty() ? fs::path(path).filename().string() : name);
  code.set_kind(kind);
  code.set_original_path(original_path.empty() ? path : original_path);
  return code;
}

absl::StatusOr<std::vector<std::string>> LibraryFiles(const std::vector<std::string>& search_path) {
  std::vector<std::string> files;
  for (const std::string& entry : search_path) {
    if (entry.empty()) continue;
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      std::vector<std::string> found;
      for (const auto& file : fs::directory_iterator(entry, ec)) {
        if (file.path().extension() == ".so") found.push_back(file.path().string());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(entry, ec)) {
      files.push_back(entry);
    } else {
      return absl::NotFoundError(absl::StrCat("code search path entry ", entry, " does not exist"));
    }
  }
  return files;
}

bool IsValidCodeFile(const proto::CodeFile& code) {
  const std::string& name = code.name();
  return IsHexHash(code.hash()) && !name.empty() && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

}  // namespace moray::runtime_env
