#include "gcs/log_service.h"

#include <algorithm>
#include <utility>

#include "gcs.pb.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {

void LogService::Register(rpc::Service* service) {
  service->OneWay<proto::SubscribeWorkerLogsRequest>(
      proto::SUBSCRIBE_WORKER_LOGS, rpc::kCoreWorkers,
      [this](const rpc::Peer& peer, proto::SubscribeWorkerLogsRequest&& request) {
        if (request.job_id().size() != JobId::kSize) {
          spdlog::warn("SUBSCRIBE_WORKER_LOGS from {}: malformed job id", peer.conn->peer());
          return;
        }
        auto& conns = subscribers_[JobId::FromBinary(request.job_id())];
        if (std::find(conns.begin(), conns.end(), peer.conn) == conns.end()) {
          conns.push_back(peer.conn);
        }
      });
  service->OneWay<proto::WorkerLogBatch>(
      proto::PUBLISH_WORKER_LOGS, rpc::RoleBit(proto::ROLE_RAYLET),
      [this](const rpc::Peer&, proto::WorkerLogBatch&& batch) {
        if (batch.job_id().size() != JobId::kSize) return;
        auto it = subscribers_.find(JobId::FromBinary(batch.job_id()));
        if (it == subscribers_.end()) return;
        for (const auto& conn : it->second) {
          if (conn->queued_bytes() > max_queued_bytes_) {
            ++skipped_;
            continue;
          }
          conn->Send(proto::WORKER_LOGS, batch);
        }
      });
}

void LogService::OnClosed(const std::shared_ptr<rpc::Connection>& conn) {
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    auto& conns = it->second;
    conns.erase(std::remove(conns.begin(), conns.end(), conn), conns.end());
    it = conns.empty() ? subscribers_.erase(it) : std::next(it);
  }
}

}  // namespace moray::gcs
