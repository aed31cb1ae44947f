// Whether a service can listen on a TCP port, asked before it tries: a user starting a second
// cluster on the same port should read one sentence, whoever reports the bind failure later.
//
//   if (auto free = CheckPortFree("127.0.0.1", 6379); !free.ok()) return free;
#pragma once

#include <string>

#include "absl/status/status.h"

namespace moray {

// OK if a listening socket could be bound to host:port now (port 0: any port, so only the host is
// checked; a host this cannot resolve passes, and the service then reports it). Otherwise one
// sentence:
//   AlreadyExists     "port 6379 on 127.0.0.1 is already in use"
//   PermissionDenied  "port 80 on 127.0.0.1 needs root: ports below 1024 are privileged"
//   InvalidArgument   "10.9.9.9 is not an address of this machine"
// Binds as the services do (SO_REUSEADDR, no SO_REUSEPORT), so a port another service listens on
// is in use whatever options that service set.
absl::Status CheckPortFree(const std::string& host, int port);

}  // namespace moray
