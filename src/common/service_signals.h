// What the main thread of a service process (`moray gcs-server`, `moray dashboard`) waits on and
// tells its starter: SIGTERM and SIGINT turned into a byte on a self-pipe (the handler only
// writes; the main thread sleeps in poll() on the read end, with other descriptors if it has
// them, so a signal needs no polling), and the port it listens on written to the ready pipe.
//
//   absl::StatusOr<int> stop_fd = InstallStopSignalPipe();   // before serving
//   ReportReady(options.ready_fd, port, "GCS");               // the starter reads "<port>\n"
//   pollfd fds[] = {{*stop_fd, POLLIN, 0}, ...};  poll(...);
//   int signo = ReadStopSignal(*stop_fd);
//
// The raylet blocks its stop signals in every thread and reads them from a signalfd instead
// (raylet_main.cc): its workers must not inherit that mask, which it resets in process.cc.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"

namespace moray {

// Installs the handlers (once per process) and ignores SIGPIPE; returns the pipe's read end.
absl::StatusOr<int> InstallStopSignalPipe();
// The signal number a stop signal wrote (0 if none was there to read).
int ReadStopSignal(int fd);
// Writes "<port>\n" to `fd` and closes it (a negative fd: nothing); `service` names the process
// in the warning if the starter went away.
void ReportReady(int fd, int port, std::string_view service);

}  // namespace moray
