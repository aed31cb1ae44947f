// CoreWorker: the runtime library inside every driver and worker process. It owns the objects its
// process creates, submits tasks straight to leased workers, fetches borrowed objects from their
// owners, and — in a worker — executes tasks pushed to it.
//
//   auto worker = CoreWorker::Create(options);      // connects to the raylet, registers
//   std::string id = (*worker)->Put(bytes);
//   auto objects = (*worker)->Get({id}, absl::Seconds(1));
//
// Thread model: public methods are thread-safe and may block the calling thread (Get, Wait);
// network I/O runs on one internal event-loop thread. RunTaskLoop occupies the calling thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "core_worker/actor_task_submitter.h"
#include "core_worker/context.h"
#include "core_worker/normal_task_submitter.h"
#include "core_worker/task_executor.h"
#include "core_worker/worker_log_printer.h"
#include "gcs.pb.h"
#include "worker.pb.h"

namespace moray::core {

struct CoreWorkerOptions {
  bool is_driver = true;
  std::string raylet_host = "127.0.0.1";
  int raylet_port = 0;
  std::string node_ip = "127.0.0.1";  // where this core worker listens
  WorkerId worker_id;                 // nil: a fresh random id
  JobId job_id;  // workers: the job they serve (drivers get one at registration)
  proto::JobInfo job;                 // drivers: the job to register
  // Drivers: print the job's worker output (worker_log_printer.h) on this process's stdout and
  // stderr; false: nothing is subscribed (Ray's log_to_driver).
  bool log_to_driver = true;
  SubmitterOptions submitter;
  absl::Duration event_flush_interval = absl::Milliseconds(100);
  // Object snapshots for `moray list objects` (object_snapshot.h): checked this often, sent when
  // changed, at most this many objects each.
  absl::Duration object_report_interval = absl::Seconds(1);
  size_t max_reported_objects = 10000;
  absl::Duration connect_timeout = absl::Seconds(10);
  // Workers: called on the I/O loop thread when the owner cancels the normal task running here
  // (not forced; TaskExecutor::CancelHook). Must not block: it asks the language layer to stop the
  // task (Python raises in the task's thread; the C++ API throws TaskCancelledException at the
  // task's next runtime call). Empty: a running task is not interrupted.
  TaskExecutor::CancelHook on_cancel_running;
};

class CoreWorker : public TaskExecutionHost {
 public:
  // Connects to the raylet and registers (drivers: registers the job too).
  static absl::StatusOr<std::unique_ptr<CoreWorker>> Create(CoreWorkerOptions options);
  ~CoreWorker();  // Shutdown()

  // Flushes task events, tells the raylet this was an intended exit, stops the I/O thread.
  void Shutdown();

  // Small values stay in this process; larger ones go to the node's object store (one copy).
  // ResourceExhausted when the object store is full of pinned data.
  absl::StatusOr<ObjectId> Put(std::string data);
  // As Put, for `size` bytes that `write` produces directly in the object's memory.
  absl::StatusOr<ObjectId> PutWith(size_t size, const std::function<void(char*)>& write);
  // DeadlineExceeded if not all ready within `timeout` (InfiniteDuration: no limit).
  absl::StatusOr<std::vector<StoredObject>> Get(const std::vector<ObjectId>& ids,
                                                absl::Duration timeout);
  std::vector<bool> Wait(const std::vector<ObjectId>& ids, int num_objects, absl::Duration timeout);

  // Fills in the ids, owner and lineage of `spec`, submits it, and returns its return object ids:
  // spec.num_returns of them (ObjectIdForReturn(task, 1..n), in order; none for 0 — the task
  // runs and returns nothing). Each is owned here and rebuilt from lineage if lost; a failure
  // puts the same error in every one. InvalidArgument for a negative num_returns.
  absl::StatusOr<std::vector<ObjectId>> SubmitTask(proto::TaskSpec spec);

  // Actors (docs/actors.md). CreateActor fills in the creation task `spec` (type, ids, owner) and
  // `info` (owner, job), registers the actor with the GCS and returns its id: this process owns
  // it (the id is counted like an object's; when nothing reaches it, a non-detached actor is
  // killed). With get_if_exists, a live actor of the same name may be returned instead.
  // AlreadyExists for a taken name.
  absl::StatusOr<ActorId> CreateActor(proto::TaskSpec spec, proto::ActorInfo info,
                                      bool get_if_exists);
  // Submits a method call (an ACTOR_TASK spec with function_name, args, actor_id, num_returns);
  // returns its return object ids as SubmitTask does.
  absl::StatusOr<std::vector<ObjectId>> SubmitActorTask(proto::TaskSpec spec);
  // Cancels the task that returns `return_id` (any of its returns), which this process submitted
  // (Ray's ray.cancel; docs/architecture.md, "Cancel"). A task not pushed to a worker yet never
  // runs; one queued on its worker is dropped there; a running normal task is interrupted through
  // the worker's on_cancel_running hook, or with `force` its worker process is killed. Its
  // returns then hold TASK_CANCELLED, and it is never retried. `recursive`: the tasks it
  // submitted that are still pending are cancelled too. A finished (or unknown) task: OK, nothing
  // happens. Actor calls: only a call still queued (here or at the actor) is cancelled; `force`
  // is InvalidArgument for them. InvalidArgument for an id that is no task return owned here.
  absl::Status CancelTask(const ObjectId& return_id, bool force, bool recursive = true);
  // As above, by the task's id (a task with num_returns = 0 has no return to name). A task that
  // is not pending here (finished, unknown, or submitted by another process): OK, nothing.
  absl::Status CancelTask(const TaskId& task_id, bool force, bool recursive = true);
  void KillActor(const ActorId& actor_id, bool no_restart);
  // The live actor called `name` in `ray_namespace`, if any.
  absl::StatusOr<std::optional<proto::ActorInfo>> GetNamedActor(const std::string& name,
                                                                const std::string& ray_namespace);
  // Inside an actor: whether this incarnation is a restart.
  bool ActorRestarted() const { return executor_ && executor_->ActorRestarted(); }
  // The GPU ids of the task or actor running here (TaskExecutor::GpuIds); empty in a driver.
  std::vector<int> GpuIds() const { return executor_ ? executor_->GpuIds() : std::vector<int>{}; }

  void AddLocalReference(const ObjectId& id);
  void RemoveLocalReference(const ObjectId& id);
  // "ip:port:worker" of the object's owner. Called while a ref is serialized into a value: the
  // ref is remembered (per thread) so the message carrying the value can list it.
  std::string OwnerAddressOf(const ObjectId& id);
  void RegisterBorrowedReference(const ObjectId& id, const std::string& owner_address);
  // {owned, borrowed, values in the memory store}.
  std::vector<size_t> LocalObjectCounts() const;
  const object_store::StoreClient* plasma() const { return plasma_.get(); }

  // Worker mode: executes pushed tasks on the calling thread until the raylet goes away.
  void RunTaskLoop(const TaskExecutor::ExecuteFn& execute);

  // The task running on this thread (a worker's; else the main thread's task), or in a driver
  // its driver task id.
  TaskId CurrentTaskId() const;

  const CoreContext& context() const { return context_; }
  const std::string& gcs_address() const { return gcs_address_; }
  const std::string& session_dir() const { return session_dir_; }

 private:
  explicit CoreWorker(CoreWorkerOptions options);
  absl::Status Connect();
  // The methods of service_ (worker.proto), each with the roles that call it.
  void RegisterMethods();
  void ServeGetObject(const proto::GetObjectRequest& request,
                      rpc::Responder<proto::GetObjectReply> respond);
  // Starts fetching borrowed objects that are not local yet (loop thread).
  // `lost_on_node`: the copy this process was told of could not be read from that node; the
  // owner rebuilds it if it can.
  void FetchFromOwner(const ObjectId& id, const rpc::Address& owner,
                      const NodeId& lost_on_node = NodeId());
  void StartFetches(const std::vector<ObjectId>& ids, const std::vector<rpc::Address>* owners);
  void FlushEvents();
  // Sends a batch of task events to the GCS, or through the raylet when the GCS cannot be
  // reached (loop thread).
  void SendEvents(const proto::ReportTaskEventsRequest& batch);
  // Sends this process's object snapshot to the raylet if it changed (loop thread, on a timer).
  void ReportObjects();

  // TaskExecutionHost.
  absl::StatusOr<std::vector<StoredObject>> GetArgs(
      const std::vector<ObjectId>& ids, const std::vector<rpc::Address>& owners) override;
  void AcquireTaskRefs(const proto::TaskSpec& spec) override;
  void ReleaseTaskRefs(const proto::TaskSpec& spec) override;
  std::vector<proto::NestedRef> TakeReturnRefs(const rpc::Address& receiver) override;
  void CancelChildren(const TaskId& parent, bool force) override;

  // Borrower registrations at owners (framed channel). The synchronous form blocks the calling
  // (non-loop) thread until the owner answers; false if the owner no longer has the object or
  // cannot be reached.
  bool RegisterBorrowerSync(const ObjectId& id, const rpc::Address& owner,
                            const rpc::Address& borrower);
  void RegisterBorrowerAsync(const ObjectId& id, const rpc::Address& owner,
                             const rpc::Address& borrower, std::function<void(bool)> done);
  // Registers `receiver` for each ref before a value holding them is sent to it.
  void RegisterReceiver(const std::vector<proto::NestedRef>& refs, const rpc::Address& receiver);
  // ADD_BORROWER / REMOVE_BORROWER from `conn`: false if the object is not owned here any more.
  bool OnBorrowerMessage(const std::shared_ptr<rpc::Connection>& conn,
                         const proto::BorrowerRequest& request, bool add);
  void OnBorrowedReleased(const ObjectId& id, const rpc::Address& owner, int64_t held);
  // The pooled connection to `owner` (loop thread); nullptr while the pool backs off from it
  // after a failed connect (then it has probably died).
  std::shared_ptr<rpc::Connection> OwnerConnection(const rpc::Address& owner);
  void RecordDriverTask(proto::TaskState state);
  void SetBlocked(bool blocked);
  // Prepares the arguments of a spec to submit: large values are put, references get their owner
  // and are held until the task is done, refs serialized into values become nested refs.
  void PrepareArgs(proto::TaskSpec* spec);
  // InvalidArgument unless 0 <= spec.num_returns.
  static absl::Status CheckNumReturns(const proto::TaskSpec& spec);
  // Registers the return ids of `spec` (filled in) as owned here; returns them in order.
  std::vector<ObjectId> OwnReturns(const proto::TaskSpec& spec);
  // Fills in the ids, job, parent and owner of a spec to submit.
  void FillTaskIdentity(proto::TaskSpec* spec);
  // A new owned put id, with the refs serialized into its value (this thread) as nested refs.
  ObjectId NewPutId();
  absl::StatusOr<ObjectId> PutImpl(size_t size, std::string* data,
                                   const std::function<void(char*)>* write);
  // Replaces object-store markers in `objects` with views into shared memory, pulling objects
  // sealed on other nodes first. An owned object whose only copy was lost with its node is
  // rebuilt from lineage: its task runs again, `*rebuilding` is set and the caller waits again.
  absl::Status ResolvePlasma(const std::vector<ObjectId>& ids, std::vector<StoredObject>* objects,
                             absl::Time deadline, bool* rebuilding = nullptr);
  static constexpr int kMaxReconstructionRounds = 4;
  // The owner freed `id`: drop it, and log an error nobody ever retrieved (it would vanish silently).
  void OnObjectFreed(const ObjectId& id);

  CoreWorkerOptions options_;
  rpc::EventLoop loop_;
  MemoryStore store_;
  TaskEventBuffer events_;
  ReferenceCounter references_;
  CoreContext context_;
  rpc::Service service_{"core worker"};
  std::unique_ptr<rpc::ConnectionPool> pool_;  // on loop_; frames back go to service_
  std::unique_ptr<rpc::Server> server_;
  std::unique_ptr<object_store::StoreClient> plasma_;
  std::unique_ptr<NormalTaskSubmitter> submitter_;
  std::unique_ptr<ActorTaskSubmitter> actor_submitter_;
  std::unique_ptr<WorkerLogPrinter> log_printer_;  // drivers with log_to_driver; loop thread
  std::unique_ptr<TaskExecutor> executor_;
  std::string gcs_address_;
  std::string session_dir_;
  TaskId driver_task_id_;
  std::atomic<uint32_t> put_index_{0};
  std::atomic<bool> shut_down_{false};
  uint64_t flush_timer_ = 0;  // loop thread
  uint64_t objects_timer_ = 0;       // loop thread
  std::string last_objects_report_;  // loop thread: the last snapshot sent, serialized

  std::mutex observed_mutex_;
  std::unordered_set<ObjectId> observed_errors_;  // guarded by observed_mutex_
  std::unordered_set<ActorId> owned_actors_;      // guarded by observed_mutex_

  // Loop thread only: fetches in flight.
  std::unordered_set<ObjectId> fetch_started_;
  // Incoming connections of processes that registered themselves as borrowers here.
  std::unordered_map<rpc::Connection*, rpc::Address> borrower_conns_;
};

}  // namespace moray::core
