// NodeManager: the raylet's local server. Accepts core workers and drivers, the GCS and other
// raylets on one port of the framed channel; its rpc::Service serves proto/raylet.proto (and the
// object manager's proto/transfer.proto), each method to the roles that send it. It registers
// clients, routes lease traffic to the LeaseManager and worker lifecycle to the WorkerPool, and
// reports the node's resources to the GCS (every report_period and report_debounce after any
// change).
//
//   NodeManager manager(&loop, &gcs_thread, options);   // on the loop thread from here on:
//   absl::Status listening = manager.Start();             // binds options.port (0: any free)
//   ... manager.port() ...
//   manager.Shutdown(absl::Seconds(1));                   // closes clients, kills workers
//
// Thread model: everything runs on the event loop thread `loop`, including construction's
// successors Start and Shutdown; no locks. Blocking GCS calls go to `gcs` (GcsThread), whose
// results come back by posting to the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "common/id.h"
#include "metrics/metrics.h"
#include "raylet.pb.h"
#include "raylet/bundle_manager.h"
#include "raylet/cluster_scheduler.h"
#include "raylet/debug_service.h"
#include "raylet/gcs_thread.h"
#include "raylet/lease_manager.h"
#include "raylet/object_manager.h"
#include "raylet/runtime_env_agent.h"
#include "raylet/user_metrics_store.h"
#include "raylet/worker_pool.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"
#include "scheduling/resource_set.h"
#include "store.pb.h"

namespace moray::raylet {

struct NodeManagerOptions {
  proto::NodeInfo node;    // node_id, node_ip, session_dir, ...; raylet_port is filled by Start
  scheduling::ResourceSet total;       // schedulable resources
  std::vector<int> gpu_ids;            // the node's GPUs (as many as total's GPU); empty: 0..n-1
  int port = 0;            // 0: any free port
  int prestart_per_job = 0;
  WorkerPoolOptions pool;  // node fields and raylet_port are filled from `node`
  RuntimeEnvAgentOptions runtime_env;  // the node cache and how packages are fetched
  std::string store_socket;  // the object store's socket, told to registering clients
  int64_t inline_object_memory = 0;  // told to registering clients (RayletOptions)
  // The object store's usage for reports (any thread); null: no store.
  std::function<proto::StoreStats()> store_stats;
  // This node's store contents for RAYLET_LIST_STORE_OBJECTS (debug_service.h; called on the
  // debug thread); null: no store.
  std::function<absl::StatusOr<proto::ListStoreObjectsReply>(int64_t limit)> list_store_objects;
  // Moves objects between nodes (not owned; outlives the node manager); null: no transfers.
  ObjectManager* objects = nullptr;
  absl::Duration report_period = absl::Seconds(1);
  absl::Duration report_debounce = absl::Milliseconds(50);
  // Metrics (docs/observability.md): the raylet's registry, which gets the latencies of its
  // methods, and where its workers' user metrics go (RAYLET_REPORT_METRICS). Both not owned, may
  // be null, outlive the node manager.
  metrics::Registry* metrics = nullptr;
  UserMetricsStore* user_metrics = nullptr;
  // Called when the GCS says this very node is dead (NODE_DIED naming it), with the reason.
  std::function<void(const std::string&)> on_declared_dead;
};

class NodeManager {
 public:
  // `loop` and `gcs` must outlive this object.
  NodeManager(rpc::EventLoop* loop, GcsThread* gcs, NodeManagerOptions options);
  ~NodeManager();

  [[nodiscard]] absl::Status Start();
  int port() const { return port_; }
  const proto::NodeInfo& node_info() const { return options_.node; }
  // host:port of the GCS's actor channel, passed on to core workers at registration.
  // The GCS's view of the cluster (after each resource report), for spillback decisions.
  // Requests waiting here as infeasible get another look: a node that can run them may have
  // joined.
  void UpdateClusterView(const proto::GetClusterStatusReply& view);

  // Stops accepting, closes every client (marking connected drivers' jobs finished), kills the
  // workers (SIGTERM, then SIGKILL after `grace`; blocks up to `grace`).
  void Shutdown(absl::Duration grace);

  proto::NodeResourceReport BuildReport() const;
  const WorkerPool& worker_pool() const { return *pool_; }
  const LeaseManager& leases() const { return *leases_; }

 private:
  enum class Kind { kUnregistered, kDriverPending, kDriver, kWorker };
  struct Client {
    uint64_t id = 0;
    std::shared_ptr<rpc::Connection> conn;
    Kind kind = Kind::kUnregistered;
    WorkerId worker_id;  // workers and drivers
    JobId job_id;
    int pid = 0;
    bool reported_objects = false;  // sent an object snapshot: drop it at the GCS on close
  };

  using RegisterResponder = rpc::Responder<proto::RegisterClientReply>;
  using LeaseResponder = rpc::Responder<proto::RequestWorkerLeaseReply>;

  // The methods of service_ (constructor).
  void RegisterMethods();
  void OnAccept(std::shared_ptr<rpc::Connection> conn);
  void OnClose(uint64_t client_id);
  // The record of the connection a frame came on (its user_data; set while it is open).
  static Client& ClientOf(const rpc::Peer& peer) {
    return *static_cast<Client*>(peer.conn->user_data);
  }

  void HandleRegister(Client& client, proto::RegisterClientRequest request,
                      RegisterResponder respond);
  void RegisterDriver(Client& client, proto::RegisterClientRequest request,
                      RegisterResponder respond);
  // What every accepted registration (worker or driver) is told about this node.
  void FillRegistration(const JobId& job_id, proto::RegisterClientReply* reply) const;
  void OnJobAdded(uint64_t client_id, const RegisterResponder& respond, proto::JobInfo job,
                  absl::StatusOr<JobId> job_id);
  void HandleRequestLease(Client& client, const proto::RequestWorkerLeaseRequest& request,
                          LeaseResponder respond);
  void HandleNodeDied(const proto::NodeInfo& node);
  void MarkJobFinished(const JobId& job_id);
  // The job ended on this node — its driver left (the driver's raylet), or RAYLET_JOB_FINISHED
  // (every other raylet): WorkerPool::RemoveJob. Idempotent; a job unknown here is ignored.
  void EndJob(const JobId& job_id, std::string_view why);

  void MarkDirty();
  void SendReport();
  // The node's total and available resources into a report or a BundlesReply.
  template <typename Message>
  void FillResources(Message* message, bool with_group_scoped = true) const;
  void ArmPeriodicReport();

  rpc::EventLoop* const loop_;  // not owned
  GcsThread* const gcs_;        // not owned
  NodeManagerOptions options_;
  const NodeId node_id_ = NodeId::FromBinary(options_.node.node_id());
  std::unique_ptr<RuntimeEnvAgent> agent_;  // before pool_: the pool uses it until destroyed
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<LeaseManager> leases_;
  std::unique_ptr<BundleManager> bundles_;  // placement groups' bundles on this node
  std::unique_ptr<DebugService> debug_;     // stack dumps and store listings for the CLI
  rpc::Service service_{"raylet"};
  std::unique_ptr<rpc::Server> server_;
  int port_ = 0;
  // Where `request` should go instead of here: a spillback reply (or FailedPrecondition for a
  // placement that cannot be), or nullopt to queue it here.
  std::optional<absl::StatusOr<proto::RequestWorkerLeaseReply>> Spillback(
      const proto::RequestWorkerLeaseRequest& request, bool* wait_for_view = nullptr);
  // Places a parsed request: spillback, a wait for the next cluster view (until give_up), or
  // the local queue.
  void PlaceLease(uint64_t client_id, const LeaseResponder& respond,
                  const proto::RequestWorkerLeaseRequest& request, absl::Time give_up);
  struct AwaitingView {
    uint64_t client_id;
    LeaseResponder respond;
    proto::RequestWorkerLeaseRequest request;
    absl::Time give_up;
  };
  std::vector<AwaitingView> awaiting_view_;  // requests naming a node not in the view yet
  ClusterScheduler scheduler_{node_id_};
  uint64_t next_client_id_ = 1;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Client>> clients_;
  // Jobs EndJob ended here (4 bytes each, kept for the raylet's life): core workers' late
  // requests for them are refused rather than bringing the job back.
  std::set<JobId> ended_jobs_;
  uint64_t debounce_timer_ = 0;
  uint64_t periodic_timer_ = 0;
  bool shut_down_ = false;
  // Cleared on destruction: work posted by the GCS thread may reach the loop after that.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace moray::raylet
