// The GCS composition root: builds storage, the managers and the gRPC service, and serves them on
// one port. RunGcsServer (gcs_server_main.h) wraps it into a process; tests embed it directly.
//
//   GcsServer server({.host = "127.0.0.1", .port = 0});
//   if (auto s = server.Start(); !s.ok()) ...;
//   int port = server.port();
//   ...
//   server.Stop();
//
// Thread model: Start and Stop from one controlling thread; RPCs run on gRPC's sync thread pool;
// actor scheduling and the actor channel on one event loop thread.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gcs/worker_channel.h"
#include "gcs/actor_manager.h"
#include "gcs/actor_scheduler.h"
#include "gcs/gcs_service.h"
#include "gcs/gcs_table_storage.h"
#include "gcs/health_checker.h"
#include "gcs/job_manager.h"
#include "gcs/kv_store.h"
#include "gcs/node_manager.h"
#include "gcs/object_snapshot_store.h"
#include "gcs/task_event_store.h"

namespace grpc {
class Server;
}

namespace moray::gcs {

struct GcsServerConfig {
  std::string host = "127.0.0.1";  // bind address
  int port = 0;                    // 0: any free port
  size_t max_task_records = 100000;  // task attempts kept for the state API
  HealthCheckOptions health_check;   // how raylets are checked, and when a node is DEAD
};

class GcsServer {
 public:
  explicit GcsServer(GcsServerConfig config);
  ~GcsServer();  // stops if running
  GcsServer(const GcsServer&) = delete;
  GcsServer& operator=(const GcsServer&) = delete;

  // Binds and starts serving. Unavailable if the address cannot be bound (port in use, bad host).
  absl::Status Start();
  // The bound port; valid after a successful Start.
  int port() const { return port_; }
  // The actor channel's port (framed protocol, same host); valid after a successful Start.
  int actor_port() const { return actor_port_; }
  // Stops accepting calls, gives in-flight calls up to `grace` to finish, then cancels them.
  void Stop(absl::Duration grace = absl::Seconds(1));

 private:
  GcsServerConfig config_;
  std::unique_ptr<GcsTableStorage> storage_;
  NodeManager nodes_;
  JobManager jobs_;
  KvStore kv_;
  TaskEventStore task_events_;
  ObjectSnapshotStore objects_;
  ActorManager actors_;
  GcsServiceImpl service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // Actor scheduling and the actor channel run on their own event loop.
  rpc::EventLoop actor_loop_;
  std::unique_ptr<ActorScheduler> scheduler_;
  std::unique_ptr<WorkerChannel> channel_;
  std::unique_ptr<HealthChecker> health_;
  int actor_port_ = 0;
};

}  // namespace moray::gcs
