// Socket addresses and options shared by the channel's connections and servers (src/rpc only).
#pragma once

#include <netinet/in.h>
#include <sys/un.h>

#include <string>

#include "absl/status/statusor.h"

namespace moray::rpc {

// TCP_NODELAY (for TCP) and O_NONBLOCK.
void SetSocketOptions(int fd, bool tcp);
// A Unix socket address; InvalidArgument if the path is empty or too long for sockaddr_un.
absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path);
// An IPv4 address, not a name: resolving may block, and this runs on event loops
// (ResolveAddress, in channel.h, resolves names off the loops).
absl::StatusOr<sockaddr_in> Address(const std::string& ip, int port);

}  // namespace moray::rpc
