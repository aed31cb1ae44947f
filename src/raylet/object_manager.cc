#include "raylet/object_manager.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {

ObjectManager::ObjectManager(std::string store_socket, std::string node_id)
    : store_socket_(std::move(store_socket)), node_id_(std::move(node_id)) {}

ObjectManager::~ObjectManager() { Stop(); }

absl::Status ObjectManager::Start() {
  auto store = object_store::StoreClient::Connect(store_socket_);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  loop_.StartThread("raylet_objects");
  return absl::OkStatus();
}

void ObjectManager::Stop() {
  if (!*alive_) return;
  *alive_ = false;
  loop_.Post([this] {
    for (auto& [id, conn] : sources_) conn->Close();
    sources_.clear();
  });
  loop_.Stop();
}

void ObjectManager::SetNodeAddresses(std::map<std::string, std::pair<std::string, int>> addresses) {
  std::lock_guard<std::mutex> lock(mutex_);
  addresses_ = std::move(addresses);
}

void ObjectManager::HandlePull(std::shared_ptr<rpc::Connection> conn, rpc::Frame frame) {
  auto shared = std::make_shared<rpc::Frame>(std::move(frame));
  loop_.Post([this, conn, shared, alive = alive_] {
    if (*alive) Pull(conn, *shared);
  });
}

void ObjectManager::HandleReadChunk(std::shared_ptr<rpc::Connection> conn, rpc::Frame frame) {
  auto shared = std::make_shared<rpc::Frame>(std::move(frame));
  loop_.Post([this, conn, shared, alive = alive_] {
    if (*alive) ReadChunk(conn, *shared);
  });
}

void ObjectManager::HandleFree(rpc::Frame frame) {
  auto shared = std::make_shared<rpc::Frame>(std::move(frame));
  loop_.Post([this, shared, alive = alive_] {
    if (!*alive) return;
    proto::FreeObjectsRequest request;
    if (!shared->ParseBody(&request).ok()) return;
    std::vector<std::string> ids;
    for (const auto& id : request.object_ids()) {
      // A copy still arriving stays (its transfer writes into it); sealed, it is evictable.
      if (!transfers_.contains(id)) ids.push_back(id);
    }
    if (!ids.empty()) (void)store_->Delete(ids);  // deferred by the store while pinned
    if (request.node_id().empty() || request.node_id() == node_id_) return;
    std::string error;
    if (auto conn = SourceConnection(request.node_id(), &error)) {
      conn->Send(proto::FREE_OBJECTS, request);
    }
  });
}

std::shared_ptr<rpc::Connection> ObjectManager::SourceConnection(const std::string& node_id,
                                                                 std::string* error) {
  auto it = sources_.find(node_id);
  if (it != sources_.end() && !it->second->closed()) return it->second;
  std::pair<std::string, int> address;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = addresses_.find(node_id);
    if (found == addresses_.end()) {
      *error = absl::StrCat("node ", ToHex(node_id), " is not alive (or not known yet)");
      return nullptr;
    }
    address = found->second;
  }
  auto conn = rpc::Connection::Connect(&loop_, address.first, address.second, absl::Seconds(5));
  if (!conn.ok()) {
    *error = absl::StrCat("cannot reach the raylet of node ", ToHex(node_id), ": ",
                          conn.status().message());
    return nullptr;
  }
  (*conn)->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                       [](const std::shared_ptr<rpc::Connection>&) {});
  sources_[node_id] = *conn;
  return *conn;
}

void ObjectManager::Pull(const std::shared_ptr<rpc::Connection>& conn, const rpc::Frame& frame) {
  proto::PullObjectRequest request;
  proto::PullObjectReply reply;
  rpc::Frame header;
  header.method = frame.method;
  header.seq = frame.seq;
  if (auto parsed = frame.ParseBody(&request); !parsed.ok()) {
    reply.set_error(std::string(parsed.message()));
    conn->Reply(header, reply);
    return;
  }
  const std::string& id = request.object_id();
  auto existing = transfers_.find(id);
  if (existing != transfers_.end()) {
    existing->second.waiters.push_back({conn, header});
    return;
  }
  if (store_->Contains(id)) {
    conn->Reply(header, reply);
    return;
  }
  if (request.node_id() == node_id_) {
    reply.set_error("the object is not in this node's store (it was freed or lost)");
    conn->Reply(header, reply);
    return;
  }
  std::string error;
  auto source = SourceConnection(request.node_id(), &error);
  if (!source) {
    reply.set_error(error);
    conn->Reply(header, reply);
    return;
  }
  auto dest = store_->Create(id, static_cast<uint64_t>(request.size()), {}, /*secondary=*/true);
  if (!dest.ok()) {
    if (store_->Contains(id)) {  // sealed here meanwhile
      conn->Reply(header, reply);
      return;
    }
    reply.set_error(absl::StrCat("no room for a copy in this node's store: ",
                                 dest.status().message()));
    conn->Reply(header, reply);
    return;
  }
  Transfer& transfer = transfers_[id];
  transfer.object_id = id;
  transfer.size = request.size();
  transfer.dest = *dest;
  transfer.source = source;
  transfer.generation = next_generation_++;
  transfer.waiters.push_back({conn, header});
  if (transfer.size == 0) {
    Finish(id, "");
    return;
  }
  RequestChunks(transfer);
}

void ObjectManager::RequestChunks(Transfer& transfer) {
  while (transfer.in_flight < kChunksInFlight && transfer.next_offset < transfer.size) {
    proto::ReadChunkRequest chunk;
    chunk.set_object_id(transfer.object_id);
    chunk.set_offset(transfer.next_offset);
    chunk.set_length(std::min(kChunkBytes, transfer.size - transfer.next_offset));
    const int64_t offset = transfer.next_offset;
    transfer.next_offset += chunk.length();
    ++transfer.in_flight;
    transfer.source->Call(
        proto::READ_OBJECT_CHUNK, chunk,
        [this, id = transfer.object_id, generation = transfer.generation, offset,
         alive = alive_](absl::Status s, rpc::Frame&& f) {
          if (*alive) OnChunk(id, generation, offset, s, std::move(f));
        });
  }
}

void ObjectManager::OnChunk(const std::string& object_id, uint64_t generation, int64_t offset,
                            absl::Status status, rpc::Frame&& frame) {
  auto it = transfers_.find(object_id);
  // Failed already, or a late chunk of a failed transfer that a new pull of the id replaced.
  if (it == transfers_.end() || it->second.generation != generation) return;
  Transfer& transfer = it->second;
  --transfer.in_flight;
  proto::ReadChunkReply reply;
  std::string_view data;
  if (!status.ok() || !frame.ParseBodyWithPayload(&reply, &data).ok()) {
    Finish(object_id, "the source node's raylet went away during the transfer");
    return;
  }
  if (!reply.found() || reply.size() != transfer.size ||
      offset + static_cast<int64_t>(data.size()) > transfer.size) {
    Finish(object_id, "the source node no longer has the object");
    return;
  }
  std::memcpy(transfer.dest.data() + offset, data.data(), data.size());
  transfer.received += static_cast<int64_t>(data.size());
  if (transfer.received >= transfer.size) {
    Finish(object_id, "");
    return;
  }
  RequestChunks(transfer);
}

void ObjectManager::Finish(const std::string& object_id, const std::string& error) {
  auto it = transfers_.find(object_id);
  if (it == transfers_.end()) return;
  Transfer transfer = std::move(it->second);
  transfers_.erase(it);
  proto::PullObjectReply reply;
  if (error.empty()) {
    if (auto sealed = store_->Seal(object_id); !sealed.ok()) {
      reply.set_error(std::string(sealed.message()));
    }
    if (transfer.size >= kChunkBytes) {
      const double seconds = absl::ToDoubleSeconds(absl::Now() - transfer.started);
      spdlog::info("pulled object {} ({} bytes) in {:.3f} s ({:.2f} GB/s)", ToHex(object_id),
                   transfer.size, seconds, static_cast<double>(transfer.size) / seconds / 1e9);
    }
  } else {
    (void)store_->Delete({object_id});  // the unsealed copy goes
    reply.set_error(error);
  }
  for (auto& waiter : transfer.waiters) waiter.conn->Reply(waiter.request, reply);
}

void ObjectManager::ReadChunk(const std::shared_ptr<rpc::Connection>& conn,
                              const rpc::Frame& frame) {
  proto::ReadChunkRequest request;
  proto::ReadChunkReply reply;
  std::string_view data;
  std::shared_ptr<ray::internal::Buffer> pinned;  // held until the bytes are in the write buffer
  if (frame.ParseBody(&request).ok()) {
    auto buffers = store_->Get({request.object_id()}, absl::ZeroDuration());
    if (buffers.ok() && (*buffers)[0]) {
      const auto& buffer = (*buffers)[0];
      int64_t size = static_cast<int64_t>(buffer->Size());
      int64_t offset = std::clamp<int64_t>(request.offset(), 0, size);
      int64_t length = std::clamp<int64_t>(request.length(), 0, size - offset);
      reply.set_found(true);
      reply.set_size(size);
      pinned = buffer;
      data = std::string_view(reinterpret_cast<const char*>(buffer->Data()) + offset,
                              static_cast<size_t>(length));
    }
  }
  conn->ReplyWithPayload(frame, reply, data);
}

}  // namespace moray::raylet
