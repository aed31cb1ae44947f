// The framed channel: length-prefixed protobuf messages over a TCP stream (or a Unix domain
// socket, for the node's object store). Every cluster member speaks it to every other, the GCS
// included (docs/wire.md): one protocol, one handshake, one status model.
//
// Frame layout (little-endian): u32 body_length | u16 method | u8 flags | u8 reserved | u64 seq |
// body. `method` is a moray.proto.Method; `seq` pairs a reply with its request (flag kReply).
//
//   auto server = Server::Listen(&loop, "127.0.0.1", 0, on_accept);  // port 0: any free port
//   auto conn = Connection::Connect(&loop, "127.0.0.1", port, absl::Seconds(5));  // never blocks
//   (*conn)->SetHandlers(on_message, on_close);
//   (*conn)->Call(proto::RAYLET_REQUEST_WORKER_LEASE, request, [](absl::Status s, Frame reply) {...});
//   (*conn)->Send(proto::WORKER_PUSH_TASKS, batch);   // one-way
//   auto local = Server::ListenUnix(&loop, "/tmp/s/store.sock", on_accept);  // same, Unix socket
//   auto conn2 = Connection::ConnectUnix(&loop, "/tmp/s/store.sock", absl::Seconds(5));
//
// Every TCP connection starts with the handshake of rpc/handshake.h (version, token, role): the
// connecting side queues its Hello first; the accepting side dispatches nothing before it has
// checked it, and refuses a bad one with an error reply and a close — which fails every call the
// peer queued with that status. Unix-socket connections (the node's object store, inside the
// session directory) have no handshake.
//
// Thread model: a Connection belongs to one EventLoop. Send, Call, Reply and Close may be called
// from any thread; messages queued before the loop next runs go out in one write (natural
// batching). Handlers run on the loop thread. A Connection stays alive while the loop watches it
// or anyone holds a shared_ptr to it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/event_loop.h"
#include "rpc/handshake.h"

namespace google::protobuf {
class MessageLite;
}
typedef struct ssl_st SSL;

namespace moray::rpc {

struct Frame {
  static constexpr uint8_t kReply = 1;
  // With kReply: the body is a proto::RpcStatus, not the reply message (Connection::ReplyError);
  // the caller's callback gets that status.
  static constexpr uint8_t kError = 2;
  uint16_t method = 0;
  uint8_t flags = 0;
  uint64_t seq = 0;
  std::string body;

  // Parses the body into `message`; InvalidArgument if it does not parse.
  absl::Status ParseBody(google::protobuf::MessageLite* message) const;
  // For a body sent by ReplyWithPayload: parses the message and points `payload` at the raw
  // bytes after it (inside `body`, no copy).
  absl::Status ParseBodyWithPayload(google::protobuf::MessageLite* message,
                                    std::string_view* payload) const;
};

inline constexpr size_t kFrameHeaderSize = 16;
inline constexpr uint32_t kMaxFrameBody = 1u << 30;
// A connection's read and write buffers keep up to this much capacity between uses.
inline constexpr size_t kKeptBufferCapacity = 1u << 20;
// A frame body at least this large is read straight into the frame (not through the buffer).
inline constexpr size_t kDirectReadBody = 256u << 10;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using MessageHandler = std::function<void(const std::shared_ptr<Connection>&, Frame&&)>;
  using CloseHandler = std::function<void(const std::shared_ptr<Connection>&)>;
  using ReplyCallback = std::function<void(absl::Status, Frame&&)>;
  // Runs on a freshly connected/accepted socket before it becomes a Connection (e.g. to pass a
  // file descriptor with SCM_RIGHTS). An error drops the socket.
  using SocketHook = std::function<absl::Status(int fd)>;

  // Starts connecting to `ip`:`port` and returns at once; the loop completes the connect once
  // handlers are set. Frames sent meanwhile (the Hello first) are queued. If the connect fails
  // (refused, unreachable, no answer within `timeout`) the connection closes with that status:
  // pending calls fail with it and the close handler runs. `ip` must be an IPv4 address — names
  // are resolved off the loop, by ResolveAddress. Errors known at once (not an address, no
  // socket, refused by the local stack) are returned.
  static absl::StatusOr<std::shared_ptr<Connection>> Connect(EventLoop* loop, const std::string& ip,
                                                             int port, absl::Duration timeout);
  // Connects to a Unix domain socket at `path` (blocking, up to `timeout`), runs `hook` (if any)
  // on the socket, then wraps it. Unavailable if nothing listens there.
  static absl::StatusOr<std::shared_ptr<Connection>> ConnectUnix(EventLoop* loop,
                                                                 const std::string& path,
                                                                 absl::Duration timeout,
                                                                 SocketHook hook = nullptr);
  // What an accepted TCP connection must show in its Hello (from the Server).
  struct Accepting {
    LocalIdentity identity;  // the server's own, when it started listening
    Roles roles = kAnyMember;
    // A peer that has not passed its Hello (and TLS) by then is dropped: an idle or slow
    // connection must not hold a server's resources.
    absl::Duration hello_timeout = absl::Seconds(10);
  };
  // Wraps an accepted socket (used by Server). With `accepting`, nothing is dispatched before a
  // Hello that passes CheckHello.
  static std::shared_ptr<Connection> Adopt(EventLoop* loop, int fd,
                                           std::shared_ptr<const Accepting> accepting = nullptr);

  ~Connection();

  // Sets the handlers and starts reading. Call once, before any message can arrive.
  void SetHandlers(MessageHandler on_message, CloseHandler on_close);

  void Send(uint16_t method, const google::protobuf::MessageLite& message);
  // `on_reply` runs on the loop thread with the reply, or with Unavailable if the connection
  // closes first.
  void Call(uint16_t method, const google::protobuf::MessageLite& request, ReplyCallback on_reply);
  void Reply(const Frame& request, const google::protobuf::MessageLite& reply);
  // A reply carrying raw bytes after the message (bulk data: copied once, straight into the
  // write buffer; no protobuf bytes field). The caller reads it with ParseBodyWithPayload.
  void ReplyWithPayload(const Frame& request, const google::protobuf::MessageLite& reply,
                        std::string_view payload);
  // An error reply: the caller's callback gets `status` (not OK) instead of a reply message.
  void ReplyError(const Frame& request, const absl::Status& status);
  void Close();
  // Closes with `status` as the reason every pending call and later Call fails with.
  void CloseWithStatus(absl::Status status);

  bool closed() const;
  // Bytes queued by Send/Call/Reply and not handed to the socket yet (a slow peer's backlog).
  size_t queued_bytes() const;
  // Why the connection closed (Unavailable for a plain close); OK while open.
  absl::Status close_status() const;
  std::string peer() const { return peer_; }
  // A Unix-socket connection (the node's object store): local to the node, no handshake.
  bool unix_socket() const { return unix_socket_; }
  // The role the peer showed in its Hello (accepted connections); ROLE_UNKNOWN otherwise.
  // Loop thread.
  proto::PeerRole peer_role() const { return peer_role_; }
  // The connect completed at some point (a refused or timed-out connect never did). Loop thread.
  bool ever_connected() const { return connected_; }
  // Free slot for the owner of the connection (e.g. the raylet's client record). Loop thread only.
  void* user_data = nullptr;

 private:
  Connection(EventLoop* loop, int fd, std::string peer);
  void SendHello();
  // The accepting side's first frame: the Hello, checked; false if the connection was refused.
  bool AcceptHello(const Frame& frame);
  // A connect in progress became writable or failed (loop thread).
  void FinishConnect();
  // TLS (rpc/tls.h): starts the session on this socket, as the connecting or accepting side.
  absl::Status StartTls(bool connecting);
  // Advances the TLS handshake; once done, queued frames go out (loop thread).
  void DriveTlsHandshake();
  // read/send through TLS when it is on; errno semantics (EAGAIN: try again on the next event).
  ssize_t ReadSome(char* buffer, size_t size);
  ssize_t WriteSome(const char* data, size_t size);
  // Sets the epoll interest: always input, output when asked (loop thread).
  void WantWrite(bool want);
  // False (and nothing queued) if the message exceeds kMaxFrameBody.
  // `payload` (with_payload): raw bytes after the message, whose size leads the body.
  bool Enqueue(uint16_t method, uint8_t flags, uint64_t seq,
               const google::protobuf::MessageLite& message, bool with_payload = false,
               std::string_view payload = {});
  // Hands a complete frame to its reply callback or the message handler.
  void Dispatch(Frame&& frame);
  void OnEvents(uint32_t events);
  void HandleReadable();
  void FlushWrites();
  void CloseOnLoop();

  EventLoop* const loop_;  // not owned; outlives the connection's registration
  const int fd_;
  const std::string peer_;
  MessageHandler on_message_;  // loop thread
  CloseHandler on_close_;      // loop thread
  std::string read_buffer_;    // loop thread
  size_t read_offset_ = 0;     // loop thread
  // Loop thread: a large frame whose body is being read straight into place.
  std::optional<Frame> large_;
  size_t large_filled_ = 0;
  bool watching_ = false;      // loop thread
  bool want_write_ = false;    // loop thread
  // Connecting side: the non-blocking connect has not completed yet (set before the loop sees
  // the connection, then loop thread), its deadline, and the timer that enforces it.
  bool connecting_ = false;
  absl::Duration connect_timeout_ = absl::ZeroDuration();
  uint64_t connect_timer_ = 0;
  bool connected_ = false;
  bool unix_socket_ = false;  // set before the loop sees the connection
  SSL* ssl_ = nullptr;             // TLS session, when TLS is on (TCP only)
  bool tls_handshaking_ = false;   // loop thread (set before the loop sees the connection)
  // Accepting side: set until the peer's Hello passed (loop thread).
  std::shared_ptr<const Accepting> accepting_;
  proto::PeerRole peer_role_ = proto::ROLE_UNKNOWN;  // loop thread

  mutable std::mutex mutex_;
  std::string write_buffer_;  // guarded by mutex_: frames not yet written
  // Loop thread: the frames being written now. It and write_buffer_ trade places at each flush
  // and keep their capacity (up to kKeptBufferCapacity), so steady traffic allocates nothing.
  std::string sending_;
  bool flush_posted_ = false; // guarded by mutex_
  bool closed_ = false;       // guarded by mutex_
  absl::Status close_status_; // guarded by mutex_: why it closed
  uint64_t next_seq_ = 1;     // guarded by mutex_
  std::unordered_map<uint64_t, ReplyCallback> pending_calls_;  // guarded by mutex_
};

class Server {
 public:
  using AcceptHandler = std::function<void(std::shared_ptr<Connection>)>;

  // Listens on host:port (port 0: any free port) and hands each accepted connection to
  // `on_accept` on the loop thread (which must call SetHandlers on it). Its frames reach the
  // handlers only after a Hello from one of `roles`, checked against this process's identity
  // as it is now (GetLocalIdentity).
  static absl::StatusOr<std::unique_ptr<Server>> Listen(EventLoop* loop, const std::string& host,
                                                        int port, AcceptHandler on_accept,
                                                        Roles roles = kAnyMember,
                                                        absl::Duration hello_timeout =
                                                            absl::Seconds(10));
  // Listens on a Unix domain socket at `path` (parent directories are created, a stale socket
  // file is replaced; the path must fit sockaddr_un: < 108 bytes). `hook` runs on each accepted
  // socket (loop thread) before it becomes a Connection. The socket file is removed by ~Server.
  static absl::StatusOr<std::unique_ptr<Server>> ListenUnix(EventLoop* loop,
                                                            const std::string& path,
                                                            AcceptHandler on_accept,
                                                            Connection::SocketHook hook = nullptr);
  ~Server();
  int port() const { return port_; }  // 0 for a Unix socket

 // What the listening socket's watch shares with the Server (public for the .cc's helper).
  struct Handlers {
    AcceptHandler on_accept;
    Connection::SocketHook hook;
    std::shared_ptr<const Connection::Accepting> accepting;  // TCP: the handshake's terms
    std::atomic<bool> closed{false};  // set by ~Server: a pending re-arm must not watch again
  };

 private:
  Server(EventLoop* loop, int fd, int port, std::string unix_path,
         std::shared_ptr<Handlers> handlers);
  void StartWatching();
  // Watches the listening socket (loop thread).
  static void Arm(EventLoop* loop, int listen_fd, const std::string& name,
                  const std::shared_ptr<Handlers>& handlers);
  // Accepts everything pending; false when out of descriptors (the caller backs off).
  static bool AcceptAll(EventLoop* loop, int listen_fd, const std::string& name,
                        const Handlers& handlers);
  EventLoop* const loop_;
  const int fd_;
  const int port_;
  const std::string unix_path_;  // empty for TCP
  std::shared_ptr<Handlers> handlers_;
};

// Resolves `host` (a name or an IPv4 address) to an IPv4 address, blocking: call it off every
// event loop (the CLI, a driver's Init). InvalidArgument naming the host if it does not resolve.
absl::StatusOr<std::string> ResolveAddress(const std::string& host);

}  // namespace moray::rpc
