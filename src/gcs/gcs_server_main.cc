#include "gcs/gcs_server_main.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/environment.h"
#include "common/logging.h"
#include "common/service_signals.h"
#include "gcs/gcs_server.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {
namespace {

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

}  // namespace

int RunGcsServer(const GcsServerOptions& options) {
  InitLogging("gcs_server",
              options.session_dir.empty() ? "" : options.session_dir + "/logs/gcs_server.log");
  absl::StatusOr<int> stop_fd = InstallStopSignalPipe();
  if (!stop_fd.ok()) {
    spdlog::error("{}", std::string(stop_fd.status().message()));
    return 1;
  }
  bool owner_gone = false;
  int owner_fd = options.owner_pid > 0 ? WatchOwner(options.owner_pid, &owner_gone) : -1;
  if (owner_gone) {
    spdlog::info("owner process {} already exited; not starting", options.owner_pid);
    return 0;
  }

  absl::StatusOr<bool> latency = RpcLatencyMetricsFromEnv();
  if (!latency.ok()) {
    spdlog::error("{}", std::string(latency.status().message()));
    if (options.ready_fd >= 0) close(options.ready_fd);
    return 1;
  }
  GcsServer server({.host = options.host,
                    .port = options.port,
                    .max_task_records =
                        static_cast<size_t>(std::max<int64_t>(1, options.max_task_records)),
                    .rpc_latency_metrics = *latency,
                    .session_dir = options.session_dir,
                    .health_check = {.period = absl::Milliseconds(options.health_check_period_ms),
                                     .timeout = absl::Milliseconds(options.health_check_timeout_ms),
                                     .failure_threshold = options.health_check_failure_threshold}});
  if (auto status = server.Start(); !status.ok()) {
    spdlog::error("{}", status.ToString());
    if (options.ready_fd >= 0) close(options.ready_fd);  // the reader sees EOF, not a hang
    return 1;
  }
  ReportReady(options.ready_fd, server.port(), "GCS");

  pollfd fds[2] = {{*stop_fd, POLLIN, 0}, {owner_fd, POLLIN, 0}};
  const nfds_t nfds = owner_fd >= 0 ? 2 : 1;
  while (true) {
    int n = poll(fds, nfds, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      spdlog::error("poll failed: {}", std::strerror(errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      spdlog::info("received signal {}, shutting down", ReadStopSignal(*stop_fd));
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
