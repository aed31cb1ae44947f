// StoreServer: serves one node's object store to its core workers over a Unix domain socket.
// Owns the shared memory, the Store (object table, spilling) and an event loop thread of its own,
// so data-path requests never wait behind the raylet's scheduling work.
//
//   StoreServerOptions options;
//   options.socket_path = session + "/sockets/store-" + node_hex + ".sock";
//   options.capacity = 1ull << 30;
//   options.spill_dir = session + "/spill";
//   auto server = StoreServer::Start(options);   // listening when OK
//   ... (*server)->Stats() ...                   // from any thread
//   (*server)->Stop();                           // or destroy it
//
// Protocol (proto/store.proto): on accept the server sends the region size and its memfd in one
// sendmsg (SCM_RIGHTS), then serves StoreMethod frames on an rpc::Service (a failure is an error
// reply with its status; a bad frame gets the service's policy). GET waits (per request, no
// polling) until
// every id is sealed or the timeout passes. A closed connection releases all its pins and aborts
// the objects it created but never sealed.
//
// Thread model: Start/Stop from one controlling thread; Stats() from any thread. Everything else
// runs on the store's loop thread ("store"), plus the shared memory's prefault thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "object_store/shared_memory.h"
#include "object_store/store.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"
#include "store.pb.h"

namespace moray::object_store {

struct StoreServerOptions {
  std::string socket_path;                   // required; < 108 bytes
  uint64_t capacity = 0;                     // bytes of shared memory; required
  std::string spill_dir;                     // empty: never spill (CREATE fails when full)
  uint64_t prefault_bytes = 0;               // faulted in the background at start
  uint64_t spill_file_size = 256ull << 20;   // a spill file rolls over past this
};

class StoreServer {
 public:
  // Creates the region, starts the loop thread and listens. Fails on a bad option, a memfd or
  // mmap failure, or a socket path that cannot be bound.
  static absl::StatusOr<std::unique_ptr<StoreServer>> Start(StoreServerOptions options);
  ~StoreServer();  // Stop()

  // Idempotent: closes every client, stops the loop, removes the socket and the spill files.
  void Stop();

  const std::string& socket_path() const { return options_.socket_path; }
  // A snapshot, refreshed after every request. Any thread.
  proto::StoreStats Stats() const;
  // The store's objects (Store::List) with its stats, read on the store's loop. Any thread but
  // the store's own loop, never concurrently with Stop; blocks until the loop answers
  // (Unavailable once stopped, or if it does not answer within `timeout`).
  struct Listing {
    StoreContents contents;
    proto::StoreStats stats;
  };
  absl::StatusOr<Listing> ListObjects(size_t limit, absl::Duration timeout) const;

 private:
  struct PendingGet;
  struct Client {
    ClientId id = 0;
    std::shared_ptr<rpc::Connection> conn;
    std::vector<std::shared_ptr<PendingGet>> gets;  // waiting GETs of this client
  };

  explicit StoreServer(StoreServerOptions options);
  absl::Status Listen();  // loop thread
  absl::Status SendRegion(int fd) const;
  void RegisterMethods();  // constructor
  void OnAccept(std::shared_ptr<rpc::Connection> conn);
  void OnClose(ClientId client);
  // The record of the connection a frame came on (its user_data while open).
  static Client& ClientOf(const rpc::Peer& peer) {
    return *static_cast<Client*>(peer.conn->user_data);
  }
  void HandleGet(Client& client, const proto::StoreGetRequest& request,
                 rpc::Responder<proto::StoreGetReply> respond);
  void OnSealed(const ObjectId& id);
  void AnswerGet(const std::shared_ptr<PendingGet>& get);
  void ForgetGet(const std::shared_ptr<PendingGet>& get);
  void PublishStats();

  const StoreServerOptions options_;
  std::unique_ptr<SharedMemory> memory_;
  std::unique_ptr<rpc::EventLoop> loop_;
  rpc::Service service_{"object store"};  // methods registered by the constructor
  // Loop thread only from here on.
  std::unique_ptr<Store> store_;
  std::unique_ptr<rpc::Server> server_;
  ClientId next_client_ = 1;
  absl::flat_hash_map<ClientId, std::unique_ptr<Client>> clients_;
  absl::flat_hash_map<ObjectId, std::vector<std::shared_ptr<PendingGet>>> waiting_;
  bool stopped_ = false;  // controlling thread

  mutable std::mutex stats_mutex_;
  proto::StoreStats stats_;  // guarded by stats_mutex_
};

}  // namespace moray::object_store
