// Test helpers: a temporary directory removed at the end of the test, files written into it, and
// a tree described as text so two trees compare with one EXPECT_EQ.
//
//   TempDir dir;
//   WriteFile(dir.path() + "/a/b.txt", "hello", 0640);
//   EXPECT_EQ(DescribeTree(dir.path()), "a/ d750\na/b.txt f640 hello\n");
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"

namespace moray::runtime_env::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/moray_pkg_XXXXXX";
    path_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Creates parents as needed.
inline void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  ::chmod(path.c_str(), mode);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One line per entry, sorted: "dir/ d755", "file f644 <content>", "link -> target".
inline std::string DescribeTree(const std::string& root) {
  std::vector<std::string> lines;
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    // Lexically: std::filesystem::relative would resolve a symlink to its target.
    const std::string rel = it->path().lexically_relative(root).string();
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    if (S_ISLNK(st.st_mode)) {
      lines.push_back(rel + " -> " + std::filesystem::read_symlink(it->path()).string());
    } else if (S_ISDIR(st.st_mode)) {
      lines.push_back(absl::StrFormat("%s/ d%o", rel, st.st_mode & 0777));
    } else {
      lines.push_back(absl::StrFormat("%s f%o %s", rel, st.st_mode & 0777, ReadFile(it->path())));
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace moray::runtime_env::testing
