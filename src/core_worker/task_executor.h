// TaskExecutor: the worker's side of a task. Owners push tasks over their connection; the executor
// queues them (in arrival order per owner) and runs them one at a time on the thread that calls
// RunLoop (the worker's main thread), then sends each reply back on the owner's connection.
//
// Actors (docs/actors.md): the GCS pushes an ACTOR_CREATION_TASK; from then on this worker hosts
// that actor. A non-threaded actor runs its calls on the main thread in arrival order (so each
// caller's calls run in the order it sent them); with max_concurrency > 1 calls run on a pool of
// that many threads, and each named concurrency group has a pool of its own. A call that ends the
// actor (ray::ExitActor) is answered, the GCS is told, and the worker stops.
//
// Capture (task_placement.h): a task, or an actor, started in a placement group with
// capture_child_tasks makes its group the default of what it submits; CapturedStrategy says what
// the code running now (on this thread, else the main thread's task, else the actor) passes on.
//
// GPUs: a push carries the GPU ids of the lease its tasks run under. A normal task runs with
// CUDA_VISIBLE_DEVICES set to them (put back afterwards); an actor's creation sets them for the
// actor's whole life (its calls carry none). GpuIds() says which are the running code's.
//
// Cancel (WORKER_CANCEL_TASK from the task's owner): a task still queued here is dropped and
// answered TASK_CANCELLED; a running normal task gets the language layer's cancel hook (it makes
// the task's code stop, e.g. by raising at its next runtime call), and its failure is reported as
// TASK_CANCELLED; with force, the process exits at once (the owner sees TASK_CANCELLED, not a
// worker death). Running actor calls are not interrupted (as in Ray).
//
// Thread model: OnPushTasks/OnOwnerDisconnected/OnCancelTask run on the I/O loop; RunLoop on the
// main thread; Stop and CurrentTaskId from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"
#include "common/id.h"
#include "core_worker/context.h"
#include "core_worker/visible_devices.h"
#include "rpc/address.h"
#include "worker.pb.h"

namespace moray::core {

// What running a task produced: one value (msgpack, or the language layer's own bytes) per
// return slot, in order — exactly spec.num_returns of them (none for an actor's creation) — or an
// error, which every return slot then holds.
struct TaskResult {
  std::vector<std::string> returns;
  proto::ErrorInfo error;   // type != ERROR_NONE: failed (returns are ignored)
  bool app_error = false;   // user code threw (retried only with retry_exceptions)
  bool exit_actor = false;  // the actor ends after this call (ray::ExitActor)
};

// What the executor needs from the rest of the core worker (implemented by CoreWorker).
class TaskExecutionHost {
 public:
  virtual ~TaskExecutionHost() = default;
  // Fetches argument values from their owners, blocking.
  virtual absl::StatusOr<std::vector<StoredObject>> GetArgs(
      const std::vector<ObjectId>& ids, const std::vector<rpc::Address>& owners) = 0;
  // Before the task runs: hold its by-reference and nested arguments here (registering this
  // process as a borrower where needed), and start collecting refs the task's return holds.
  virtual void AcquireTaskRefs(const proto::TaskSpec& spec) = 0;
  // After the reply is sent.
  virtual void ReleaseTaskRefs(const proto::TaskSpec& spec) = 0;
  // A cancelled task's own submissions still pending in this process are cancelled too
  // (recursive cancel; loop thread).
  virtual void CancelChildren(const TaskId& parent, bool force) = 0;
  // The refs serialized into the return value, each registered for `receiver` with its owner.
  virtual std::vector<proto::NestedRef> TakeReturnRefs(const rpc::Address& receiver) = 0;
  // Refs serialized by a task whose reply carries no value (it failed, or returns nothing):
  // nobody receives them, so their in-transit holds go now (nothing registered with owners).
  virtual void DropReturnRefs() = 0;
};

class TaskExecutor {
 public:
  using ExecuteFn = std::function<TaskResult(
      const proto::TaskSpec& spec, const std::vector<std::shared_ptr<ray::internal::Buffer>>& args)>;

  // Called on the I/O loop thread when the running normal task `task_id` is cancelled (not
  // forced). It must not block; the language layer makes the task's code stop (the C++ API throws
  // TaskCancelledException at the task's next runtime call; Python raises in the task's thread).
  using CancelHook = std::function<void(const TaskId& task_id)>;

  // `on_cancel_running` may be empty: a running task then runs to its end (its error, if it
  // fails, is still reported as TASK_CANCELLED).
  TaskExecutor(CoreContext* context, TaskExecutionHost* host, CancelHook on_cancel_running = {});
  ~TaskExecutor();

  // WORKER_PUSH_TASKS from `peer` (an owner, or the GCS for an actor's creation).
  void OnPushTasks(const rpc::Peer& peer, rpc::Frame&& frame);
  void OnOwnerDisconnected(const std::shared_ptr<rpc::Connection>& owner);
  // WORKER_CANCEL_TASK from `peer` (the task's owner), loop thread.
  void OnCancelTask(const rpc::Peer& peer, const proto::CancelTaskRequest& request);

  // Runs tasks until Stop().
  void RunLoop(const ExecuteFn& execute);
  void Stop();

  // The task running now on this thread (or, from other threads, on the main thread), or empty.
  TaskId CurrentTaskId() const;
  bool InTask() const;
  // The strategy that work submitted now (from this thread) inherits when it has none of its
  // own: the captured placement group of the running task or of the actor; DEFAULT if none.
  proto::SchedulingStrategy CapturedStrategy() const;
  // The actor this worker hosts: whether its current incarnation is a restart.
  bool ActorRestarted() const { return actor_restarted_; }
  // The GPUs of the code running now: the hosted actor's, else the main thread's task's (so
  // threads a task starts see them too); empty outside tasks and for tasks without GPUs.
  std::vector<int> GpuIds() const;

 private:
  struct Queued {
    std::shared_ptr<rpc::Connection> owner;
    proto::TaskSpec spec;
    std::vector<int> gpu_ids;  // of the lease it came under
  };
  // A queue of calls and the threads that run them (the main thread has one without threads).
  struct Pool {
    std::deque<Queued> queue;  // guarded by mutex_
    std::condition_variable cv;  // queue not empty, or stopped
    std::vector<std::thread> threads;
  };
  // Takes the next item of `pool`; false once stopped.
  bool Next(Pool& pool, Queued* item);
  void RunOne(Queued& item, const ExecuteFn& execute);
  void PoolThread(Pool* pool);
  // An actor creation arrived: set up its concurrency (loop thread, before its calls can arrive).
  void SetUpActor(const std::shared_ptr<rpc::Connection>& creator, const proto::TaskSpec& spec,
                  const std::vector<int>& gpu_ids);
  proto::TaskReply Execute(const Queued& item, const ExecuteFn& execute, bool* exit_actor);
  void RecordState(const proto::TaskSpec& spec, proto::TaskState state,
                   const proto::ErrorInfo* error = nullptr);
  // The user code of `task_id` has returned: from now on a cancel finds it not running (so a late
  // one neither marks it nor interrupts whatever the thread runs next). Whether it was cancelled
  // while it ran (and forgets it).
  bool EndRunning(const TaskId& task_id);
  // What `spec`, about to run, passes on to what it submits (its own capture, or for an actor
  // call the actor's). Requires mutex_.
  proto::SchedulingStrategy CaptureOfLocked(const proto::TaskSpec& spec) const;

  CoreContext* const context_;      // not owned; outlives this
  TaskExecutionHost* const host_;   // not owned; outlives this
  const CancelHook on_cancel_running_;
  mutable std::mutex mutex_;
  Pool main_;                    // queue guarded by mutex_
  std::map<std::string, std::unique_ptr<Pool>> actor_pools_;  // threaded actors: by group name
  bool stopped_ = false;         // guarded by mutex_
  TaskId current_task_id_;       // guarded by mutex_: the main thread's task
  bool current_is_normal_ = false;                // guarded by mutex_: that task is a normal task
  std::unordered_set<TaskId> cancelled_running_;  // guarded by mutex_: cancelled while running
  proto::SchedulingStrategy current_capture_;  // guarded by mutex_: the main thread task's
  proto::SchedulingStrategy actor_capture_;    // guarded by mutex_: the hosted actor's
  std::vector<int> current_gpu_ids_;           // guarded by mutex_: the main thread's normal task's
  std::optional<std::vector<int>> actor_gpu_ids_;  // guarded by mutex_: set once hosting an actor
  VisibleDevices devices_;                         // main thread only (RunLoop)
  ExecuteFn execute_;            // set by RunLoop before any pool thread starts
  std::shared_ptr<rpc::Connection> creator_;  // the GCS connection that created the actor
  ActorId actor_id_;
  std::atomic<bool> actor_restarted_{false};
};

}  // namespace moray::core
