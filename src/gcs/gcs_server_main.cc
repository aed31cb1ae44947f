#include "gcs/gcs_server_main.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "gcs/gcs_server.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {
namespace {

// Self-pipe: the signal handler only writes a byte; the main thread sleeps in poll() on the read
// end together with the owner's pidfd, so neither a signal nor the owner's exit needs polling.
int g_signal_pipe[2] = {-1, -1};

void OnSignal(int signo) {
  int saved = errno;
  char byte = static_cast<char>(signo);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

bool InstallSignalHandlers() {
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return true;
}

// A descriptor that becomes readable when `pid` exits, or -1 (with `*gone` set when the process
// has already exited).
int WatchOwner(int pid, bool* gone) {
  *gone = false;
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) return fd;
  if (errno == ESRCH) {
    *gone = true;
  } else if (getppid() == pid) {
    // Kernels before 5.3 have no pidfd; the parent-death signal covers the common case where the
    // owner is our parent.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != pid) *gone = true;
  } else {
    spdlog::warn("cannot watch owner process {}: {}; the GCS will not exit with it", pid,
                 std::strerror(errno));
  }
  return -1;
}

void ReportReady(int fd, int port) {
  std::string line = absl::StrCat(port, "\n");
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    spdlog::warn("could not report the GCS port on fd {}: {}", fd, std::strerror(errno));
  }
  close(fd);
}

}  // namespace

int RunGcsServer(const GcsServerOptions& options) {
  InitLogging("gcs_server",
              options.session_dir.empty() ? "" : options.session_dir + "/logs/gcs_server.log");
  if (!InstallSignalHandlers()) {
    spdlog::error("cannot create the signal pipe: {}", std::strerror(errno));
    return 1;
  }
  bool owner_gone = false;
  int owner_fd = options.owner_pid > 0 ? WatchOwner(options.owner_pid, &owner_gone) : -1;
  if (owner_gone) {
    spdlog::info("owner process {} already exited; not starting", options.owner_pid);
    return 0;
  }

  GcsServer server({.host = options.host,
                    .port = options.port,
                    .max_task_records = options.max_task_records,
                    .health_check = {
                        .period = absl::Milliseconds(options.health_check_period_ms),
                        .timeout = absl::Milliseconds(options.health_check_timeout_ms),
                        .failure_threshold = options.health_check_failure_threshold}});
  if (auto status = server.Start(); !status.ok()) {
    spdlog::error("{}", status.ToString());
    if (options.ready_fd >= 0) close(options.ready_fd);  // the reader sees EOF, not a hang
    return 1;
  }
  if (options.ready_fd >= 0) ReportReady(options.ready_fd, server.port());

  pollfd fds[2] = {{g_signal_pipe[0], POLLIN, 0}, {owner_fd, POLLIN, 0}};
  const nfds_t nfds = owner_fd >= 0 ? 2 : 1;
  while (true) {
    int n = poll(fds, nfds, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      spdlog::error("poll failed: {}", std::strerror(errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      char signo = 0;
      [[maybe_unused]] ssize_t r = read(g_signal_pipe[0], &signo, 1);
      spdlog::info("received signal {}, shutting down", static_cast<int>(signo));
      break;
    }
    if (nfds == 2 && fds[1].revents != 0) {
      spdlog::info("owner process {} exited, shutting down", options.owner_pid);
      break;
    }
  }
  server.Stop();
  if (owner_fd >= 0) close(owner_fd);
  return 0;
}

}  // namespace moray::gcs
