// NormalTaskSubmitter: the owner's side of a normal task. It resolves the task's locally owned
// arguments, leases workers from the raylet per scheduling key (the resource shape), pushes tasks
// straight to leased workers in batches (up to max_in_flight per worker), stores the returns,
// retries tasks whose worker died, and returns leases after an idle period. A scheduling key is
// the function plus its resource shape, strategy (with its placement group and bundle) and the
// node holding most of its arguments' bytes (leases are asked near the data), so pipelining can
// follow each function's task length. A task in a placement group leases with the group-scoped
// resources of its bundle (task_placement.h); its spec keeps the resources as asked.
//
// Connections: the local raylet's is the context's own; leased workers and the raylets that
// spillback names come from the context's pool, which says when one closes. A worker whose
// connection closes with tasks in flight died (they are retried); one that never connected never
// got them (they are queued again, retries untouched). Nothing here waits on the network.
//
// Thread model: Submit may be called from any thread (it posts); everything else runs on the I/O
// loop.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/time/time.h"
#include "common/id.h"
#include "core_worker/context.h"
#include "raylet.pb.h"
#include "worker.pb.h"

namespace moray::core {

struct SubmitterOptions {
  // Pipelining: a worker gets more than one task at a time only for functions whose tasks are
  // known to be short (they run faster than pipeline_below), so a slow task never holds up a
  // queue of others while another worker could run them.
  int max_tasks_in_flight_per_worker = 32;
  absl::Duration pipeline_below = absl::Milliseconds(1);
  int max_pending_lease_requests = 4;  // per scheduling key
  absl::Duration lease_idle_timeout = absl::Milliseconds(200);
  // Whether this process records task events (`moray list tasks`, moray_tasks); the core worker
  // turns its TaskEventBuffer off when false (MORAY_ENABLE_TASK_EVENTS=0, cluster_connect.cc).
  bool task_events = true;
};

class NormalTaskSubmitter {
 public:
  NormalTaskSubmitter(CoreContext* context, SubmitterOptions options);
  ~NormalTaskSubmitter();

  // Takes a task whose return ids are already tracked by the reference counter.
  void Submit(proto::TaskSpec spec);
  // Fails everything pending (the raylet is gone or the process is shutting down).
  void FailAll(const std::string& reason);  // loop thread
  // Lineage (any thread): a finished task with a return in a node's object store is kept, with
  // its arguments held, while its returns are owned here. Resubmit re-runs the task that made
  // `object_id` (a new attempt with the same return ids) when its only copy was lost with a
  // node; false if there is no lineage for it (a put, or freed). DropLineage when the object is
  // freed.
  bool Resubmit(const ObjectId& object_id);
  bool HasLineage(const ObjectId& object_id) {
    std::lock_guard<std::mutex> lock(lineage_mutex_);
    return lineage_.contains(object_id);
  }
  void DropLineage(const ObjectId& object_id);

  // Cancel (loop thread; Ray's semantics). A task not pushed yet leaves its queue and its returns
  // hold TASK_CANCELLED; one pushed to a worker is sent WORKER_CANCEL_TASK there (dropped if
  // queued, interrupted if running, its worker killed with `force`), and its returns hold
  // TASK_CANCELLED unless it finished meanwhile. A cancelled task is never retried. False if
  // `task_id` is not pending here (finished, or not a normal task of this process).
  bool Cancel(const TaskId& task_id, bool force, bool recursive);
  // Cancels every task pending here that `parent` submitted (loop thread).
  void CancelChildren(const TaskId& parent, bool force);

  // The last state recorded for a task still pending here; nullopt once it is done or before
  // the loop took it (loop thread; for object snapshots).
  std::optional<proto::TaskState> StateOf(const TaskId& task_id) const;

  // WORKER_TASK_REPLIES that came on `peer.conn` (loop thread): handled, and true, when that is
  // the connection of a worker leased here; false (frame untouched) otherwise.
  bool OnTaskReplies(const rpc::Peer& peer, rpc::Frame& frame);

 private:
  struct PendingTask {
    proto::TaskSpec spec;
    int retries_left = 0;  // -1: infinite
    std::string key;
    proto::ErrorInfo dependency_error;  // set when an argument holds an error
    proto::TaskState state = proto::TASK_STATE_NIL;  // the last one recorded
    bool cancelled = false;  // Cancel was called: never retried, fails TASK_CANCELLED
  };
  struct LeasedWorker {
    std::shared_ptr<rpc::Connection> conn;    // pooled
    rpc::Endpoint endpoint;                   // where the worker listens
    uint64_t close_id = 0;                    // the pool's OnClose registration
    std::shared_ptr<rpc::Connection> raylet;  // the raylet that granted the lease
    int64_t lease_id = 0;
    WorkerId worker_id;
    int pid = 0;
    std::vector<int> gpu_ids;  // the lease's GPUs, sent with every batch
    std::string key;
    std::unordered_set<TaskId> in_flight;
    uint64_t idle_timer = 0;
    bool used = false;  // SPREAD: a lease runs one task, then goes back
  };
  struct KeyQueue {
    std::map<std::string, double> resources;  // what each lease asks (LeaseResources)
    proto::SchedulingStrategy strategy;
    NodeId preferred_node;          // holds the most argument bytes of this key's tasks; may be nil
    proto::RuntimeEnvInfo runtime_env;  // of this key's tasks (in the key); may be empty
    proto::Language language = proto::CPP;  // of this key's tasks (in the key)
    double mean_execution_ns = -1;  // moving average; < 0 until a task of this key finished
    std::deque<TaskId> ready;       // tasks with arguments resolved
    std::unordered_map<int64_t, std::shared_ptr<rpc::Connection>> pending_leases;  // -> raylet
    std::vector<std::shared_ptr<LeasedWorker>> workers;
  };

  void SubmitOnLoop(proto::TaskSpec spec);
  void ResolveDependencies(const TaskId& task_id);
  void OnDependenciesResolved(const TaskId& task_id);
  void Dispatch(const std::string& key);
  // Asks `raylet` (default: the local one) for a lease; `job` goes along to a raylet that
  // spillback pointed at (it may not know the job yet). A `spilled` request is granted or queued
  // where it is sent; an unspilled one may be placed elsewhere by that raylet.
  void RequestLease(const std::string& key, std::shared_ptr<rpc::Connection> raylet = nullptr,
                    const proto::JobInfo* job = nullptr, bool spilled = false);
  void OnLeaseReply(const std::string& key, int64_t lease_id,
                    const std::shared_ptr<rpc::Connection>& raylet, absl::Status status,
                    rpc::Frame&& frame);
  // The node whose object store holds the most bytes of `spec`'s arguments; nil if none.
  NodeId LargestArgumentsNode(const proto::TaskSpec& spec) const;
  void HandleTaskReplies(const std::shared_ptr<LeasedWorker>& worker,
                         const proto::TaskRepliesRequest& replies);
  void OnWorkerDisconnected(const std::shared_ptr<LeasedWorker>& worker, const absl::Status& why);
  // Stops listening to the worker's connection (it stays in the pool for others).
  void Detach(LeasedWorker& worker);
  void ReturnLease(const std::shared_ptr<LeasedWorker>& worker, bool disconnect);
  // Tells the worker's raylet that its lease is over and the worker must not be reused.
  void DiscardLease(const LeasedWorker& worker);
  void MaybeScheduleIdleReturn(const std::shared_ptr<LeasedWorker>& worker);
  // Completes a cancelled task with TASK_CANCELLED in each return slot.
  void CompleteCancelled(const TaskId& task_id);
  // Finishes a task: stores its returns (or `error` in each return slot) and forgets it.
  void Complete(const TaskId& task_id, const proto::TaskReply* reply,
                const proto::ErrorInfo* error);
  void RecordState(PendingTask& task, proto::TaskState state, bool descriptive = false,
                   const proto::ErrorInfo* error = nullptr);
  static std::string KeyOf(const proto::TaskSpec& spec, const NodeId& preferred_node);
  int InFlightLimit(const KeyQueue& queue) const;

  std::mutex lineage_mutex_;
  // By return object id; the returns of one task share its spec, whose deleter releases the
  // arguments it holds. Guarded; never destroy an entry under the lock (the release may call
  // back into DropLineage).
  std::unordered_map<ObjectId, std::shared_ptr<proto::TaskSpec>> lineage_;
  // False once this submitter is being destroyed: lineage deleters then release nothing.
  std::shared_ptr<std::atomic<bool>> releasing_args_ = std::make_shared<std::atomic<bool>>(true);
  CoreContext* const context_;  // not owned; outlives this
  const SubmitterOptions options_;
  int64_t next_lease_id_ = 1;
  std::string raylet_lost_;  // loop thread; non-empty once the raylet is gone: why tasks fail
  std::unordered_map<TaskId, PendingTask> tasks_;       // loop thread
  std::unordered_map<std::string, KeyQueue> queues_;    // loop thread
  // Loop thread: the worker leased here on each connection, for its replies.
  std::unordered_map<rpc::Connection*, std::weak_ptr<LeasedWorker>> by_conn_;
};

}  // namespace moray::core
