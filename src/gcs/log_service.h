// LogService: worker output on its way to drivers (docs/observability.md, "Logs"). Raylets'
// log agents send batches of complete lines per job (PUBLISH_WORKER_LOGS); drivers subscribe
// to their job (SUBSCRIBE_WORKER_LOGS) on their connection to the GCS port and get every batch
// of the job pushed there (WORKER_LOGS), as ACTOR_UPDATEs are. The GCS keeps nothing: a batch
// goes to the subscribers connected now. A subscriber whose connection has more than
// max_queued_bytes unsent (a driver that does not read) misses batches until it catches up:
// output never piles up in the GCS, and the lines stay in the workers' log files.
//
//   LogService logs;
//   logs.Register(&service);   // before the GCS port serves
//   logs.OnClosed(conn);       // the GCS port's close handler
//
// Thread model: the GCS port's loop (the service loop) only: handlers and close handlers run
// there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/id.h"
#include "rpc/channel.h"
#include "rpc/service.h"

namespace moray::gcs {

class LogService {
 public:
  explicit LogService(size_t max_queued_bytes = 4 << 20) : max_queued_bytes_(max_queued_bytes) {}

  // Adds PUBLISH_WORKER_LOGS (raylets) and SUBSCRIBE_WORKER_LOGS (core workers) to `service`.
  void Register(rpc::Service* service);
  // The connection closed: its subscriptions go.
  void OnClosed(const std::shared_ptr<rpc::Connection>& conn);
  // Batches not sent to a subscriber because its backlog was full (tests, diagnostics).
  int64_t skipped() const { return skipped_; }

 private:
  const size_t max_queued_bytes_;
  std::unordered_map<JobId, std::vector<std::shared_ptr<rpc::Connection>>> subscribers_;
  int64_t skipped_ = 0;
};

}  // namespace moray::gcs
