#include "common/session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/id.h"

namespace moray {
namespace fs = std::filesystem;

std::string SessionRoot() {
  const char* env = std::getenv("MORAY_TMPDIR");
  std::string root = (env && *env) ? env : "/tmp/moray";
  std::error_code ec;
  fs::create_directories(root, ec);
  return root;
}

absl::StatusOr<std::string> CreateSessionDir() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d_%H-%M-%S", &tm);
  std::string dir = absl::StrCat(SessionRoot(), "/session_", stamp, "_", getpid(), "_",
                                 ToHex(RandomBytes(3)));
  std::error_code ec;
  fs::create_directories(dir + "/logs", ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create session directory ", dir, ": ",
                                            ec.message()));
  }
  std::string latest = SessionRoot() + "/session_latest";
  fs::remove(latest, ec);
  fs::create_directory_symlink(dir, latest, ec);
  return dir;
}

std::string CurrentClusterFile() { return SessionRoot() + "/moray_current_cluster"; }

absl::Status WriteCurrentCluster(const std::string& gcs_address) {
  std::string tmp = absl::StrCat(CurrentClusterFile(), ".", getpid());
  {
    std::ofstream out(tmp);
    out << gcs_address << "\n";
    if (!out) return absl::InternalError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), CurrentClusterFile().c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write ", CurrentClusterFile(), ": ",
                                            std::strerror(errno)));
  }
  return absl::OkStatus();
}

void ClearCurrentCluster(const std::string& gcs_address) {
  std::ifstream in(CurrentClusterFile());
  std::string recorded;
  if (in >> recorded && recorded == gcs_address) {
    std::error_code ec;
    fs::remove(CurrentClusterFile(), ec);
  }
}

absl::Status ParseHostPort(const std::string& address, std::string* host, int* port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid address '", address, "': expected HOST:PORT, e.g. 127.0.0.1:6379"));
  }
  int value = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &value) || value < 1 || value > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid address '", address, "': the port must be a number between 1 and 65535"));
  }
  if (host) *host = address.substr(0, colon);
  if (port) *port = value;
  return absl::OkStatus();
}

absl::StatusOr<std::string> ResolveGcsAddress(const std::string& given) {
  std::string address = given;
  if (address.empty()) {
    const char* env = std::getenv("RAY_ADDRESS");
    if (env && *env) address = env;
  }
  if (address.empty()) {
    return absl::NotFoundError("no cluster address given (flag, RAY_ADDRESS)");
  }
  if (address == "auto") {
    std::ifstream in(CurrentClusterFile());
    std::string recorded;
    if (!(in >> recorded)) {
      return absl::NotFoundError(absl::StrCat(
          "could not find a running Moray cluster on this machine (no ", CurrentClusterFile(),
          "); start one with `moray start --head`, or pass --address=HOST:PORT"));
    }
    address = recorded;
  }
  if (auto status = ParseHostPort(address, nullptr, nullptr); !status.ok()) return status;
  return address;
}

absl::Status RecordPid(const std::string& session_dir, int pid, const std::string& name) {
  std::ofstream out(session_dir + "/pids", std::ios::app);
  out << pid << " " << name << "\n";
  if (!out) return absl::InternalError("cannot write " + session_dir + "/pids");
  return absl::OkStatus();
}

std::vector<std::string> ListSessionDirs() {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(SessionRoot(), ec)) {
    auto name = entry.path().filename().string();
    if (name.rfind("session_", 0) == 0 && name != "session_latest" && !entry.is_symlink()) {
      dirs.push_back(entry.path().string());
    }
  }
  return dirs;
}

}  // namespace moray
