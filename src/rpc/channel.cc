#include "rpc/channel.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/message_lite.h"
#include "rpc.pb.h"
#include "rpc/sockets.h"
#include "rpc/tls.h"


#include "spdlog/spdlog.h"

namespace moray::rpc {
namespace {

void PutU16(char* p, uint16_t v) { std::memcpy(p, &v, 2); }
void PutU32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
void PutU64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Logs the first few refusals of each kind in full, then one in 1000: a port scanner must not
// fill the log.
bool ShouldLogRefusal() {
  static std::atomic<uint64_t> refusals{0};
  uint64_t n = refusals.fetch_add(1);
  return n < 10 || n % 1000 == 0;
}

}  // namespace

absl::Status Frame::ParseBody(google::protobuf::MessageLite* message) const {
  if (!message->ParseFromString(body)) {
    return absl::InvalidArgumentError(absl::StrCat("malformed message for method ", method));
  }
  return absl::OkStatus();
}

absl::Status Frame::ParseBodyWithPayload(google::protobuf::MessageLite* message,
                                         std::string_view* payload) const {
  uint32_t size = 0;
  if (body.size() < sizeof(size)) {
    return absl::InvalidArgumentError(absl::StrCat("short payload frame for method ", method));
  }
  std::memcpy(&size, body.data(), sizeof(size));
  if (body.size() - sizeof(size) < size ||
      !message->ParseFromArray(body.data() + sizeof(size), static_cast<int>(size))) {
    return absl::InvalidArgumentError(absl::StrCat("malformed message for method ", method));
  }
  *payload = std::string_view(body).substr(sizeof(size) + size);
  return absl::OkStatus();
}

Connection::Connection(EventLoop* loop, int fd, std::string peer)
    : loop_(loop), fd_(fd), peer_(std::move(peer)) {}

Connection::~Connection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  close(fd_);
}

absl::StatusOr<std::shared_ptr<Connection>> Connection::Connect(EventLoop* loop,
                                                                const std::string& ip, int port,
                                                                absl::Duration timeout) {
  std::string peer = absl::StrCat(ip, ":", port);
  auto addr = Address(ip, port);
  if (!addr.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot connect to ", peer, ": ",
                                                   addr.status().message()));
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof(*addr));
  if (rc != 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", peer, ": ", std::strerror(err)));
  }
  SetSocketOptions(fd, /*tcp=*/true);
  std::shared_ptr<Connection> conn(new Connection(loop, fd, peer));
  if (absl::Status tls = conn->StartTls(/*connecting=*/true); !tls.ok()) return tls;
  conn->connecting_ = rc != 0;
  conn->connected_ = rc == 0;
  conn->connect_timeout_ = timeout;
  conn->SendHello();
  return conn;
}

void Connection::SendHello() {
  LocalIdentity identity = GetLocalIdentity();
  proto::Hello hello;
  hello.set_version(identity.version);
  hello.set_token(identity.token);
  hello.set_role(identity.role);
  std::weak_ptr<Connection> weak = weak_from_this();
  Call(kHelloMethod, hello, [weak](absl::Status status, Frame&&) {
    if (status.ok() || absl::IsUnavailable(status)) return;  // accepted, or closed anyway
    if (auto self = weak.lock()) {
      self->CloseWithStatus(absl::Status(
          status.code(), absl::StrCat(self->peer_, " refused the connection: ", status.message())));
    }
  });
}

void Connection::FinishConnect() {
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err == EINPROGRESS || err == EALREADY) return;
  if (connect_timer_ != 0) {
    loop_->CancelTimer(connect_timer_);
    connect_timer_ = 0;
  }
  if (err != 0) {
    CloseWithStatus(absl::UnavailableError(
        absl::StrCat("cannot connect to ", peer_, ": ", std::strerror(err))));
    return;
  }
  connecting_ = false;
  connected_ = true;
  if (tls_handshaking_) {
    DriveTlsHandshake();
    return;
  }
  WantWrite(false);
  FlushWrites();  // asks for EPOLLOUT again if the queue does not fit the socket
}

absl::StatusOr<std::shared_ptr<Connection>> Connection::ConnectUnix(EventLoop* loop,
                                                                    const std::string& path,
                                                                    absl::Duration timeout,
                                                                    SocketHook hook) {
  auto addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  // A Unix connect does not block on the network: it either succeeds, fails, or (backlog full)
  // fails with EAGAIN, which we retry until the deadline.
  const absl::Time deadline = absl::Now() + timeout;
  while (connect(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN && absl::Now() < deadline) {
      poll(nullptr, 0, 1);
      continue;
    }
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", path, ": ", std::strerror(err)));
  }
  if (hook) {
    absl::Status hooked = hook(fd);
    if (!hooked.ok()) {
      close(fd);
      return hooked;
    }
  }
  SetSocketOptions(fd, /*tcp=*/false);
  std::shared_ptr<Connection> conn(new Connection(loop, fd, absl::StrCat("unix:", path)));
  conn->unix_socket_ = true;
  return conn;
}

std::shared_ptr<Connection> Connection::Adopt(EventLoop* loop, int fd,
                                             std::shared_ptr<const Accepting> accepting) {
  sockaddr_storage storage{};
  socklen_t len = sizeof(storage);
  std::string peer = "unknown";
  bool tcp = false;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &len) == 0) {
    if (storage.ss_family == AF_INET) {
      tcp = true;
      const auto* addr = reinterpret_cast<const sockaddr_in*>(&storage);
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &addr->sin_addr, buf, sizeof(buf));
      peer = absl::StrCat(buf, ":", ntohs(addr->sin_port));
    } else if (storage.ss_family == AF_UNIX) {
      peer = "unix-client";
    }
  }
  SetSocketOptions(fd, tcp);
  std::shared_ptr<Connection> conn(new Connection(loop, fd, peer));
  conn->unix_socket_ = storage.ss_family == AF_UNIX;
  if (accepting != nullptr && tcp) {
    if (absl::Status tls = conn->StartTls(/*connecting=*/false); !tls.ok()) {
      spdlog::error("channel {}: {}; closing", peer, std::string(tls.message()));
      conn->CloseWithStatus(tls);
    }
  }
  conn->accepting_ = std::move(accepting);
  return conn;
}

void Connection::SetHandlers(MessageHandler on_message, CloseHandler on_close) {
  auto self = shared_from_this();
  auto install = [self, on_message = std::move(on_message), on_close = std::move(on_close)]() mutable {
    self->on_message_ = std::move(on_message);
    self->on_close_ = std::move(on_close);
    if (self->closed()) return;
    self->watching_ = true;
    if (self->accepting_) {
      std::weak_ptr<Connection> weak = self;
      const absl::Duration timeout = self->accepting_->hello_timeout;
      self->loop_->RunAfter(timeout, [weak, timeout] {
        auto conn = weak.lock();
        if (!conn || !conn->accepting_ || conn->closed()) return;
        if (ShouldLogRefusal()) {
          spdlog::warn("dropped a connection from {}: no handshake within {}", conn->peer_,
                       absl::FormatDuration(timeout));
        }
        conn->CloseWithStatus(absl::DeadlineExceededError(absl::StrCat(
            "no handshake from ", conn->peer_, " within ", absl::FormatDuration(timeout))));
      });
    }
    // The watch holds the connection alive until CloseOnLoop unwatches it.
    self->want_write_ = self->connecting_;  // a connect completes when the socket is writable
    self->loop_->Watch(self->fd_, EPOLLIN | EPOLLRDHUP | (self->connecting_ ? EPOLLOUT : 0),
                       [self](uint32_t events) { self->OnEvents(events); });
    if (self->connecting_) {
      std::weak_ptr<Connection> weak = self;
      self->connect_timer_ = self->loop_->RunAfter(self->connect_timeout_, [weak] {
        auto conn = weak.lock();
        if (!conn || !conn->connecting_) return;
        conn->connect_timer_ = 0;
        conn->CloseWithStatus(absl::DeadlineExceededError(
            absl::StrCat("timed out connecting to ", conn->peer_, " after ",
                         absl::FormatDuration(conn->connect_timeout_))));
      });
      return;
    }
    if (self->tls_handshaking_) {
      self->DriveTlsHandshake();
      return;
    }
    self->FlushWrites();
  };
  if (loop_->InLoopThread()) {
    install();
  } else {
    loop_->Post(std::move(install));
  }
}

bool Connection::Enqueue(uint16_t method, uint8_t flags, uint64_t seq,
                         const google::protobuf::MessageLite& message, bool with_payload,
                         std::string_view payload) {
  const size_t message_size = message.ByteSizeLong();
  const size_t body = message_size + (with_payload ? sizeof(uint32_t) + payload.size() : 0);
  if (body > kMaxFrameBody) {
    spdlog::error("channel {}: a message of {} bytes (method {}) exceeds the {}-byte frame limit; "
                  "not sent",
                  peer_, body, method, kMaxFrameBody);
    return false;
  }
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return true;
    size_t offset = write_buffer_.size();
    write_buffer_.resize(offset + kFrameHeaderSize + body);
    char* p = write_buffer_.data() + offset;
    PutU32(p, static_cast<uint32_t>(body));
    PutU16(p + 4, method);
    p[6] = static_cast<char>(flags);
    p[7] = 0;
    PutU64(p + 8, seq);
    p += kFrameHeaderSize;
    if (with_payload) {
      PutU32(p, static_cast<uint32_t>(message_size));
      p += sizeof(uint32_t);
    }
    message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p));
    if (!payload.empty()) std::memcpy(p + message_size, payload.data(), payload.size());
    if (!flush_posted_) {
      flush_posted_ = true;
      post = true;
    }
  }
  if (post) {
    auto self = shared_from_this();
    loop_->Post([self] { self->FlushWrites(); });
  }
  return true;
}

void Connection::Send(uint16_t method, const google::protobuf::MessageLite& message) {
  Enqueue(method, 0, 0, message);
}

void Connection::Call(uint16_t method, const google::protobuf::MessageLite& request,
                      ReplyCallback on_reply) {
  uint64_t seq;
  absl::Status reason;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) {
      seq = 0;
      reason = close_status_;
    } else {
      seq = next_seq_++;
      pending_calls_.emplace(seq, std::move(on_reply));
    }
  }
  if (seq == 0) {
    auto callback = std::make_shared<ReplyCallback>(std::move(on_reply));
    loop_->Post([callback, reason] { (*callback)(reason, Frame{}); });
    return;
  }
  if (!Enqueue(method, 0, seq, request)) {
    ReplyCallback callback;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = pending_calls_.find(seq);
      if (it == pending_calls_.end()) return;
      callback = std::move(it->second);
      pending_calls_.erase(it);
    }
    auto shared = std::make_shared<ReplyCallback>(std::move(callback));
    loop_->Post([shared] {
      (*shared)(absl::InvalidArgumentError("the request exceeds the channel's frame size limit"),
                Frame{});
    });
  }
}

void Connection::Reply(const Frame& request, const google::protobuf::MessageLite& reply) {
  Enqueue(request.method, Frame::kReply, request.seq, reply);
}

void Connection::ReplyWithPayload(const Frame& request, const google::protobuf::MessageLite& reply,
                                  std::string_view payload) {
  Enqueue(request.method, Frame::kReply, request.seq, reply, /*with_payload=*/true, payload);
}

void Connection::ReplyError(const Frame& request, const absl::Status& status) {
  proto::RpcStatus body;
  body.set_code(static_cast<int32_t>(status.code()));
  body.set_message(std::string(status.message()));
  Enqueue(request.method, Frame::kReply | Frame::kError, request.seq, body);
}

void Connection::Close() {
  CloseWithStatus(absl::UnavailableError(absl::StrCat("connection to ", peer_, " closed")));
}

void Connection::CloseWithStatus(absl::Status status) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_ || !close_status_.ok()) return;
    close_status_ = std::move(status);
  }
  auto self = shared_from_this();
  if (loop_->InLoopThread()) {
    CloseOnLoop();
  } else {
    loop_->Post([self] { self->CloseOnLoop(); });
  }
}

bool Connection::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

size_t Connection::queued_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return write_buffer_.size();
}

absl::Status Connection::close_status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_ ? close_status_ : absl::OkStatus();
}

void Connection::OnEvents(uint32_t events) {
  auto self = shared_from_this();  // handlers may drop the last outside reference
  if (connecting_) {
    FinishConnect();
    if (connecting_ || closed()) return;
  }
  if (tls_handshaking_) {
    DriveTlsHandshake();
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) HandleReadable();
  if ((events & EPOLLOUT) && !closed()) FlushWrites();
}

void Connection::HandleReadable() {
  char chunk[64 * 1024];
  bool peer_closed = false;
  while (true) {
    if (large_) {
      // The rest of a large frame's body goes straight into place.
      std::string& body = large_->body;
      ssize_t n = ReadSome(body.data() + large_filled_, body.size() - large_filled_);
      if (n > 0) {
        large_filled_ += static_cast<size_t>(n);
        if (large_filled_ < body.size()) continue;
        Frame frame = std::move(*large_);
        large_.reset();
        Dispatch(std::move(frame));
        if (closed()) return;
        continue;
      }
      if (n == 0) {
        peer_closed = true;
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        peer_closed = true;
      }
      break;
    }
    ssize_t n = ReadSome(chunk, sizeof(chunk));
    if (n > 0) {
      read_buffer_.append(chunk, static_cast<size_t>(n));
      // Every complete frame; a large incomplete one continues in place (above).
      while (read_buffer_.size() - read_offset_ >= kFrameHeaderSize) {
        const char* p = read_buffer_.data() + read_offset_;
        uint32_t body = Load<uint32_t>(p);
        if (body > kMaxFrameBody) {
          spdlog::error("channel {}: frame of {} bytes exceeds the limit; closing", peer_, body);
          CloseOnLoop();
          return;
        }
        const size_t have = read_buffer_.size() - read_offset_ - kFrameHeaderSize;
        if (have < body && body < kDirectReadBody) break;
        Frame frame;
        frame.method = Load<uint16_t>(p + 4);
        frame.flags = static_cast<uint8_t>(p[6]);
        frame.seq = Load<uint64_t>(p + 8);
        if (have < body) {
          frame.body.resize(body);
          std::memcpy(frame.body.data(), p + kFrameHeaderSize, have);
          large_ = std::move(frame);
          large_filled_ = have;
          read_offset_ = read_buffer_.size();
          break;
        }
        frame.body.assign(p + kFrameHeaderSize, body);
        read_offset_ += kFrameHeaderSize + body;
        Dispatch(std::move(frame));
        if (closed()) return;
      }
      if (read_offset_ == read_buffer_.size()) {
        read_buffer_.clear();
        if (read_buffer_.capacity() > kKeptBufferCapacity) std::string().swap(read_buffer_);
        read_offset_ = 0;
      } else if (read_offset_ > (1 << 20)) {
        read_buffer_.erase(0, read_offset_);
        read_offset_ = 0;
      }
      if (large_) continue;
      // A short read drained the socket; TLS returns one record per read, and may hold more
      // decrypted bytes than epoll knows of, so it reads on until it would block.
      if (ssl_ == nullptr && static_cast<size_t>(n) < sizeof(chunk)) break;
      continue;
    }
    if (n == 0) {
      peer_closed = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) peer_closed = true;
    break;
  }
  if (peer_closed) CloseOnLoop();
}

bool Connection::AcceptHello(const Frame& frame) {
  proto::Hello hello;
  absl::Status status;
  if (frame.method != kHelloMethod || (frame.flags & Frame::kReply) != 0 ||
      !hello.ParseFromString(frame.body)) {
    status = absl::UnauthenticatedError(absl::StrCat(
        "the first frame from ", peer_, " (method ", frame.method,
        ") is not a Moray handshake: is it a Moray process of this version?"));
  } else {
    status = CheckHello(hello, accepting_->identity, accepting_->roles, peer_);
  }
  if (!status.ok()) {
    if (ShouldLogRefusal()) spdlog::warn("refused a connection: {}", std::string(status.message()));
    if (frame.seq != 0) ReplyError(frame, status);
    FlushWrites();  // the refusal goes out before the close, where the socket has room
    CloseWithStatus(status);
    return false;
  }
  accepting_.reset();
  peer_role_ = hello.role();
  proto::HelloReply reply;
  reply.set_version(std::string(MorayVersion()));
  Reply(frame, reply);
  return true;
}

void Connection::Dispatch(Frame&& frame) {
  if (accepting_) {
    AcceptHello(frame);
    return;
  }
  if (frame.flags & Frame::kReply) {
    ReplyCallback callback;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = pending_calls_.find(frame.seq);
      if (it != pending_calls_.end()) {
        callback = std::move(it->second);
        pending_calls_.erase(it);
      }
    }
    if (!callback) return;
    if (frame.flags & Frame::kError) {
      proto::RpcStatus error;
      absl::Status status =
          !error.ParseFromString(frame.body) || error.code() == 0
              ? absl::InternalError(absl::StrCat("malformed error reply from ", peer_))
              : absl::Status(static_cast<absl::StatusCode>(error.code()), error.message());
      callback(std::move(status), Frame{});
      return;
    }
    callback(absl::OkStatus(), std::move(frame));
  } else if (on_message_) {
    on_message_(shared_from_this(), std::move(frame));
  }
}

void Connection::FlushWrites() {
  // SetHandlers / FinishConnect / the end of the TLS handshake flush later.
  if (!watching_ || connecting_ || tls_handshaking_) return;
  std::string& pending = sending_;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_posted_ = false;
    if (closed_ || write_buffer_.empty()) return;
    pending.swap(write_buffer_);  // write_buffer_ gets the emptied buffer of the last flush
  }
  size_t written = 0;
  while (written < pending.size()) {
    ssize_t n = WriteSome(pending.data() + written, pending.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    CloseOnLoop();
    return;
  }
  bool more;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (written < pending.size()) {
      // Keep unwritten bytes in front of anything queued meanwhile.
      write_buffer_.insert(0, pending, written, std::string::npos);
    }
    more = !write_buffer_.empty();
  }
  pending.clear();
  if (pending.capacity() > kKeptBufferCapacity) std::string().swap(pending);
  bool need_out = more;
  if (need_out != want_write_) {
    want_write_ = need_out;
    loop_->Modify(fd_, EPOLLIN | EPOLLRDHUP | (need_out ? EPOLLOUT : 0));
  }
}

void Connection::CloseOnLoop() {
  std::unordered_map<uint64_t, ReplyCallback> calls;
  absl::Status reason;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    if (close_status_.ok()) {
      close_status_ = absl::UnavailableError(absl::StrCat("connection to ", peer_, " closed"));
    }
    reason = close_status_;
    calls.swap(pending_calls_);
    write_buffer_.clear();
  }
  auto self = shared_from_this();
  if (connect_timer_ != 0) {
    loop_->CancelTimer(connect_timer_);
    connect_timer_ = 0;
  }
  connecting_ = false;
  if (watching_) {
    watching_ = false;
    loop_->Unwatch(fd_);
  }
  shutdown(fd_, SHUT_RDWR);
  for (auto& [seq, callback] : calls) {
    callback(reason, Frame{});
  }
  if (on_close_) {
    auto on_close = std::move(on_close_);
    on_close_ = nullptr;
    on_close(self);
  }
  on_message_ = nullptr;
}

}  // namespace moray::rpc
