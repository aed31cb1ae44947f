#include "tests/test_env.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace moray::testing {
namespace fs = std::filesystem;
namespace {
std::string& Root() {
  static std::string root;
  return root;
}

}  // namespace

std::string ReadFile(const std::string& path) {
  // read(2), not a stream: a /proc file of a process that exits while it is read fails with
  // ESRCH, which std::filebuf turns into an exception.
  std::string text;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  return text;
}

void PrivateTmpDir::SetUp() {
  char tmpl[] = "/tmp/moray-test-XXXXXX";
  Root() = mkdtemp(tmpl);
  setenv("MORAY_TMPDIR", Root().c_str(), 1);
  unsetenv("RAY_ADDRESS");
  // `moray start --head` and the embedded cluster write ~/.ray/auth_token when no source has a
  // token: that must be this binary's file, never the user's. Tokens from outside are dropped, so
  // every test begins from "no token anywhere" (a test may set its own).
  const std::string home = Root() + "/home";
  mkdir(home.c_str(), 0700);
  setenv("HOME", home.c_str(), 1);
  unsetenv("RAY_AUTH_TOKEN");
  unsetenv("RAY_AUTH_TOKEN_PATH");
}

void PrivateTmpDir::TearDown() {
  // Anything the test left running (a failed test's cluster) goes first, then the files.
  for (pid_t pid : ProcessesOfThisTest()) {
    if (pid != getpid()) kill(pid, SIGKILL);
  }
  std::error_code ec;
  if (!std::getenv("MORAY_KEEP_TEST_DIR")) fs::remove_all(Root(), ec);
}

const std::string& PrivateTmpDir::path() { return Root(); }

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

CommandResult RunShell(const std::string& command) {
  char out_tmpl[] = "/tmp/moray-out-XXXXXX";
  char err_tmpl[] = "/tmp/moray-err-XXXXXX";
  int out_fd = mkstemp(out_tmpl);
  int err_fd = mkstemp(err_tmpl);
  close(out_fd);
  close(err_fd);
  // A subshell, so that the redirections apply to every command of a list ("a; b"), not the last.
  std::string full = "(" + command + "\n) >" + out_tmpl + " 2>" + err_tmpl + " </dev/null";
  int status = std::system(full.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out_tmpl);
  result.err = ReadFile(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  return result;
}

CommandResult RunMoray(const std::vector<std::string>& args) {
  const char* bin = std::getenv("MORAY_BIN");
  std::string command = bin ? bin : "moray";
  for (const auto& arg : args) {
    std::string quoted = "'";
    for (char c : arg) {
      if (c == '\'') {
        quoted += "'\\''";
      } else {
        quoted += c;
      }
    }
    command += " " + quoted + "'";
  }
  return RunShell(command);
}

CommandResult RunMorayJob(const std::string& address, std::vector<std::string> args) {
  args.insert(args.begin() + (args.empty() ? 0 : 1), "--address=" + address);
  args.insert(args.begin(), "job");
  return RunMoray(args);
}

std::string JobStatusOf(const std::string& address, const std::string& id) {
  std::smatch m;
  const std::string out = RunMorayJob(address, {"status", id}).out;
  return std::regex_search(out, m, std::regex("Status for job '[^']*': (\\S+)")) ? m[1].str()
                                                                                 : out;
}

nlohmann::json RunMorayJson(const std::vector<std::string>& args, std::string* error) {
  std::vector<std::string> full = args;
  full.insert(full.end(), {"--format", "json"});
  CommandResult result = RunMoray(full);
  nlohmann::json parsed = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  if (result.exit_code == 0 && !parsed.is_discarded()) return parsed;
  if (error) *error = "exit " + std::to_string(result.exit_code) + ": " + result.out + result.err;
  return nullptr;
}

void Touch(const std::string& path) { std::ofstream(path, std::ios::app).flush(); }

std::string Scratch(const std::string& name) { return PrivateTmpDir::path() + "/" + name; }

int LineCount(const std::string& path) {
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

bool FileExists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool AwaitFile(const std::string& path, std::chrono::milliseconds timeout) {
  return WaitFor([&] { return FileExists(path); }, timeout);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<pid_t> RecordedServicePids() {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(Root(), ec)) {
    std::ifstream in(entry.path() / "pids");
    pid_t pid;
    std::string name;
    while (in >> pid >> name) pids.push_back(pid);
  }
  return pids;
}

bool ProcessAlive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  // A zombie is dead for our purposes.
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  return close_paren == std::string::npos || stat.size() < close_paren + 3 ||
         stat[close_paren + 2] != 'Z';
}

std::vector<pid_t> ProcessesOfThisTest() {
  std::vector<pid_t> pids;
  std::string needle = "MORAY_TMPDIR=" + Root();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    pid_t pid = std::stoi(name);
    std::string env = ReadFile(entry.path() / "environ");
    size_t pos = 0;
    bool match = false;
    while (pos < env.size()) {
      size_t end = env.find('\0', pos);
      if (end == std::string::npos) end = env.size();
      if (env.compare(pos, end - pos, needle) == 0) {
        match = true;
        break;
      }
      pos = end + 1;
    }
    if (match && ProcessAlive(pid)) pids.push_back(pid);
  }
  return pids;
}

ListeningSocket::ListeningSocket(int port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  listening_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
               listen(fd_, 1) == 0;
  socklen_t len = sizeof(addr);
  if (listening_ && getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port_ = ntohs(addr.sin_port);
  }
}

ListeningSocket::~ListeningSocket() {
  if (fd_ >= 0) close(fd_);
}

std::string GcsAddressOf(const CommandResult& started) {
  std::smatch m;
  if (!std::regex_search(started.out, m, std::regex("GCS address: (\\S+)"))) return "";
  return m[1];
}

std::string StartHead(std::string* error) {
  CommandResult started =
      RunMoray({"start", "--head", "--port=0", "--num-cpus=2", "--dashboard-port=0"});
  std::string address = started.exit_code == 0 ? GcsAddressOf(started) : "";
  if (address.empty()) *error = started.out + started.err;
  return address;
}

}  // namespace moray::testing
