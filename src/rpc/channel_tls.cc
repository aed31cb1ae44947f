// The Connection's TLS session (rpc/tls.h): starting it, driving its handshake on the loop,
// and reading and writing through it.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "rpc/channel.h"
#include "rpc/tls.h"

namespace moray::rpc {

absl::Status Connection::StartTls(bool connecting) {
  absl::StatusOr<SSL_CTX*> context = ProcessTlsContext();
  if (!context.ok()) return context.status();
  if (*context == nullptr) return absl::OkStatus();  // TLS is off
  ssl_ = SSL_new(*context);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
    return absl::InternalError(absl::StrCat("cannot start TLS with ", peer_));
  }
  if (connecting) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
  tls_handshaking_ = true;
  return absl::OkStatus();
}

void Connection::DriveTlsHandshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    tls_handshaking_ = false;
    WantWrite(false);
    FlushWrites();
    HandleReadable();  // the peer's first frames may have come with its last handshake record
    return;
  }
  int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    WantWrite(error == SSL_ERROR_WANT_WRITE);
    return;
  }
  unsigned long code = ERR_get_error();
  char reason[256] = "the peer closed the connection";
  if (code != 0) ERR_error_string_n(code, reason, sizeof(reason));
  ERR_clear_error();
  CloseWithStatus(absl::UnauthenticatedError(
      absl::StrCat("the TLS handshake with ", peer_, " failed: ", reason,
                   " (both sides need RAY_USE_TLS and certificates from the same CA)")));
}

void Connection::WantWrite(bool want) {
  if (want == want_write_ || !watching_) return;
  want_write_ = want;
  loop_->Modify(fd_, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0));
}

ssize_t Connection::ReadSome(char* buffer, size_t size) {
  if (ssl_ == nullptr) return read(fd_, buffer, size);
  ERR_clear_error();
  int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return n;
  int error = SSL_get_error(ssl_, n);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    errno = EAGAIN;
    return -1;
  }
  if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
    return 0;  // the peer closed
  }
  ERR_clear_error();
  errno = ECONNRESET;
  return -1;
}

ssize_t Connection::WriteSome(const char* data, size_t size) {
  // MSG_NOSIGNAL: a peer that went away is an error to handle, not a SIGPIPE that kills us.
  if (ssl_ == nullptr) return send(fd_, data, size, MSG_NOSIGNAL);
  ERR_clear_error();
  int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return n;
  int error = SSL_get_error(ssl_, n);
  if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
    errno = EAGAIN;
    return -1;
  }
  ERR_clear_error();
  errno = EPIPE;
  return -1;
}

}  // namespace moray::rpc
