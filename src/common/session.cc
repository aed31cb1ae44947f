#include "common/session.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
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

void RemoveSessionDir(const std::string& dir) {
  std::error_code ec;
  std::string latest = SessionRoot() + "/session_latest";
  if (fs::is_symlink(latest, ec) && fs::read_symlink(latest, ec) == fs::path(dir)) {
    fs::remove(latest, ec);
  }
  fs::remove_all(dir, ec);
}

std::string CurrentClusterFile() { return SessionRoot() + "/moray_current_cluster"; }

namespace {

struct ClusterRecord {
  std::string gcs_address;
  int owner_pid = 0;  // 0: no owner (`moray start`)
};

// True unless `pid` has exited (a zombie counts as exited).
bool OwnerAlive(int pid) {
  if (pid <= 0) return true;
  if (kill(pid, 0) != 0 && errno != EPERM) return false;
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close_paren = stat.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= stat.size() ||
         stat[close_paren + 2] != 'Z';
}

// The records, newest first. A line with only an address (older files) has no owner.
std::vector<ClusterRecord> ReadClusterRecords() {
  std::vector<ClusterRecord> records;
  std::ifstream in(CurrentClusterFile());
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    ClusterRecord record;
    if (!(fields >> record.gcs_address)) continue;
    fields >> record.owner_pid;
    records.push_back(record);
  }
  return records;
}

absl::Status WriteClusterRecords(const std::vector<ClusterRecord>& records) {
  if (records.empty()) {
    std::error_code ec;
    fs::remove(CurrentClusterFile(), ec);
    return absl::OkStatus();
  }
  std::string tmp = absl::StrCat(CurrentClusterFile(), ".", getpid());
  {
    std::ofstream out(tmp);
    for (const auto& record : records) out << record.gcs_address << " " << record.owner_pid << "\n";
    if (!out) return absl::InternalError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), CurrentClusterFile().c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write ", CurrentClusterFile(), ": ",
                                            std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Serializes read-modify-write of the records between processes (drivers and `moray start`).
class RecordsLock {
 public:
  RecordsLock() : fd_(open((CurrentClusterFile() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~RecordsLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  RecordsLock(const RecordsLock&) = delete;
  RecordsLock& operator=(const RecordsLock&) = delete;

 private:
  int fd_;
};

// Drops the records of `gcs_address` and those whose owner has exited.
std::vector<ClusterRecord> LiveRecordsExcept(const std::string& gcs_address) {
  std::vector<ClusterRecord> kept;
  for (auto& record : ReadClusterRecords()) {
    if (record.gcs_address != gcs_address && OwnerAlive(record.owner_pid)) kept.push_back(record);
  }
  return kept;
}

}  // namespace

absl::Status WriteCurrentCluster(const std::string& gcs_address, int owner_pid) {
  RecordsLock lock;
  std::vector<ClusterRecord> records = LiveRecordsExcept(gcs_address);
  records.insert(records.begin(), ClusterRecord{gcs_address, owner_pid});
  return WriteClusterRecords(records);
}

void ClearCurrentCluster(const std::string& gcs_address) {
  RecordsLock lock;
  (void)WriteClusterRecords(LiveRecordsExcept(gcs_address));
}

bool IsRecordedCluster(const std::string& gcs_address) {
  for (const auto& record : ReadClusterRecords()) {
    if (record.gcs_address == gcs_address && OwnerAlive(record.owner_pid)) return true;
  }
  return false;
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
    std::string recorded;
    for (const auto& record : ReadClusterRecords()) {
      if (OwnerAlive(record.owner_pid)) {
        recorded = record.gcs_address;
        break;
      }
    }
    if (recorded.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "could not find a running Moray cluster on this machine (none recorded in ",
          CurrentClusterFile(), "); start one with `moray start --head`, or pass "
          "--address=HOST:PORT"));
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
