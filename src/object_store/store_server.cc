#include "object_store/store_server.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/id_status.h"
#include "spdlog/spdlog.h"

namespace moray::object_store {

struct StoreServer::PendingGet {
  explicit PendingGet(rpc::Responder<proto::StoreGetReply> respond) : respond(std::move(respond)) {}
  rpc::Responder<proto::StoreGetReply> respond;
  ClientId client = 0;
  std::vector<ObjectId> ids;
  uint64_t timer = 0;
  bool done = false;
};

StoreServer::StoreServer(StoreServerOptions options) : options_(std::move(options)) {
  RegisterMethods();
}

StoreServer::~StoreServer() { Stop(); }

absl::StatusOr<std::unique_ptr<StoreServer>> StoreServer::Start(StoreServerOptions options) {
  if (options.capacity == 0) return absl::InvalidArgumentError("the object store needs a capacity");
  if (options.socket_path.empty()) {
    return absl::InvalidArgumentError("the object store needs a socket path");
  }
  std::unique_ptr<StoreServer> server(new StoreServer(std::move(options)));
  auto memory = SharedMemory::Create(server->options_.capacity, "moray-object-store");
  if (!memory.ok()) return memory.status();
  server->memory_ = std::move(*memory);
  server->memory_->StartPrefault(server->options_.prefault_bytes);
  StoreOptions store_options;
  store_options.capacity = server->options_.capacity;
  store_options.spill_dir = server->options_.spill_dir;
  store_options.spill_file_size = server->options_.spill_file_size;
  server->store_ = std::make_unique<Store>(store_options, server->memory_->base());
  server->store_->SetOnSealed([raw = server.get()](const ObjectId& id) { raw->OnSealed(id); });
  server->PublishStats();

  server->loop_ = std::make_unique<rpc::EventLoop>();
  server->loop_->StartThread("store");
  absl::Status listening;
  absl::Notification done;
  server->loop_->Post([&] {
    listening = server->Listen();
    done.Notify();
  });
  done.WaitForNotification();
  if (!listening.ok()) return listening;  // ~StoreServer stops the loop
  spdlog::info("object store: {} MiB on {} (spilling to {})", server->options_.capacity >> 20,
               server->options_.socket_path,
               server->options_.spill_dir.empty() ? "nowhere" : server->options_.spill_dir);
  return server;
}

absl::Status StoreServer::Listen() {
  auto server = rpc::Server::ListenUnix(
      loop_.get(), options_.socket_path,
      [this](std::shared_ptr<rpc::Connection> conn) { OnAccept(std::move(conn)); },
      [this](int fd) { return SendRegion(fd); });
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  return absl::OkStatus();
}

absl::Status StoreServer::SendRegion(int fd) const {
  // One message: the region size as data, the memfd as ancillary data. The socket is fresh, so
  // its send buffer has room and the non-blocking send completes.
  uint64_t size = memory_->size();
  iovec iov{&size, sizeof(size)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  const int memfd = memory_->fd();
  std::memcpy(CMSG_DATA(cmsg), &memfd, sizeof(int));
  ssize_t sent;
  do {
    sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent != static_cast<ssize_t>(sizeof(size))) {
    return absl::UnavailableError(
        absl::StrCat("cannot send the object store region: ", sent < 0 ? std::strerror(errno) : "short write"));
  }
  return absl::OkStatus();
}

void StoreServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (loop_) {
    absl::Notification done;
    loop_->Post([&] {
      server_.reset();
      // Moved out first: closing a connection runs OnClose, which must find nothing to do.
      auto clients = std::move(clients_);
      clients_.clear();
      for (auto& [id, client] : clients) {
        for (auto& get : client->gets) {
          get->done = true;
          loop_->CancelTimer(get->timer);
        }
        client->conn->Close();
      }
      waiting_.clear();
      done.Notify();
    });
    done.WaitForNotification();
    loop_->Stop();
    loop_.reset();
  }
  store_.reset();  // removes spill files
  memory_.reset();
}

proto::StoreStats StoreServer::Stats() const {
  proto::StoreStats stats;
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    stats = stats_;
  }
  if (memory_) stats.set_prefaulted_bytes(memory_->prefaulted_bytes());
  return stats;
}

absl::StatusOr<StoreServer::Listing> StoreServer::ListObjects(size_t limit,
                                                              absl::Duration timeout) const {
  if (stopped_ || !loop_) return absl::UnavailableError("the object store has stopped");
  struct Shared {
    absl::Notification done;
    Listing listing;
  };
  auto shared = std::make_shared<Shared>();
  loop_->Post([this, shared, limit] {
    shared->listing.contents = store_->List(limit);
    shared->listing.stats = store_->Stats();
    shared->done.Notify();
  });
  if (!shared->done.WaitForNotificationWithTimeout(timeout)) {
    return absl::UnavailableError(
        absl::StrCat("the object store did not answer within ", absl::FormatDuration(timeout)));
  }
  return std::move(shared->listing);
}

void StoreServer::PublishStats() {
  proto::StoreStats stats = store_->Stats();
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_ = std::move(stats);
}

void StoreServer::OnAccept(std::shared_ptr<rpc::Connection> conn) {
  const ClientId id = next_client_++;
  auto client = std::make_unique<Client>();
  client->id = id;
  client->conn = conn;
  conn->user_data = client.get();
  clients_.emplace(id, std::move(client));
  conn->SetHandlers(
      [this](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& frame) {
        service_.Dispatch(c, std::move(frame));
        PublishStats();
      },
      [this, id](const std::shared_ptr<rpc::Connection>&) { OnClose(id); });
}

void StoreServer::OnClose(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  std::unique_ptr<Client> client = std::move(it->second);
  clients_.erase(it);
  client->conn->user_data = nullptr;
  for (auto& get : client->gets) {
    get->done = true;
    loop_->CancelTimer(get->timer);
    ForgetGet(get);
  }
  store_->DisconnectClient(id);
  PublishStats();
}

void StoreServer::RegisterMethods() {
  using rpc::Peer;
  // Every client is a core worker or the raylet on this node: the socket sits in the session
  // directory, and Unix-socket peers pass the service's role check.
  constexpr rpc::Roles kNode = rpc::kAnyMember;
  service_.Unary<proto::StoreCreateRequest, proto::StoreCreateReply>(
      proto::STORE_CREATE, kNode,
      [this](const Peer& peer, proto::StoreCreateRequest&& request,
             rpc::Responder<proto::StoreCreateReply> respond) {
        auto id = RequiredId<ObjectId>(request.object_id(), "object_id");
        if (!id.ok()) {
          respond.Fail(id.status());
          return;
        }
        absl::StatusOr<uint64_t> offset = store_->Create(ClientOf(peer).id, *id, request.size(),
                                                         request.owner(), !request.secondary());
        if (!offset.ok()) {
          respond.Fail(offset.status());
          return;
        }
        proto::StoreCreateReply reply;
        reply.set_offset(*offset);
        respond(reply);
      });
  service_.OneWay<proto::StoreSealRequest>(
      proto::STORE_SEAL, kNode, [this](const Peer& peer, proto::StoreSealRequest&& request) {
        absl::Status sealed =
            store_->Seal(ClientOf(peer).id, ObjectId::FromBinary(request.object_id()));
        if (!sealed.ok()) spdlog::debug("object store: SEAL: {}", sealed.ToString());
      });
  service_.Unary<proto::StoreGetRequest, proto::StoreGetReply>(
      proto::STORE_GET, kNode,
      [this](const Peer& peer, proto::StoreGetRequest&& request,
             rpc::Responder<proto::StoreGetReply> respond) {
        HandleGet(ClientOf(peer), request, std::move(respond));
      });
  service_.OneWay<proto::StoreReleaseRequest>(
      proto::STORE_RELEASE, kNode, [this](const Peer& peer, proto::StoreReleaseRequest&& request) {
        for (const auto& object_id : request.object_ids()) {
          store_->Release(ClientOf(peer).id, ObjectId::FromBinary(object_id));
        }
      });
  service_.OneWay<proto::StoreDeleteRequest>(
      proto::STORE_DELETE, kNode, [this](const Peer&, proto::StoreDeleteRequest&& request) {
        for (const auto& object_id : request.object_ids())
          store_->Delete(ObjectId::FromBinary(object_id));
      });
  service_.Sync<proto::StoreStatsRequest, proto::StoreStats>(
      proto::STORE_STATS, kNode,
      [this](const Peer&, const proto::StoreStatsRequest&, proto::StoreStats* stats) {
        *stats = store_->Stats();
        stats->set_prefaulted_bytes(memory_->prefaulted_bytes());
        return absl::OkStatus();
      });
  service_.Sync<proto::StoreContainsRequest, proto::StoreContainsReply>(
      proto::STORE_CONTAINS, kNode,
      [this](const Peer&, const proto::StoreContainsRequest& request,
             proto::StoreContainsReply* reply) {
        reply->set_contains(store_->IsReady(ObjectId::FromBinary(request.object_id())));
        return absl::OkStatus();
      });
}

void StoreServer::HandleGet(Client& client, const proto::StoreGetRequest& request,
                            rpc::Responder<proto::StoreGetReply> respond) {
  auto get = std::make_shared<PendingGet>(std::move(respond));
  get->client = client.id;
  get->ids.reserve(request.object_ids_size());
  for (const auto& id : request.object_ids()) get->ids.push_back(ObjectId::FromBinary(id));
  bool ready = true;
  for (const auto& id : get->ids) ready = ready && store_->IsReady(id);
  if (ready || request.timeout_ms() == 0) {
    AnswerGet(get);
    return;
  }
  for (const auto& id : get->ids) {
    if (!store_->IsReady(id)) waiting_[id].push_back(get);
  }
  client.gets.push_back(get);
  if (request.timeout_ms() > 0) {
    std::weak_ptr<PendingGet> weak = get;
    get->timer = loop_->RunAfter(absl::Milliseconds(request.timeout_ms()), [this, weak] {
      if (auto get = weak.lock(); get && !get->done) {
        get->timer = 0;
        AnswerGet(get);
        PublishStats();
      }
    });
  }
}

void StoreServer::OnSealed(const ObjectId& id) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  std::vector<std::shared_ptr<PendingGet>> gets = std::move(it->second);
  waiting_.erase(it);
  for (auto& get : gets) {
    if (get->done) continue;
    bool ready = true;
    for (const auto& other : get->ids) ready = ready && store_->IsReady(other);
    if (ready) AnswerGet(get);
  }
}

void StoreServer::AnswerGet(const std::shared_ptr<PendingGet>& get) {
  get->done = true;
  if (get->timer != 0) loop_->CancelTimer(get->timer);
  ForgetGet(get);
  proto::StoreGetReply reply;
  std::vector<ObjectId> pinned;
  absl::Status failure;
  for (const auto& id : get->ids) {
    proto::StoreObjectLocation* location = reply.add_objects();
    absl::StatusOr<ObjectLocation> found = store_->Get(get->client, id);
    if (found.ok()) {
      location->set_found(true);
      location->set_offset(found->offset);
      location->set_size(found->size);
      pinned.push_back(id);
    } else if (!absl::IsNotFound(found.status())) {
      failure = found.status();
      break;
    }
  }
  if (!failure.ok()) {
    // All or nothing: the client gets an error and holds no pins from this request.
    for (const auto& id : pinned) store_->Release(get->client, id);
    get->respond.Fail(failure);
    return;
  }
  get->respond(reply);
}

void StoreServer::ForgetGet(const std::shared_ptr<PendingGet>& get) {
  for (const auto& id : get->ids) {
    auto it = waiting_.find(id);
    if (it == waiting_.end()) continue;
    std::erase(it->second, get);
    if (it->second.empty()) waiting_.erase(it);
  }
  auto client = clients_.find(get->client);
  if (client != clients_.end()) std::erase(client->second->gets, get);
}

}  // namespace moray::object_store
