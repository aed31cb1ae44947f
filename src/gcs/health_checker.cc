#include "gcs/health_checker.h"

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "raylet.pb.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {

HealthChecker::HealthChecker(rpc::EventLoop* loop, rpc::ConnectionPool* pool, NodeManager* nodes,
                             ObjectSnapshotStore* objects, HealthCheckOptions options,
                             DeadFn on_dead)
    : loop_(loop), pool_(pool), nodes_(nodes), objects_(objects), options_(options),
      on_dead_(std::move(on_dead)) {}

HealthChecker::~HealthChecker() { *alive_ = false; }

void HealthChecker::Start() {
  timer_ = loop_->RunAfter(options_.period, [this, alive = alive_] {
    if (*alive) Round();
  });
}

void HealthChecker::SendToRaylets(uint16_t method, const google::protobuf::MessageLite& message) {
  if (!*alive_) return;
  std::vector<rpc::Endpoint> raylets;
  for (auto& [id, peer] : peers_) raylets.push_back(peer.raylet);
  // Nodes registered since the last round are not checked yet, but may already run work.
  for (const auto& node : nodes_->GetAllNodes()) {
    if (node.state() != proto::NODE_ALIVE) continue;
    if (!peers_.contains(NodeId::FromBinary(node.node_id()))) {
      raylets.push_back(rpc::Endpoint{node.node_ip(), node.raylet_port()});
    }
  }
  for (const rpc::Endpoint& raylet : raylets) {
    if (auto conn = pool_->Get(raylet); conn.ok()) (*conn)->Send(method, message);
  }
}

void HealthChecker::Shutdown() {
  *alive_ = false;
  if (timer_) loop_->CancelTimer(timer_);
  peers_.clear();
}

void HealthChecker::Round() {
  timer_ = 0;
  const std::vector<proto::NodeInfo> nodes = nodes_->GetAllNodes();
  std::unordered_map<NodeId, Peer> kept;
  for (const auto& node : nodes) {
    if (node.state() != proto::NODE_ALIVE) continue;
    auto it = peers_.find(NodeId::FromBinary(node.node_id()));
    Peer peer = it == peers_.end() ? Peer{} : std::move(it->second);
    peer.raylet = rpc::Endpoint{node.node_ip(), node.raylet_port()};
    kept[NodeId::FromBinary(node.node_id())] = std::move(peer);
  }
  // Nodes no longer alive (unregistered): forget them, and close their raylets' connections
  // after peers_ no longer holds them, so a check failed by the close finds no peer to count
  // against.
  std::vector<rpc::Endpoint> dropped;
  for (auto& [id, peer] : peers_) {
    if (!kept.contains(id)) dropped.push_back(peer.raylet);
  }
  peers_ = std::move(kept);
  for (const auto& raylet : dropped) pool_->Close(raylet);
  for (const auto& node : nodes) {
    auto it = peers_.find(NodeId::FromBinary(node.node_id()));
    if (it != peers_.end()) Check(node, it->second);
  }
  Start();
}

void HealthChecker::Check(const proto::NodeInfo& node, Peer& peer) {
  const NodeId node_id = NodeId::FromBinary(node.node_id());
  if (peer.in_flight) return;  // the last check is still within its timeout
  // The pooled connection, opening or open; a connect in progress is completed by the loop, and
  // the check waits in its queue like any call.
  auto conn = pool_->Get(peer.raylet);
  if (!conn.ok()) {
    Failed(node_id, absl::StrCat("its raylet at ", peer.raylet.ToString(), " cannot be reached (",
                                 conn.status().message(), ")"));
    return;
  }
  peer.in_flight = true;
  const uint64_t check_id = next_check_id_++;
  peer.check_id = check_id;
  proto::HealthCheckRequest request;
  (*conn)->Call(proto::RAYLET_HEALTH_CHECK, request,
                [this, node_id, check_id, alive = alive_](absl::Status s, rpc::Frame&&) {
                  if (!*alive) return;
                  auto it = peers_.find(node_id);
                  if (it == peers_.end() || it->second.check_id != check_id) return;
                  it->second.in_flight = false;
                  if (s.ok()) {
                    it->second.failures = 0;
                  } else {
                    Failed(node_id, absl::StrCat("the check to its raylet failed (", s.message(),
                                                 ")"));
                  }
                });
  loop_->RunAfter(options_.timeout, [this, node_id, check_id, alive = alive_] {
    if (!*alive) return;
    auto it = peers_.find(node_id);
    if (it == peers_.end() || it->second.check_id != check_id || !it->second.in_flight) return;
    it->second.in_flight = false;
    Failed(node_id, absl::StrCat("its raylet did not answer a health check within ",
                                 absl::FormatDuration(options_.timeout)));
  });
}

void HealthChecker::Failed(const NodeId& node_id, const std::string& why) {
  auto it = peers_.find(node_id);
  if (it == peers_.end()) return;
  Peer& peer = it->second;
  // The failed check is over: its late answer may not count again. The connection stays: it is
  // shared, and a slow raylet's next answer on it counts as healthy.
  peer.in_flight = false;
  peer.check_id = 0;
  if (++peer.failures < options_.failure_threshold) return;
  const rpc::Endpoint raylet = peer.raylet;
  peers_.erase(it);
  // Dead is final: its connection goes too (leases pending there fail and are placed again).
  pool_->Close(raylet);
  std::string reason = absl::StrCat("health check failed ", options_.failure_threshold,
                                    " times in a row: ", why);
  if (auto s = nodes_->UnregisterNode(node_id, reason); !s.ok()) return;
  objects_->DropNode(node_id);
  spdlog::warn("node {} is DEAD: {}", node_id.Hex(), reason);
  for (const auto& node : nodes_->GetAllNodes()) {
    if (NodeId::FromBinary(node.node_id()) == node_id && on_dead_) on_dead_(node);
  }
}

}  // namespace moray::gcs
