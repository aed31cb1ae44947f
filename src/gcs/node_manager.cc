#include "gcs/node_manager.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id_status.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {

absl::Status NodeManager::RegisterNode(proto::NodeInfo node) {
  auto parsed = RequiredId<NodeId>(node.node_id(), "RegisterNode: node_id");
  if (!parsed.ok()) return parsed.status();
  const NodeId id = *parsed;
  node.set_state(proto::NODE_ALIVE);
  node.clear_state_message();
  node.set_end_time_ms(0);
  if (node.start_time_ms() == 0) node.set_start_time_ms(absl::ToUnixMillis(absl::Now()));
  // Storage is written under mu_ so that it and the in-memory table agree on the last writer.
  absl::MutexLock lock(&mu_);
  auto put =
      storage_->Put(Table::kNodes, id.Binary(), node.SerializeAsString(), /*overwrite=*/true);
  if (!put.ok()) return put.status();
  if (!nodes_.contains(id)) registration_order_.push_back(id);
  spdlog::info("node {} registered: ip {}, raylet port {}, head {}", id.Hex(), node.node_ip(),
               node.raylet_port(), node.is_head_node());
  reports_.erase(id);  // a revived node starts from a fresh report
  ParseLocked(id, node.resources_total(), node.resources_total());
  nodes_[id] = std::move(node);
  return absl::OkStatus();
}

absl::Status NodeManager::UnregisterNode(const NodeId& node_id, std::string_view reason) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) {
    return absl::NotFoundError(absl::StrCat("no node with id ", node_id.Hex()));
  }
  proto::NodeInfo& node = it->second;
  if (node.state() == proto::NODE_DEAD) return absl::OkStatus();
  node.set_state(proto::NODE_DEAD);
  node.set_state_message(std::string(reason));
  node.set_end_time_ms(absl::ToUnixMillis(absl::Now()));
  parsed_.erase(node_id);
  auto put = storage_->Put(Table::kNodes, node.node_id(), node.SerializeAsString(),
                           /*overwrite=*/true);
  if (!put.ok()) return put.status();
  // The node's processes are gone with it; keep the last report so `moray list workers` still
  // shows who ran there, but not as alive.
  if (auto report = reports_.find(node_id); report != reports_.end()) {
    for (auto& worker : *report->second.mutable_workers()) worker.set_is_alive(false);
    report->second.clear_demands();
  }
  spdlog::info("node {} is dead: {}", node_id.Hex(), reason);
  return absl::OkStatus();
}

absl::Status NodeManager::ReportResources(proto::NodeResourceReport report) {
  absl::MutexLock lock(&mu_);
  const NodeId id = NodeId::FromBinary(report.node_id());
  auto it = nodes_.find(id);
  if (it == nodes_.end()) {
    return absl::NotFoundError(
        absl::StrCat("node ", id.Hex(), " reported resources before registering"));
  }
  if (it->second.state() == proto::NODE_DEAD) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", id.Hex(), " was declared dead: ", it->second.state_message()));
  }
  ParseLocked(id, report.resources_total(), report.resources_available());
  reports_[id] = std::move(report);
  return absl::OkStatus();
}

void NodeManager::UpdateResources(const NodeId& node_id,
                                  const google::protobuf::Map<std::string, double>& total,
                                  const google::protobuf::Map<std::string, double>& available) {
  absl::MutexLock lock(&mu_);
  auto node = nodes_.find(node_id);
  if (node == nodes_.end() || node->second.state() == proto::NODE_DEAD) return;
  Parsed& parsed = parsed_[node_id];
  parsed.plain_total = scheduling::ParseResourceMap(total, /*with_group_scoped=*/false);
  parsed.plain_available = scheduling::ParseResourceMap(available, /*with_group_scoped=*/false);
}

void NodeManager::ParseLocked(const NodeId& node_id,
                              const google::protobuf::Map<std::string, double>& total,
                              const google::protobuf::Map<std::string, double>& available) {
  Parsed& parsed = parsed_[node_id];
  parsed.total = scheduling::ParseResourceMap(total);
  parsed.available = scheduling::ParseResourceMap(available);
  parsed.plain_total = scheduling::ParseResourceMap(total, /*with_group_scoped=*/false);
  parsed.plain_available = scheduling::ParseResourceMap(available, /*with_group_scoped=*/false);
}

scheduling::ClusterView NodeManager::ResourceView(bool with_group_scoped) const {
  scheduling::ClusterView view;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, parsed] : parsed_) {
    const proto::NodeInfo& info = nodes_.at(id);
    if (info.state() != proto::NODE_ALIVE) continue;
    scheduling::NodeView node;
    node.id = id;
    node.info = info;
    node.total = with_group_scoped ? parsed.total : parsed.plain_total;
    node.available = with_group_scoped ? parsed.available : parsed.plain_available;
    view.Upsert(std::move(node));
  }
  return view;
}

std::optional<proto::NodeInfo> NodeManager::GetAliveNode(const NodeId& node_id) const {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || it->second.state() != proto::NODE_ALIVE) return std::nullopt;
  return it->second;
}

std::vector<proto::NodeInfo> NodeManager::GetAllNodes() const {
  absl::MutexLock lock(&mu_);
  std::vector<proto::NodeInfo> out;
  out.reserve(registration_order_.size());
  for (const auto& id : registration_order_) out.push_back(nodes_.at(id));
  return out;
}

proto::GetClusterStatusReply NodeManager::GetClusterStatus() const {
  absl::MutexLock lock(&mu_);
  proto::GetClusterStatusReply reply;
  for (const auto& id : registration_order_) {
    *reply.add_nodes() = nodes_.at(id);
    if (auto it = reports_.find(id); it != reports_.end()) *reply.add_reports() = it->second;
  }
  return reply;
}

}  // namespace moray::gcs
