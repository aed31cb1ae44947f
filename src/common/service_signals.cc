#include "common/service_signals.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace moray {
namespace {

int g_signal_pipe[2] = {-1, -1};

void OnSignal(int signo) {
  int saved = errno;
  char byte = static_cast<char>(signo);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

absl::StatusOr<int> InstallStopSignalPipe() {
  if (g_signal_pipe[0] >= 0) return g_signal_pipe[0];
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("cannot create the signal pipe: ", strerror(errno)));
  }
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return g_signal_pipe[0];
}

int ReadStopSignal(int fd) {
  char signo = 0;
  return read(fd, &signo, 1) == 1 ? static_cast<int>(signo) : 0;
}

void ReportReady(int fd, int port, std::string_view service) {
  if (fd < 0) return;
  const std::string line = absl::StrCat(port, "\n");
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    spdlog::warn("could not report the {} port on fd {}: {}", std::string(service), fd,
                 std::strerror(errno));
  }
  close(fd);
}

}  // namespace moray
