#include "object_store/store_handshake.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace moray::object_store {

absl::StatusOr<std::pair<int, uint64_t>> ReceiveStoreRegion(int fd, absl::Duration timeout) {
  pollfd pfd{fd, POLLIN, 0};
  int ready;
  do {
    ready = poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    return absl::DeadlineExceededError("the object store did not send its shared memory in time");
  }
  uint64_t size = 0;
  iovec iov{&size, sizeof(size)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  int memfd = -1;
  if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
    std::memcpy(&memfd, CMSG_DATA(cmsg), sizeof(int));
  }
  if (n != static_cast<ssize_t>(sizeof(size)) || memfd < 0 || size == 0) {
    if (memfd >= 0) close(memfd);
    return absl::UnavailableError(absl::StrCat(
        "the object store sent no shared memory", n < 0 ? absl::StrCat(": ", std::strerror(errno)) : ""));
  }
  return std::make_pair(memfd, size);
}

}  // namespace moray::object_store
