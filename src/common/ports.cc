#include "common/ports.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace moray {

absl::Status CheckPortFree(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
      return absl::OkStatus();
    }
    addr.sin_addr = reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr;
    freeaddrinfo(found);
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::OkStatus();  // nothing learned; the service will say what fails
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int err = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 ? 0 : errno;
  close(fd);
  switch (err) {
    case 0:
      return absl::OkStatus();
    case EADDRINUSE:
      return absl::AlreadyExistsError(
          absl::StrCat("port ", port, " on ", host, " is already in use"));
    case EACCES:
      return absl::PermissionDeniedError(absl::StrCat(
          "port ", port, " on ", host, " needs root: ports below 1024 are privileged"));
    case EADDRNOTAVAIL:
      return absl::InvalidArgumentError(
          absl::StrCat(host, " is not an address of this machine"));
    default:
      return absl::UnavailableError(
          absl::StrCat("cannot use port ", port, " on ", host, ": ", std::strerror(err)));
  }
}

}  // namespace moray
