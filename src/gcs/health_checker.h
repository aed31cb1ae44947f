// HealthChecker: the GCS's view of which raylets are alive (issue 5). Every `period` it sends a
// HEALTH_CHECK to each ALIVE node's raylet over the framed channel, on the pooled connection to
// that raylet (shared with the actor scheduler); a check fails when the raylet does not answer
// within `timeout`, the connection closes, or it cannot be reached (the pool backing off after a
// failed connect). Nothing here waits on the network: a raylet whose connect hangs fails one
// check per period like any other, so detection keeps its timing. After `failure_threshold` failures in a row the node is DEAD: the node
// table records why, its object snapshots go, and `on_dead` tells the rest of the GCS (which
// tells raylets and core workers). A raylet that comes back registers as a new node (a new id).
//
// Detection time is at most about period * failure_threshold + timeout (default 1 s * 5 + 1 s).
//
// Thread model: the given event loop's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/time/time.h"
#include "common/id.h"
#include "gcs/node_manager.h"
#include "gcs/object_snapshot_store.h"
#include "rpc/channel.h"
#include "rpc/connection_pool.h"
#include "rpc/event_loop.h"

namespace moray::gcs {

struct HealthCheckOptions {
  absl::Duration period = absl::Seconds(1);
  absl::Duration timeout = absl::Seconds(1);
  int failure_threshold = 5;
};

class HealthChecker {
 public:
  using DeadFn = std::function<void(const proto::NodeInfo& node)>;

  // Everything must outlive the checker. `pool` belongs to `loop`.
  HealthChecker(rpc::EventLoop* loop, rpc::ConnectionPool* pool, NodeManager* nodes,
                ObjectSnapshotStore* objects, HealthCheckOptions options, DeadFn on_dead);
  ~HealthChecker();

  void Start();     // arms the first round
  // Sends a one-way message to the raylet of every node it checks, and of every ALIVE node
  // registered since the last round (NODE_DIED, JOB_FINISHED).
  void SendToRaylets(uint16_t method, const google::protobuf::MessageLite& message);
  void Shutdown();  // no more rounds (the pool closes the connections)

 private:
  struct Peer {
    rpc::Endpoint raylet;
    int failures = 0;
    bool in_flight = false;
    uint64_t check_id = 0;  // the outstanding check
  };

  void Round();
  void Check(const proto::NodeInfo& node, Peer& peer);
  void Failed(const NodeId& node_id, const std::string& why);

  rpc::EventLoop* const loop_;
  rpc::ConnectionPool* const pool_;
  NodeManager* const nodes_;
  ObjectSnapshotStore* const objects_;
  const HealthCheckOptions options_;
  DeadFn on_dead_;
  uint64_t timer_ = 0;
  uint64_t next_check_id_ = 1;
  std::unordered_map<NodeId, Peer> peers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace moray::gcs
