#include "raylet/raylet_main.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/environment.h"
#include "common/logging.h"
#include "common/service_signals.h"
#include "gcs/gcs_client.h"
#include "raylet/gcs_client_accessor.h"
#include "raylet/package_fetcher.h"
#include "raylet/raylet.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {

int RunRaylet(const RayletOptions& options) {
  InitLogging("raylet",
              options.session_dir.empty() ? "" : absl::StrCat(options.session_dir, "/logs/raylet.log"));
  // Blocked before any thread exists, so every thread inherits the mask and the signals wait for
  // the signalfd below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);

  int owner_fd = -1;
  if (options.owner_pid > 0) {
    owner_fd = static_cast<int>(syscall(SYS_pidfd_open, options.owner_pid, 0));
    if (owner_fd < 0) {
      spdlog::error("owner process {} is gone ({}); not starting", options.owner_pid,
                    strerror(errno));
      return 1;
    }
  }

  absl::StatusOr<std::unique_ptr<gcs::GcsClient>> client =
      gcs::GcsClient::Connect(options.gcs_address, absl::Seconds(10));
  if (!client.ok()) {
    spdlog::error("raylet cannot start: {}", std::string(client.status().message()));
    return 1;
  }
  // Workers and drivers are told the GCS's address resolved: their event loops take IP addresses.
  RayletOptions resolved = options;
  absl::StatusOr<bool> latency = RpcLatencyMetricsFromEnv();
  if (!latency.ok()) {
    spdlog::error("raylet cannot start: {}", std::string(latency.status().message()));
    return 1;
  }
  resolved.rpc_latency_metrics = *latency;
  resolved.gcs_address = (*client)->endpoint().ToString();
  resolved.fetch_package = MakePackageFetcher(resolved.gcs_address);
  Raylet raylet(resolved, std::make_unique<GcsClientAccessor>(*std::move(client)));
  // Declared dead by the GCS: stop as on SIGTERM, but exit with an error.
  std::atomic<bool> declared_dead{false};
  raylet.set_on_declared_dead([&declared_dead](const std::string&) {
    declared_dead = true;
    kill(getpid(), SIGTERM);
  });
  absl::Status started = raylet.Start();
  if (!started.ok()) {
    spdlog::error("raylet cannot start: {}", started.ToString());
    return 1;
  }
  ReportReady(options.ready_fd, raylet.port(), "raylet");

  pollfd fds[2] = {{signal_fd, POLLIN, 0}, {owner_fd, POLLIN, 0}};
  while (true) {
    const int n = poll(fds, owner_fd >= 0 ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      spdlog::error("poll: {}", strerror(errno));
      break;
    }
    if (fds[0].revents != 0) {
      signalfd_siginfo info;
      ssize_t ignored = read(signal_fd, &info, sizeof info);
      (void)ignored;
      spdlog::info("raylet received signal {}; stopping", info.ssi_signo);
      break;
    }
    if (owner_fd >= 0 && fds[1].revents != 0) {
      spdlog::info("owner process {} exited; stopping", options.owner_pid);
      break;
    }
  }
  raylet.Stop();
  if (owner_fd >= 0) close(owner_fd);
  if (signal_fd >= 0) close(signal_fd);
  return declared_dead ? 1 : 0;
}

}  // namespace moray::raylet
