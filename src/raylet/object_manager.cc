#include "raylet/object_manager.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {

ObjectManager::ObjectManager(std::string store_socket, NodeId node_id)
    : store_socket_(std::move(store_socket)), node_id_(node_id) {}

ObjectManager::~ObjectManager() { Stop(); }

absl::Status ObjectManager::Start() {
  auto store = object_store::StoreClient::Connect(store_socket_);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  rpc::ConnectionPool::Options pool;
  pool.connect_timeout = kConnectTimeout;
  sources_ = std::make_unique<rpc::ConnectionPool>(&loop_, nullptr, pool);
  loop_.StartThread("raylet_objects");
  return absl::OkStatus();
}

void ObjectManager::Stop() {
  if (!*alive_) return;
  *alive_ = false;
  loop_.Post([this] { sources_.reset(); });  // closes its connections
  loop_.Stop();
}

void ObjectManager::SetClusterView(std::map<NodeId, NodeAddress> nodes) {
  auto view = std::make_shared<std::map<NodeId, NodeAddress>>(std::move(nodes));
  loop_.Post([this, view, alive = alive_] {
    if (!*alive) return;
    std::vector<NodeId> news;  // nodes that appeared, or died
    for (const auto& [id, node] : *view) {
      auto known = nodes_.find(id);
      if (known == nodes_.end() || known->second.alive != node.alive) news.push_back(id);
    }
    nodes_ = std::move(*view);
    for (const auto& id : news) OnNodeNews(id);
  });
}

void ObjectManager::MarkNodeDead(const NodeId& node_id) {
  loop_.Post([this, node_id, alive = alive_] {
    if (!*alive) return;
    NodeAddress& node = nodes_[node_id];
    if (!node.alive) return;
    node.alive = false;
    OnNodeNews(node_id);
  });
}

void ObjectManager::OnNodeNews(const NodeId& node_id) {
  const bool dead = !nodes_.at(node_id).alive;
  std::vector<ObjectId> ids;
  for (const auto& [id, transfer] : transfers_) {
    if (transfer.node_id == node_id) ids.push_back(id);
  }
  for (const auto& id : ids) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) continue;
    if (dead) {
      Finish(id, DeadNode(node_id));
    } else if (it->second.retry_timer != 0) {
      loop_.CancelTimer(it->second.retry_timer);
      Attempt(it->second);
    }
  }
  if (auto node = nodes_.find(node_id); dead && node != nodes_.end() && sources_) {
    sources_->Close(rpc::Endpoint{node->second.ip, node->second.port});
  }
}

absl::Status ObjectManager::DeadNode(const NodeId& node_id) {
  return absl::NotFoundError(
      absl::StrCat("node ", node_id.Hex(), " died (the GCS declared it dead)"));
}

void ObjectManager::RegisterMethods(rpc::Service* service) {
  using rpc::Peer;
  // Parsed on the service's loop (small messages), handled on this one.
  service->Unary<proto::PullObjectRequest, proto::PullObjectReply>(
      proto::RAYLET_PULL_OBJECT, rpc::kCoreWorkers,
      [this](const Peer&, proto::PullObjectRequest&& request, PullResponder respond) {
        loop_.Post([this, request = std::move(request), respond, alive = alive_] {
          if (*alive) Pull(request, respond);
        });
      });
  service->Unary<proto::ReadChunkRequest, proto::ReadChunkReply>(
      proto::TRANSFER_READ_OBJECT_CHUNK, rpc::RoleBit(proto::ROLE_RAYLET),
      [this](const Peer&, proto::ReadChunkRequest&& request, ChunkResponder respond) {
        loop_.Post([this, request = std::move(request), respond, alive = alive_] {
          if (*alive) ReadChunk(request, respond);
        });
      });
  for (uint16_t method : {static_cast<uint16_t>(proto::RAYLET_FREE_OBJECTS),
                          static_cast<uint16_t>(proto::TRANSFER_FREE_OBJECTS)}) {
    const bool from_owner = method == proto::RAYLET_FREE_OBJECTS;
    service->OneWay<proto::FreeObjectsRequest>(
        method, from_owner ? rpc::kCoreWorkers : rpc::RoleBit(proto::ROLE_RAYLET),
        [this, from_owner](const Peer&, proto::FreeObjectsRequest&& request) {
          loop_.Post([this, request = std::move(request), from_owner, alive = alive_] {
            if (*alive) Free(request, /*pass_on=*/from_owner);
          });
        });
  }
}

void ObjectManager::Free(const proto::FreeObjectsRequest& request, bool pass_on) {
  std::vector<ObjectId> ids;
  for (const auto& bytes : request.object_ids()) {
    // A copy still arriving stays (its transfer writes into it); sealed, it is evictable.
    const ObjectId id = ObjectId::FromBinary(bytes);
    if (!id.IsNil() && !transfers_.contains(id)) ids.push_back(id);
  }
  if (!ids.empty()) (void)store_->Delete(ids);  // deferred by the store while pinned
  const NodeId source = NodeId::FromBinary(request.node_id());
  if (!pass_on || source.IsNil() || source == node_id_) return;
  std::string error;
  if (auto conn = SourceConnection(source, &error)) {
    conn->Send(proto::TRANSFER_FREE_OBJECTS, request);
  }
}

std::shared_ptr<rpc::Connection> ObjectManager::SourceConnection(const NodeId& node_id,
                                                                 std::string* error) {
  auto node = nodes_.find(node_id);
  if (node == nodes_.end()) {
    *error = absl::StrCat("node ", node_id.Hex(), " is not in this raylet's cluster view yet");
    return nullptr;
  }
  if (!node->second.alive) {
    *error = std::string(DeadNode(node_id).message());
    return nullptr;
  }
  auto conn = sources_->Get(rpc::Endpoint{node->second.ip, node->second.port});
  if (!conn.ok()) {
    *error = absl::StrCat("cannot reach the raylet of node ", node_id.Hex(), ": ",
                          conn.status().message());
    return nullptr;
  }
  return *conn;
}

void ObjectManager::Pull(const proto::PullObjectRequest& request, const PullResponder& respond) {
  const NodeId source = NodeId::FromBinary(request.node_id());
  Waiter waiter{respond, source,
                request.timeout_ms() > 0 ? absl::Now() + absl::Milliseconds(request.timeout_ms())
                                         : absl::InfiniteFuture()};
  const ObjectId id = ObjectId::FromBinary(request.object_id());
  if (id.IsNil()) {
    respond.Fail(absl::InvalidArgumentError("PullObject needs an object id of 20 bytes"));
    return;
  }
  auto existing = transfers_.find(id);
  if (existing != transfers_.end()) {  // shared, even if it names another copy (see Finish)
    existing->second.waiters.push_back(std::move(waiter));
    return;
  }
  if (store_->Contains(id)) {
    respond(proto::PullObjectReply());
    return;
  }
  if (source == node_id_) {
    respond.Fail(
        absl::NotFoundError("the object is not in this node's store (it was freed or lost)"));
    return;
  }
  Transfer& transfer = transfers_[id];
  transfer.object_id = id;
  transfer.node_id = source;
  transfer.size = request.size();
  transfer.waiters.push_back(std::move(waiter));
  Attempt(transfer);
}

void ObjectManager::Attempt(Transfer& transfer) {
  transfer.retry_timer = 0;
  const ObjectId id = transfer.object_id;
  if (store_->Contains(id)) {  // sealed here meanwhile (e.g. by a task that rebuilt it)
    Finish(id, absl::OkStatus());
    return;
  }
  auto node = nodes_.find(transfer.node_id);
  if (node != nodes_.end() && !node->second.alive) {
    Finish(id, DeadNode(transfer.node_id));
    return;
  }
  std::string error;
  auto source = SourceConnection(transfer.node_id, &error);
  if (!source) {
    Retry(transfer, std::move(error));
    return;
  }
  auto dest = store_->Create(id, static_cast<uint64_t>(transfer.size), {}, /*secondary=*/true);
  if (!dest.ok()) {
    if (store_->Contains(id)) {
      Finish(id, absl::OkStatus());
    } else if (absl::IsAlreadyExists(dest.status())) {
      Retry(transfer, "another copy of it is being written into this node's store");
    } else if (absl::IsResourceExhausted(dest.status())) {
      Retry(transfer, absl::StrCat("no room for a copy in this node's store yet: ",
                                   dest.status().message()));
    } else {
      Finish(id, absl::Status(dest.status().code(),
                              absl::StrCat("cannot make a copy in this node's store: ",
                                           dest.status().message())));
    }
    return;
  }
  transfer.generation = next_generation_++;
  transfer.dest = *dest;
  transfer.source = std::move(source);
  transfer.next_offset = 0;
  transfer.received = 0;
  transfer.in_flight = 0;
  if (transfer.size == 0) {
    Finish(id, absl::OkStatus());
    return;
  }
  RequestChunks(transfer);
}

void ObjectManager::AbortAttempt(Transfer& transfer) {
  if (transfer.generation == 0) return;
  transfer.generation = 0;  // its late chunks are ignored
  transfer.dest = {};
  transfer.source.reset();
  transfer.in_flight = 0;
  (void)store_->Delete({transfer.object_id});  // the unsealed copy goes at once
}

void ObjectManager::Retry(Transfer& transfer, std::string why) {
  AbortAttempt(transfer);
  const absl::Time now = absl::Now();
  const std::string source = transfer.node_id.Hex();
  absl::Time wake = now + transfer.backoff;
  std::vector<Waiter> waiting;
  for (auto& waiter : transfer.waiters) {
    if (waiter.respond.connection()->closed()) continue;
    if (waiter.deadline <= now) {
      waiter.respond.Fail(absl::DeadlineExceededError(
          absl::StrCat("it did not arrive from node ", source, " in time: ", why)));
      continue;
    }
    wake = std::min(wake, waiter.deadline);
    waiting.push_back(std::move(waiter));
  }
  transfer.waiters.swap(waiting);
  if (transfer.waiters.empty()) {  // nobody waits for it any more
    transfers_.erase(transfer.object_id);
    return;
  }
  const absl::Duration delay = wake - now;
  if (why != transfer.waiting_for) {
    spdlog::info("pull of object {} from node {} waits: {}; trying again in {}",
                 transfer.object_id.Hex(), source, why, absl::FormatDuration(delay));
  }
  transfer.waiting_for = std::move(why);
  transfer.backoff = std::min(transfer.backoff * 2, kMaxRetry);
  auto timer = std::make_shared<uint64_t>(0);
  *timer = loop_.RunAfter(delay, [this, id = transfer.object_id, timer, alive = alive_] {
    if (!*alive) return;
    auto it = transfers_.find(id);
    if (it != transfers_.end() && it->second.retry_timer == *timer) Attempt(it->second);
  });
  transfer.retry_timer = *timer;
}

void ObjectManager::RequestChunks(Transfer& transfer) {
  while (transfer.in_flight < kChunksInFlight && transfer.next_offset < transfer.size) {
    proto::ReadChunkRequest chunk;
    chunk.set_object_id(transfer.object_id.Binary());
    chunk.set_offset(transfer.next_offset);
    chunk.set_length(std::min(kChunkBytes, transfer.size - transfer.next_offset));
    const int64_t offset = transfer.next_offset;
    transfer.next_offset += chunk.length();
    ++transfer.in_flight;
    transfer.source->Call(
        proto::TRANSFER_READ_OBJECT_CHUNK, chunk,
        [this, id = transfer.object_id, generation = transfer.generation, offset,
         alive = alive_](absl::Status s, rpc::Frame&& f) {
          if (*alive) OnChunk(id, generation, offset, s, std::move(f));
        });
  }
}

void ObjectManager::OnChunk(const ObjectId& object_id, uint64_t generation, int64_t offset,
                            absl::Status status, rpc::Frame&& frame) {
  auto it = transfers_.find(object_id);
  // Ended already, or a late chunk of an attempt given up (or of a transfer a new one replaced).
  if (it == transfers_.end() || it->second.generation != generation) return;
  Transfer& transfer = it->second;
  --transfer.in_flight;
  const std::string source = transfer.node_id.Hex();
  if (absl::IsNotFound(status)) {  // the source answered: it does not have the object
    Finish(object_id, absl::NotFoundError(
                          absl::StrCat("node ", source, " no longer has the object")));
    return;
  }
  proto::ReadChunkReply reply;
  std::string_view data;
  if (!status.ok() || !frame.ParseBodyWithPayload(&reply, &data).ok()) {
    // The node may well be alive (a dropped connection, a raylet restarting its listener): if it
    // died, the GCS says so and the retry ends the transfer.
    Retry(transfer, absl::StrCat("the connection to its raylet failed during the transfer (",
                                 status.ok() ? "malformed chunk" : status.message(), ")"));
    return;
  }
  if (reply.size() != transfer.size || offset + static_cast<int64_t>(data.size()) > transfer.size) {
    Finish(object_id, absl::NotFoundError(absl::StrCat("node ", source, " holds ", reply.size(),
                                                       " bytes under the object's id, not ",
                                                       transfer.size)));
    return;
  }
  std::memcpy(transfer.dest.data() + offset, data.data(), data.size());
  transfer.received += static_cast<int64_t>(data.size());
  if (transfer.received >= transfer.size) {
    Finish(object_id, absl::OkStatus());
    return;
  }
  RequestChunks(transfer);
}

void ObjectManager::Finish(const ObjectId& object_id, const absl::Status& status) {
  auto it = transfers_.find(object_id);
  if (it == transfers_.end()) return;
  if (absl::IsNotFound(status)) {
    // Only requesters that named this copy learn that it is lost. One that named another copy
    // (an owner that rebuilt the object elsewhere told it so) reads that one.
    Transfer& live = it->second;
    std::vector<Waiter> told, others;
    for (auto& waiter : live.waiters) {
      (waiter.node_id == live.node_id ? told : others).push_back(std::move(waiter));
    }
    live.waiters = std::move(others);
    if (!live.waiters.empty()) {
      Answer(live, told, status);
      if (live.retry_timer != 0) loop_.CancelTimer(live.retry_timer);
      AbortAttempt(live);
      live.node_id = live.waiters.front().node_id;
      live.backoff = kFirstRetry;
      live.waiting_for.clear();
      Attempt(live);
      return;
    }
    live.waiters = std::move(told);
  }
  Transfer transfer = std::move(it->second);
  transfers_.erase(it);
  if (transfer.retry_timer != 0) loop_.CancelTimer(transfer.retry_timer);
  if (status.ok()) {
    absl::Status sealed;
    if (transfer.generation != 0) {  // the copy it wrote
      sealed = store_->Seal(object_id);
      // Seal is one-way: a round trip on the same connection (its answer does not matter)
      // makes sure the store has applied it before the requester is told, so the requester's
      // own store client sees the object at once, even with a zero timeout.
      if (sealed.ok()) store_->Contains(object_id);
    }
    if (transfer.size >= kChunkBytes && sealed.ok()) {
      const double seconds = absl::ToDoubleSeconds(absl::Now() - transfer.started);
      spdlog::info("pulled object {} ({} bytes) in {:.3f} s ({:.2f} GB/s)", object_id.Hex(),
                   transfer.size, seconds, static_cast<double>(transfer.size) / seconds / 1e9);
    }
    for (auto& waiter : transfer.waiters) {
      if (sealed.ok()) {
        waiter.respond(proto::PullObjectReply());
      } else {
        waiter.respond.Fail(sealed);
      }
    }
    return;
  }
  AbortAttempt(transfer);
  Answer(transfer, transfer.waiters, status);
}

void ObjectManager::Answer(const Transfer& transfer, const std::vector<Waiter>& waiters,
                           const absl::Status& status) {
  if (waiters.empty()) return;
  spdlog::info("pull of object {} from node {} failed: {}{}", transfer.object_id.Hex(),
               transfer.node_id.Hex(), std::string(status.message()),
               absl::IsNotFound(status) ? " (that copy is lost)" : "");
  for (const auto& waiter : waiters) waiter.respond.Fail(status);
}

void ObjectManager::ReadChunk(const proto::ReadChunkRequest& request,
                              const ChunkResponder& respond) {
  auto buffers = store_->Get({ObjectId::FromBinary(request.object_id())}, absl::ZeroDuration());
  if (!buffers.ok() || !(*buffers)[0]) {
    respond.Fail(absl::NotFoundError(
        absl::StrCat("object ", ToHex(request.object_id()), " is not in this node's store")));
    return;
  }
  // Pinned until the bytes are in the connection's write buffer (ReplyWithPayload copies them).
  const auto& buffer = (*buffers)[0];
  int64_t size = static_cast<int64_t>(buffer->Size());
  int64_t offset = std::clamp<int64_t>(request.offset(), 0, size);
  int64_t length = std::clamp<int64_t>(request.length(), 0, size - offset);
  proto::ReadChunkReply reply;
  reply.set_size(size);
  respond.ReplyWithPayload(reply, std::string_view(reinterpret_cast<const char*>(buffer->Data()) +
                                                       offset,
                                                   static_cast<size_t>(length)));
}

}  // namespace moray::raylet
