#include "dashboard/web_dir.h"

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace moray::dashboard {

namespace fs = std::filesystem;

absl::StatusOr<std::string> WebDirOf(const std::string& executable) {
  fs::path dir = fs::path(executable).parent_path().parent_path() / "share" / "moray" / "dashboard";
  std::error_code ec;
  dir = fs::weakly_canonical(dir, ec);
  if (!fs::exists(dir / "index.html", ec)) {
    return absl::NotFoundError(absl::StrCat("the dashboard's pages are not installed: no ",
                                            (dir / "index.html").string()));
  }
  return dir.string();
}

absl::StatusOr<std::string> FindWebDir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("cannot find the dashboard's executable: /proc/self/exe: ", ec.message()));
  }
  return WebDirOf(self.string());
}

}  // namespace moray::dashboard
