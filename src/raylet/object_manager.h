// ObjectManager: moves objects between nodes' stores (issue 5). Pull-based: a core worker that
// needs an object sealed on another node asks its own raylet (PULL_OBJECT); this node's object
// manager creates a secondary copy in the local store and reads the object from the source
// node's raylet in chunks (READ_OBJECT_CHUNK, 8 MiB, 4 in flight), then seals it and answers.
// Concurrent pulls of one object share one transfer. It also serves chunks of local objects to
// other nodes, and drops copies an owner freed (FREE_OBJECTS, passed on to the node that made
// the object). Where a node is, and whether it is dead, comes from the raylet's cluster view and
// the GCS's NODE_DIED.
//
// A pull answers "lost" only when the copy is gone for good: the GCS declared its node dead, or
// the node says it no longer has the object. Anything that may pass — the node not in this
// raylet's view yet, a connection that fails or drops while the node is alive, no room here yet,
// another copy of the id being written here — is retried with back-off (kFirstRetry doubling to
// kMaxRetry; a view naming the node, or its death, retries at once) until the requesters' time
// runs out. A source that stops answering mid-transfer is waited for: it resumes, or the GCS
// declares it dead (its health checks time out) and the transfer fails as lost.
//
//   ObjectManager objects(store_socket, node_id);
//   objects.Start();
//   objects.SetClusterView(nodes);                    // after each cluster view
//   objects.MarkNodeDead(node_id);                    // NODE_DIED
//   objects.RegisterMethods(&raylet_service);         // PULL_OBJECT, READ_OBJECT_CHUNK, frees
//
// Thread model: its own event-loop thread ("raylet_objects"), so copies never hold up the
// raylet's scheduling loop. The handlers RegisterMethods adds run on the service's loop and hand
// the request over to this loop; SetClusterView and MarkNodeDead may be called from any thread
// (they post to that loop, in order).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "object_store/store_client.h"
#include "raylet.pb.h"
#include "rpc/channel.h"
#include "rpc/connection_pool.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"
#include "transfer.pb.h"

namespace moray::raylet {

class ObjectManager {
 public:
  static constexpr int64_t kChunkBytes = 8ll << 20;
  static constexpr int kChunksInFlight = 4;
  static constexpr absl::Duration kFirstRetry = absl::Milliseconds(100);
  static constexpr absl::Duration kMaxRetry = absl::Seconds(2);
  static constexpr absl::Duration kConnectTimeout = absl::Seconds(2);

  struct NodeAddress {
    std::string ip;
    int port = 0;
    bool alive = true;  // false: the GCS declared it dead
  };

  ObjectManager(std::string store_socket, NodeId node_id);
  ~ObjectManager();

  absl::Status Start();
  void Stop();

  // Every node of the cluster view, dead ones included (by node id). The caller keeps a node
  // NODE_DIED named dead in every later view.
  void SetClusterView(std::map<NodeId, NodeAddress> nodes);
  // The GCS declared the node dead: pulls from it fail as lost now.
  void MarkNodeDead(const NodeId& node_id);
  // Serves, on `service`: RAYLET_PULL_OBJECT and RAYLET_FREE_OBJECTS (from core workers),
  // TRANSFER_READ_OBJECT_CHUNK and TRANSFER_FREE_OBJECTS (from other raylets). A free drops
  // this node's copies of the objects, and a core worker's is passed on to the node it names
  // when that is another one (a dead or unknown node has nothing to free).
  void RegisterMethods(rpc::Service* service);

 private:
  using PullResponder = rpc::Responder<proto::PullObjectReply>;
  using ChunkResponder = rpc::Responder<proto::ReadChunkReply>;
  struct Waiter {
    PullResponder respond;
    NodeId node_id;  // the copy it asked for
    absl::Time deadline = absl::InfiniteFuture();
  };
  struct Transfer {
    ObjectId object_id;
    NodeId node_id;  // the source
    int64_t size = 0;
    std::vector<Waiter> waiters;
    absl::Time started = absl::Now();
    // The attempt under way (generation != 0): where it writes, what it asked and received.
    // A late chunk of an earlier attempt carries another generation and is ignored.
    uint64_t generation = 0;
    std::span<char> dest;
    std::shared_ptr<rpc::Connection> source;
    int64_t next_offset = 0;
    int64_t received = 0;
    int in_flight = 0;
    // Between attempts: the timer of the next one, the back-off after it, and why the last one
    // did not finish.
    uint64_t retry_timer = 0;
    absl::Duration backoff = kFirstRetry;
    std::string waiting_for;
  };

  void Pull(const proto::PullObjectRequest& request, const PullResponder& respond);
  void Free(const proto::FreeObjectsRequest& request, bool pass_on);
  // Starts an attempt, or ends the transfer when the object is here or known lost.
  void Attempt(Transfer& transfer);
  // The attempt failed in a way that may pass: drops it, answers requesters whose time ran out,
  // and tries again after the back-off (or forgets the transfer when nobody waits any more).
  void Retry(Transfer& transfer, std::string why);
  void AbortAttempt(Transfer& transfer);
  // The node appeared in the view, or died: pulls from it waiting to try again try now; pulls
  // from a dead node fail as lost.
  void OnNodeNews(const NodeId& node_id);
  static absl::Status DeadNode(const NodeId& node_id);  // the error for a dead source
  void ReadChunk(const proto::ReadChunkRequest& request, const ChunkResponder& respond);
  void RequestChunks(Transfer& transfer);
  void OnChunk(const ObjectId& object_id, uint64_t generation, int64_t offset, absl::Status status,
               rpc::Frame&& frame);
  // Answers every requester and forgets the transfer: success when `status` is OK. A lost copy
  // (NotFound) is told only to those that asked for it; the transfer goes on for any others.
  void Finish(const ObjectId& object_id, const absl::Status& status);
  // Fails `waiters` (of `transfer`) with `status`.
  void Answer(const Transfer& transfer, const std::vector<Waiter>& waiters,
              const absl::Status& status);
  // The pooled connection to `node_id`'s raylet (it may still be connecting: a failure arrives
  // as failed calls), or nullptr and why (not in the view, dead, or the pool backs off from it
  // after a failed connect).
  std::shared_ptr<rpc::Connection> SourceConnection(const NodeId& node_id, std::string* error);

  const std::string store_socket_;
  const NodeId node_id_;
  rpc::EventLoop loop_;
  std::unique_ptr<object_store::StoreClient> store_;  // loop thread after Start
  std::unordered_map<ObjectId, Transfer> transfers_;  // loop thread
  uint64_t next_generation_ = 1;                          // loop thread
  // Loop thread: connections to other raylets (frames they send back are only replies).
  std::unique_ptr<rpc::ConnectionPool> sources_;
  // Loop thread: the last view's nodes (and MarkNodeDead's since).
  std::map<NodeId, NodeAddress> nodes_;
  // Written by Stop (any thread), read by callbacks on the loop thread.
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace moray::raylet
