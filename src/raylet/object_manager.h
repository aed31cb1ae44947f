// ObjectManager: moves objects between nodes' stores (issue 5). Pull-based: a core worker that
// needs an object sealed on another node asks its own raylet (PULL_OBJECT); this node's object
// manager creates a secondary copy in the local store and reads the object from the source
// node's raylet in chunks (READ_OBJECT_CHUNK, 8 MiB, 4 in flight), then seals it and answers.
// Concurrent pulls of one object share one transfer. It also serves chunks of local objects to
// other nodes, and drops copies an owner freed (FREE_OBJECTS, passed on to the node that made
// the object). Where a node is comes from the raylet's cluster view.
//
//   ObjectManager objects(store_socket, node_id);
//   objects.Start();
//   objects.SetNodeAddresses(addresses);              // after each cluster view
//   objects.HandlePull(conn, std::move(frame));       // from the raylet's loop
//
// Thread model: its own event-loop thread ("raylet_objects"), so copies never hold up the
// raylet's scheduling loop; Handle* and SetNodeAddresses may be called from any thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "node.pb.h"
#include "object_store/store_client.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"

namespace moray::raylet {

class ObjectManager {
 public:
  static constexpr int64_t kChunkBytes = 8ll << 20;
  static constexpr int kChunksInFlight = 4;

  ObjectManager(std::string store_socket, std::string node_id);
  ~ObjectManager();

  absl::Status Start();
  void Stop();

  // node id -> (ip, raylet port), every alive node.
  void SetNodeAddresses(std::map<std::string, std::pair<std::string, int>> addresses);
  void HandlePull(std::shared_ptr<rpc::Connection> conn, rpc::Frame frame);
  void HandleReadChunk(std::shared_ptr<rpc::Connection> conn, rpc::Frame frame);
  // FREE_OBJECTS: drops this node's copies of the objects, and passes the request on to the
  // node it names when that is another one (a dead or unknown node has nothing to free).
  void HandleFree(rpc::Frame frame);

 private:
  struct Waiter {
    std::shared_ptr<rpc::Connection> conn;
    rpc::Frame request;  // header only: method and seq, for the reply
  };
  struct Transfer {
    std::string object_id;
    int64_t size = 0;
    std::span<char> dest;
    int64_t next_offset = 0;
    int64_t received = 0;
    int in_flight = 0;
    std::shared_ptr<rpc::Connection> source;
    std::vector<Waiter> waiters;
    absl::Time started = absl::Now();
    uint64_t generation = 0;  // tells a late chunk of an earlier transfer of the same object
  };

  void Pull(const std::shared_ptr<rpc::Connection>& conn, const rpc::Frame& frame);
  void ReadChunk(const std::shared_ptr<rpc::Connection>& conn, const rpc::Frame& frame);
  void RequestChunks(Transfer& transfer);
  void OnChunk(const std::string& object_id, uint64_t generation, int64_t offset,
               absl::Status status,
               rpc::Frame&& frame);
  void Finish(const std::string& object_id, const std::string& error);
  std::shared_ptr<rpc::Connection> SourceConnection(const std::string& node_id, std::string* error);

  const std::string store_socket_;
  const std::string node_id_;
  rpc::EventLoop loop_;
  std::unique_ptr<object_store::StoreClient> store_;  // loop thread after Start
  std::unordered_map<std::string, Transfer> transfers_;  // loop thread, by object id
  uint64_t next_generation_ = 1;                          // loop thread
  std::unordered_map<std::string, std::shared_ptr<rpc::Connection>> sources_;  // by node id
  std::mutex mutex_;
  std::map<std::string, std::pair<std::string, int>> addresses_;  // guarded by mutex_
  // Written by Stop (any thread), read by callbacks on the loop thread.
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace moray::raylet
