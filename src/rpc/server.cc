// Server: listening sockets (TCP and Unix) and accepting connections on the loop.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "rpc/channel.h"
#include "rpc/sockets.h"
#include "rpc/tls.h"
#include "spdlog/spdlog.h"

namespace moray::rpc {

namespace {
std::shared_ptr<Server::Handlers> MakeHandlers(Server::AcceptHandler on_accept,
                                               Connection::SocketHook hook) {
  auto handlers = std::make_shared<Server::Handlers>();
  handlers->on_accept = std::move(on_accept);
  handlers->hook = std::move(hook);
  return handlers;
}
}  // namespace

Server::Server(EventLoop* loop, int fd, int port, std::string unix_path,
               std::shared_ptr<Handlers> handlers)
    : loop_(loop),
      fd_(fd),
      port_(port),
      unix_path_(std::move(unix_path)),
      handlers_(std::move(handlers)) {}

absl::StatusOr<std::unique_ptr<Server>> Server::Listen(EventLoop* loop, const std::string& host,
                                                       int port, AcceptHandler on_accept,
                                                       Roles roles,
                                                       absl::Duration hello_timeout) {
  if (absl::StatusOr<SSL_CTX*> tls = ProcessTlsContext(); !tls.ok()) return tls.status();
  auto addr = Address(host, port);
  if (!addr.ok()) return addr.status();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof(*addr)) != 0 || listen(fd, 1024) != 0) {
    int err = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", std::strerror(err)));
  }
  sockaddr_in bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int bound_port = ntohs(bound.sin_port);
  auto handlers = MakeHandlers(std::move(on_accept), nullptr);
  handlers->accepting = std::make_shared<const Connection::Accepting>(
      Connection::Accepting{GetLocalIdentity(), roles, hello_timeout});
  std::unique_ptr<Server> server(new Server(loop, fd, bound_port, "", std::move(handlers)));
  server->StartWatching();
  return server;
}

absl::StatusOr<std::unique_ptr<Server>> Server::ListenUnix(EventLoop* loop, const std::string& path,
                                                           AcceptHandler on_accept,
                                                           Connection::SocketHook hook) {
  auto addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create the directory of socket ", path, ": ", ec.message()));
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  unlink(path.c_str());  // a stale socket from a process that died
  if (bind(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof(*addr)) != 0 || listen(fd, 1024) != 0) {
    int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", path, ": ", std::strerror(err)));
  }
  std::unique_ptr<Server> server(
      new Server(loop, fd, 0, path, MakeHandlers(std::move(on_accept), std::move(hook))));
  server->StartWatching();
  return server;
}

void Server::StartWatching() {
  // The watch shares the handlers, not the Server, so an event racing with ~Server is harmless.
  auto handlers = handlers_;
  EventLoop* loop = loop_;
  int fd = fd_;
  std::string name = unix_path_.empty() ? absl::StrCat("port ", port_) : unix_path_;
  auto watch = [loop, fd, name, handlers] { Arm(loop, fd, name, handlers); };
  if (loop->InLoopThread()) {
    watch();
  } else {
    loop->Post(watch);
  }
}

void Server::Arm(EventLoop* loop, int listen_fd, const std::string& name,
                 const std::shared_ptr<Handlers>& handlers) {
  loop->Watch(listen_fd, EPOLLIN, [loop, listen_fd, name, handlers](uint32_t) {
    if (AcceptAll(loop, listen_fd, name, *handlers)) return;
    // Out of descriptors: the socket stays readable, so stop watching it for a moment instead of
    // spinning, and try again once some connections may have closed.
    loop->Unwatch(listen_fd);
    loop->RunAfter(absl::Milliseconds(100), [loop, listen_fd, name, handlers] {
      if (!handlers->closed.load()) Arm(loop, listen_fd, name, handlers);
    });
  });
}

Server::~Server() {
  handlers_->closed.store(true);
  if (!unix_path_.empty()) unlink(unix_path_.c_str());
  // Unwatch on the loop thread; the fd is closed there too so no callback sees a reused fd.
  int fd = fd_;
  EventLoop* loop = loop_;
  if (loop->InLoopThread()) {
    loop->Unwatch(fd);
    close(fd);
  } else {
    loop->Post([loop, fd] {
      loop->Unwatch(fd);
      close(fd);
    });
  }
}

bool Server::AcceptAll(EventLoop* loop, int listen_fd, const std::string& name,
                       const Handlers& handlers) {
  while (true) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno == EMFILE || errno == ENFILE) {
        spdlog::warn("accept on {}: out of file descriptors ({}); pausing for 100 ms", name,
                     std::strerror(errno));
        return false;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        spdlog::warn("accept on {} failed: {}", name, std::strerror(errno));
      }
      return true;
    }
    if (handlers.hook) {
      absl::Status hooked = handlers.hook(fd);
      if (!hooked.ok()) {
        spdlog::warn("dropping a connection on {}: {}", name, hooked.ToString());
        close(fd);
        continue;
      }
    }
    handlers.on_accept(Connection::Adopt(loop, fd, handlers.accepting));
  }
}

}  // namespace moray::rpc
