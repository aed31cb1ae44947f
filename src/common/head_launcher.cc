#include "common/head_launcher.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/environment.h"
#include "common/ports.h"
#include "common/session.h"

namespace moray {
namespace fs = std::filesystem;
namespace {

struct Spawned {
  pid_t pid = -1;
  int ready_fd = -1;  // read end: the service writes "<port>\n" when it is ready
};

// Forks and execs `argv` with stdout/stderr to `log_path` and the write end of a pipe as fd 3
// (passed as --ready-fd=3), in this process's environment with `options.service_env` set.
absl::StatusOr<Spawned> Spawn(std::vector<std::string> argv, const std::string& log_path,
                              const HeadOptions& options) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(std::strerror(errno));
  argv.push_back("--ready-fd=3");
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // Built before fork: a driver has other threads, so the child may not allocate.
  std::vector<std::string> env = EnvironmentWith(EnvironmentEntries(options.service_env));
  std::vector<char*> cenv;
  for (auto& var : env) cenv.push_back(var.data());
  cenv.push_back(nullptr);
  const bool detach = options.detach;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    if (detach) setsid();
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    dup2(fds[1], 3);  // dup2 clears CLOEXEC on the new descriptor
    // Every other inherited descriptor goes, however high (a driver's listening socket must not
    // live on in the services).
    if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
      long max_fd = sysconf(_SC_OPEN_MAX);
      for (long fd = 4; fd < (max_fd > 0 ? max_fd : 65536); ++fd) close(static_cast<int>(fd));
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(cargv[0], cargv.data(), cenv.data());
    dprintf(2, "cannot execute %s: %s\n", cargv[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  return Spawned{pid, fds[0]};
}

std::string LogTail(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  if (lines.empty() && absl::EndsWith(path, ".out")) {
    // Nothing on stdout/stderr: the service's own log (<name>.log) says why.
    return LogTail(path.substr(0, path.size() - 4) + ".log");
  }
  size_t from = lines.size() > 8 ? lines.size() - 8 : 0;
  std::vector<std::string> tail(lines.begin() + from, lines.end());
  return absl::StrJoin(tail, "\n");
}

// Reads the service's ready line; fails if it exits or stays silent past `timeout`.
absl::StatusOr<int> AwaitReady(const Spawned& s, const std::string& name, const std::string& log,
                               absl::Duration timeout) {
  std::string text;
  absl::Time deadline = absl::Now() + timeout;
  while (text.find('\n') == std::string::npos) {
    int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (wait_ms <= 0) {
      close(s.ready_fd);
      return absl::DeadlineExceededError(absl::StrCat(name, " did not become ready within ",
                                                      absl::FormatDuration(timeout), "; log ",
                                                      log, ":\n", LogTail(log)));
    }
    pollfd pfd{s.ready_fd, POLLIN, 0};
    if (poll(&pfd, 1, wait_ms) <= 0) continue;
    char buf[64];
    ssize_t n = read(s.ready_fd, buf, sizeof(buf));
    if (n <= 0) {
      // Waits for the exit, so the log is complete, but leaves the zombie for the caller's
      // StopProcesses to reap: the pid it signals is still ours.
      close(s.ready_fd);
      siginfo_t info;
      waitid(P_PID, static_cast<id_t>(s.pid), &info, WEXITED | WNOWAIT);
      return absl::UnavailableError(absl::StrCat(name, " exited during startup; log ", log, ":\n",
                                                 LogTail(log)));
    }
    text.append(buf, static_cast<size_t>(n));
  }
  close(s.ready_fd);
  int port = 0;
  if (!absl::SimpleAtoi(text.substr(0, text.find('\n')), &port)) {
    return absl::InternalError(absl::StrCat(name, " reported a bad port: ", text));
  }
  return port;
}

bool AliveAndNotZombie(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close_paren = stat.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= stat.size() ||
         stat[close_paren + 2] != 'Z';
}

}  // namespace

std::string FindMorayBinary() {
  const char* env = std::getenv("MORAY_BIN");
  if (env && *env) return env;
  auto executable = [](const fs::path& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec) && access(path.c_str(), X_OK) == 0;
  };
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&FindMorayBinary), &info) && info.dli_fname) {
    // <prefix>/lib/libmoray.so -> <prefix>/bin/moray; also for a multiarch libdir
    // (<prefix>/lib/x86_64-linux-gnu) and for a library next to the executable.
    fs::path dir = fs::weakly_canonical(info.dli_fname).parent_path();
    if (executable(dir / "moray")) return (dir / "moray").string();
    for (int up = 0; up < 3 && dir.has_relative_path(); ++up) {
      dir = dir.parent_path();
      if (executable(dir / "bin" / "moray")) return (dir / "bin" / "moray").string();
    }
  }
  // execv does not search PATH: resolve it here.
  const char* path = std::getenv("PATH");
  for (const auto& dir : absl::StrSplit(path ? path : "", ':', absl::SkipEmpty())) {
    fs::path candidate = fs::path(std::string(dir)) / "moray";
    if (executable(candidate)) return fs::absolute(candidate).string();
  }
  return "moray";
}

namespace {

// A fixed port the services cannot use, as one sentence that says what to do about it.
absl::Status CheckServicePort(const std::string& host, int port, const std::string& flag) {
  absl::Status free = CheckPortFree(host, port);
  if (free.ok()) return free;
  if (absl::IsInvalidArgument(free)) {
    return absl::InvalidArgumentError(absl::StrCat("--node-ip-address ", free.message()));
  }
  if (!absl::IsAlreadyExists(free)) return free;
  std::string by = flag == "--port" && IsRecordedCluster(absl::StrCat(host, ":", port))
                       ? " by the Moray cluster running there (`moray stop` ends it; or choose"
                       : " by another process (choose";
  return absl::AlreadyExistsError(
      absl::StrCat(free.message(), by, " another ", flag, ", 0 for any free port)"));
}

// Checked before anything starts, so a port in use leaves no session and no process behind.
absl::Status CheckFixedPorts(const HeadOptions& options, bool is_head) {
  if (is_head && options.gcs_port != 0 && options.gcs_port == options.raylet_port) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--port and --node-manager-port must differ, not both be ", options.gcs_port));
  }
  if (is_head) {
    if (auto s = CheckServicePort(options.node_ip, options.gcs_port, "--port"); !s.ok()) return s;
  }
  if (auto s = CheckServicePort(options.node_ip, options.raylet_port, "--node-manager-port");
      !s.ok()) {
    return s;
  }
  if (options.metrics_export_port != 0 &&
      (options.metrics_export_port == options.raylet_port ||
       (is_head && options.metrics_export_port == options.gcs_port))) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-export-port must differ from the node's other ports, not be ",
                     options.metrics_export_port));
  }
  return CheckServicePort(options.node_ip, options.metrics_export_port, "--metrics-export-port");
}

// Why a service with a fixed port failed to start: if the port is taken now (someone bound it
// between CheckFixedPorts and the service's bind), that, in one sentence; else `failure` with its
// log. Call once the service has exited, so it is not its own port that is taken.
absl::Status ExplainStartFailure(absl::Status failure, const std::string& host, int port,
                                 const std::string& flag) {
  absl::Status taken = CheckServicePort(host, port, flag);
  return absl::IsAlreadyExists(taken) ? taken : failure;
}

absl::StatusOr<std::string> FindServiceBinary() {
  std::string moray = FindMorayBinary();
  if (moray.find('/') == std::string::npos) {
    return absl::NotFoundError(
        "cannot find the moray executable: it is not installed beside libmoray (<prefix>/bin/moray)"
        " nor on PATH; set MORAY_BIN to its path");
  }
  if (access(moray.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot execute the moray binary at ", moray,
                                            " (set MORAY_BIN to its path)"));
  }
  return moray;
}

// Starts the raylet of `node` (its gcs_address and session_dir set) and waits until it is
// registered; fills raylet_pid/host/port.
absl::Status StartRaylet(const HeadOptions& options, const std::string& moray, bool is_head,
                         StartedHead* node) {
  HeadOptions raylet_options = options;
  if (raylet_options.object_store_prefault < 0 && options.owner_pid > 0) {
    raylet_options.object_store_prefault = kEmbeddedPrefault;
  }
  std::vector<std::string> argv = {moray, "raylet",
                                   absl::StrCat("--gcs-address=", node->gcs_address),
                                   absl::StrCat("--session-dir=", node->session_dir)};
  if (is_head) argv.push_back("--head");
  if (options.owner_pid > 0) argv.push_back(absl::StrCat("--owner-pid=", options.owner_pid));
  for (auto& arg : ServiceArgs(raylet_options, NodeService::kRaylet)) argv.push_back(arg);
  std::string raylet_log = node->session_dir + "/logs/raylet.out";
  auto raylet = Spawn(argv, raylet_log, options);
  if (!raylet.ok()) return raylet.status();
  node->raylet_pid = raylet->pid;
  auto raylet_port = AwaitReady(*raylet, "the raylet", raylet_log, absl::Seconds(30));
  if (!raylet_port.ok()) {
    StopProcesses({node->raylet_pid}, absl::Seconds(2));
    return ExplainStartFailure(raylet_port.status(), options.node_ip, options.raylet_port,
                               "--node-manager-port");
  }
  node->raylet_host = options.node_ip;
  node->raylet_port = *raylet_port;
  (void)RecordPid(node->session_dir, node->raylet_pid, "raylet");
  return absl::OkStatus();
}

// Starts the dashboard of the head whose GCS runs. A dashboard that cannot start leaves the
// reason in head->dashboard_error: the cluster works without it.
void StartDashboard(const HeadOptions& options, const std::string& moray, StartedHead* head) {
  if (options.dashboard_port != 0) {
    absl::Status free = CheckPortFree(options.dashboard_host, options.dashboard_port);
    if (!free.ok()) {
      head->dashboard_error = absl::StrCat(
          "the dashboard was not started: ", free.message(),
          " (--dashboard-port=0 picks any free port, --include-dashboard=false starts none)");
      return;
    }
  }
  std::vector<std::string> argv = {moray, "dashboard",
                                   absl::StrCat("--gcs-address=", head->gcs_address),
                                   absl::StrCat("--session-dir=", head->session_dir)};
  for (auto& arg : ServiceArgs(options, NodeService::kDashboard)) argv.push_back(arg);
  std::string log = head->session_dir + "/logs/dashboard.out";
  auto dashboard = Spawn(argv, log, options);
  if (!dashboard.ok()) {
    head->dashboard_error =
        absl::StrCat("the dashboard was not started: ", dashboard.status().message());
    return;
  }
  head->dashboard_pid = dashboard->pid;
  auto port = AwaitReady(*dashboard, "the dashboard", log, absl::Seconds(30));
  if (!port.ok()) {
    StopProcesses({head->dashboard_pid}, absl::Seconds(2));
    head->dashboard_pid = -1;
    head->dashboard_error = std::string(port.status().message());
    return;
  }
  const bool wildcard = options.dashboard_host == "0.0.0.0" || options.dashboard_host == "::";
  head->dashboard_address =
      absl::StrCat(wildcard ? options.node_ip : options.dashboard_host, ":", *port);
  (void)RecordPid(head->session_dir, head->dashboard_pid, "dashboard");
}

// Starts the GCS and the head's raylet in `head->session_dir`; on failure nothing runs.
absl::Status StartHeadServices(const HeadOptions& options, const std::string& moray,
                               StartedHead* head) {
  std::vector<std::string> argv = {moray, "gcs-server",
                                   absl::StrCat("--session-dir=", head->session_dir)};
  if (options.owner_pid > 0) argv.push_back(absl::StrCat("--owner-pid=", options.owner_pid));
  for (auto& arg : ServiceArgs(options, NodeService::kGcs)) argv.push_back(arg);
  std::string gcs_log = head->session_dir + "/logs/gcs_server.out";
  auto gcs = Spawn(argv, gcs_log, options);
  if (!gcs.ok()) return gcs.status();
  head->gcs_pid = gcs->pid;
  auto gcs_port = AwaitReady(*gcs, "the GCS server", gcs_log, absl::Seconds(30));
  if (!gcs_port.ok()) {
    StopProcesses({head->gcs_pid}, absl::Seconds(2));
    return ExplainStartFailure(gcs_port.status(), options.node_ip, options.gcs_port, "--port");
  }
  head->gcs_address = absl::StrCat(options.node_ip, ":", *gcs_port);
  (void)RecordPid(head->session_dir, head->gcs_pid, "gcs_server");

  if (auto started = StartRaylet(options, moray, /*is_head=*/true, head); !started.ok()) {
    StopProcesses({head->gcs_pid}, absl::Seconds(2));
    return started;
  }
  if (options.include_dashboard) StartDashboard(options, moray, head);
  return absl::OkStatus();
}

// Runs `start` in `options.session_dir`, or in a fresh session directory that is removed again if
// the start fails for a port in use (its logs hold nothing to read then).
absl::StatusOr<StartedHead> StartInSession(
    const HeadOptions& options, const std::function<absl::Status(StartedHead*)>& start) {
  StartedHead node;
  node.session_dir = options.session_dir;
  if (node.session_dir.empty()) {
    auto dir = CreateSessionDir();
    if (!dir.ok()) return dir.status();
    node.session_dir = *dir;
  }
  absl::Status started = start(&node);
  if (started.ok()) return node;
  if (options.session_dir.empty() && absl::IsAlreadyExists(started)) {
    RemoveSessionDir(node.session_dir);
  }
  return started;
}

}  // namespace

absl::StatusOr<StartedHead> StartHead(const HeadOptions& options) {
  if (auto ports = CheckFixedPorts(options, /*is_head=*/true); !ports.ok()) return ports;
  auto moray = FindServiceBinary();
  if (!moray.ok()) return moray.status();
  return StartInSession(options, [&](StartedHead* head) {
    return StartHeadServices(options, *moray, head);
  });
}

absl::StatusOr<StartedHead> StartWorkerNode(const HeadOptions& options,
                                            const std::string& gcs_address) {
  if (auto ports = CheckFixedPorts(options, /*is_head=*/false); !ports.ok()) return ports;
  auto moray = FindServiceBinary();
  if (!moray.ok()) return moray.status();
  return StartInSession(options, [&](StartedHead* node) {
    node->gcs_address = gcs_address;
    return StartRaylet(options, *moray, /*is_head=*/false, node);
  });
}

void StopProcesses(const std::vector<pid_t>& pids, absl::Duration grace) {
  for (pid_t pid : pids) {
    if (pid > 0) kill(pid, SIGTERM);
  }
  absl::Time deadline = absl::Now() + grace;
  for (pid_t pid : pids) {
    if (pid <= 0) continue;
    while (true) {
      int status;
      pid_t r = waitpid(pid, &status, WNOHANG);
      // Not our child (`moray stop`): it is gone once it is a zombie; its parent (often init)
      // may take seconds to reap it.
      if (r == pid || (r < 0 && errno == ECHILD && !AliveAndNotZombie(pid))) break;
      if (absl::Now() >= deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      // A short sleep while a child shuts down: this is process teardown, not a hot path, and
      // waitpid has no timeout variant.
      usleep(2000);
    }
  }
}

}  // namespace moray
