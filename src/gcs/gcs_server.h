// The GCS composition root: builds storage, the managers, the GCS service and the actor machinery,
// and serves them on one port over the framed channel (docs/wire.md). RunGcsServer
// (gcs_server_main.h) wraps it into a process; tests embed it directly.
//
//   GcsServer server({.host = "127.0.0.1", .port = 0});
//   if (auto s = server.Start(); !s.ok()) ...;
//   int port = server.port();
//   ...
//   server.Stop();
//
// Thread model: Start and Stop from one controlling thread. Two event loops:
//   gcs_service  the port: accepts, reads every frame, runs the handlers of gcs_service.h (nodes,
//                jobs, KV, task events, state queries) against the thread-safe managers.
//   gcs_actors   the actor scheduler, the actor methods' state (actor_service.h), the
//                placement-group scheduler, the health checks, and the GCS's own connections to
//                raylets and actor workers (one pool).
// They are separate so that a long state query (GetTasks over a large table) never delays a
// health check, which would make a healthy node look dead.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gcs/actor_manager.h"
#include "gcs/actor_scheduler.h"
#include "gcs/actor_service.h"
#include "gcs/gcs_table_storage.h"
#include "gcs/health_checker.h"
#include "gcs/job_manager.h"
#include "gcs/kv_store.h"
#include "gcs/log_service.h"
#include "gcs/node_manager.h"
#include "gcs/object_snapshot_store.h"
#include "gcs/package_gc.h"
#include "gcs/placement_group_manager.h"
#include "gcs/placement_group_scheduler.h"
#include "gcs/task_event_store.h"
#include "rpc/channel.h"
#include "rpc/connection_pool.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"

namespace moray::gcs {

struct GcsServerConfig {
  std::string host = "127.0.0.1";  // bind address (an IPv4 address)
  int port = 0;                    // 0: any free port
  size_t max_task_records = 100000;  // task attempts kept for the state API
  HealthCheckOptions health_check;   // how raylets are checked, and when a node is DEAD
  // Where tables live; null: in memory (InMemoryTableStorage).
  std::unique_ptr<GcsTableStorage> storage;
};

class GcsServer {
 public:
  explicit GcsServer(GcsServerConfig config);
  ~GcsServer();  // stops if running
  GcsServer(const GcsServer&) = delete;
  GcsServer& operator=(const GcsServer&) = delete;

  // Binds and starts serving. AlreadyExists/PermissionDenied/InvalidArgument in one sentence
  // when the address cannot be used (common/ports.h), Unavailable for other bind failures.
  absl::Status Start();
  // The bound port; valid after a successful Start.
  int port() const { return port_.load(); }
  // Stops accepting, closes every connection (calls in flight get no reply), stops the loops.
  void Stop();

  // Tests: the actor table, to set up states that only a real worker could reach.
  ActorManager& actors_for_testing() { return actors_; }
  PlacementGroupManager& groups_for_testing() { return groups_; }

 private:
  void OnAccept(std::shared_ptr<rpc::Connection> conn);  // service loop
  // Tells every connected core worker that `node` is DEAD (any thread).
  void PublishNodeDead(const proto::NodeInfo& node);

  GcsServerConfig config_;
  std::unique_ptr<GcsTableStorage> storage_;
  NodeManager nodes_;
  JobManager jobs_;
  KvStore kv_;
  TaskEventStore task_events_;
  ObjectSnapshotStore objects_;
  ActorManager actors_;
  PlacementGroupManager groups_;
  PackageGc package_gc_{&kv_, &jobs_};  // its own thread, between Start and Stop
  std::atomic<int> port_{0};
  bool running_ = false;  // controlling thread

  rpc::EventLoop service_loop_;
  rpc::Service service_{"GCS"};  // methods registered before the port opens
  std::unique_ptr<rpc::Server> server_;  // service loop once started
  std::unordered_set<std::shared_ptr<rpc::Connection>> connections_;  // service loop

  rpc::EventLoop actor_loop_;
  // Used on the actor loop only (built before it runs; the pool is dropped on it when stopping).
  // The GCS's own connections, to raylets and actor workers, one per endpoint, and what their
  // peers send back on them (a worker's creation reply, ACTOR_EXITING).
  rpc::Service pool_service_{"GCS (outgoing)"};
  std::unique_ptr<rpc::ConnectionPool> pool_;
  std::unique_ptr<ActorScheduler> scheduler_;
  std::unique_ptr<ActorService> actor_service_;
  LogService logs_;  // service loop: worker output to subscribed drivers
  std::unique_ptr<PlacementGroupScheduler> groups_scheduler_;
  std::unique_ptr<HealthChecker> health_;
};

}  // namespace moray::gcs
