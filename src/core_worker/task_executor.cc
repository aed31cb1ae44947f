#include "core_worker/task_executor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "core_worker/task_common.h"
#include "core_worker/task_placement.h"
#include "spdlog/spdlog.h"

namespace moray::core {

namespace {
// How long a return waits for another writer's unsealed copy of its id before failing.
constexpr absl::Duration kUnsealedCopyWait = absl::Seconds(60);
thread_local TaskId tl_current_task;  // the task running on this thread
// What the task running on this thread passes on (CapturedStrategy); DEFAULT when none.
thread_local proto::SchedulingStrategy tl_capture;

}  // namespace

TaskExecutor::TaskExecutor(CoreContext* context, TaskExecutionHost* host,
                           CancelHook on_cancel_running)
    : context_(context), host_(host), on_cancel_running_(std::move(on_cancel_running)) {}

TaskExecutor::~TaskExecutor() {
  Stop();
  for (auto& [name, pool] : actor_pools_) {
    for (auto& thread : pool->threads) {
      if (thread.joinable()) thread.join();
    }
  }
}

void TaskExecutor::OnPushTasks(const rpc::Peer& peer, rpc::Frame&& frame) {
  const std::shared_ptr<rpc::Connection>& owner = peer.conn;
  proto::PushTasksRequest push;
  if (absl::Status parsed = frame.ParseBody(&push); !parsed.ok()) {
    context_->service->Malformed(peer, frame, parsed);
    return;
  }
  const std::vector<int> gpu_ids(push.gpu_ids().begin(), push.gpu_ids().end());
  for (auto& spec : *push.mutable_tasks()) {
    if (spec.type() == proto::ACTOR_CREATION_TASK) SetUpActor(owner, spec, gpu_ids);
  }
  std::vector<Pool*> woken;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& spec : *push.mutable_tasks()) {
      Pool* pool = &main_;
      if (spec.type() == proto::ACTOR_TASK && !actor_pools_.empty()) {
        auto it = actor_pools_.find(spec.concurrency_group());
        pool = it != actor_pools_.end() ? it->second.get() : actor_pools_.at("").get();
      }
      pool->queue.push_back({owner, std::move(spec), gpu_ids});
      woken.push_back(pool);  // one wake-up per item: no thundering herd on a threaded actor
    }
  }
  for (Pool* pool : woken) pool->cv.notify_one();
}

void TaskExecutor::SetUpActor(const std::shared_ptr<rpc::Connection>& creator,
                              const proto::TaskSpec& spec, const std::vector<int>& gpu_ids) {
  creator_ = creator;
  actor_id_ = ActorId::FromBinary(spec.actor_id());
  actor_restarted_ = spec.actor_creation().num_restarts() > 0;
  std::lock_guard<std::mutex> lock(mutex_);
  actor_capture_ = moray::core::CapturedStrategy(spec.scheduling_strategy());
  actor_gpu_ids_ = gpu_ids;
  const auto& creation = spec.actor_creation();
  if (creation.max_concurrency() <= 1 && creation.concurrency_groups().empty()) return;
  // Threaded: the default group runs max_concurrency calls at once; each named group its own.
  actor_pools_[""] = std::make_unique<Pool>();
  for (const auto& [name, limit] : creation.concurrency_groups()) {
    actor_pools_[name] = std::make_unique<Pool>();
  }
}

void TaskExecutor::OnOwnerDisconnected(const std::shared_ptr<rpc::Connection>& owner) {
  // The owner is gone: nobody wants the results of its queued tasks.
  std::lock_guard<std::mutex> lock(mutex_);
  auto drop = [&](std::deque<Queued>& queue) {
    std::deque<Queued> kept;
    for (auto& item : queue) {
      if (item.owner != owner) kept.push_back(std::move(item));
    }
    queue.swap(kept);
  };
  drop(main_.queue);
  for (auto& [name, pool] : actor_pools_) drop(pool->queue);
}

void TaskExecutor::OnCancelTask(const rpc::Peer& peer, const proto::CancelTaskRequest& request) {
  const TaskId task_id = TaskId::FromBinary(request.task_id());
  std::optional<Queued> dropped;
  bool running = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto drop = [&](std::deque<Queued>& queue) {
      for (auto it = queue.begin(); it != queue.end(); ++it) {
        if (it->owner == peer.conn && TaskId::FromBinary(it->spec.task_id()) == task_id) {
          dropped = std::move(*it);
          queue.erase(it);
          return;
        }
      }
    };
    drop(main_.queue);
    for (auto& [name, pool] : actor_pools_) {
      if (!dropped) drop(pool->queue);
    }
    if (!dropped && current_task_id_ == task_id && current_is_normal_) {
      running = true;
      if (!request.force()) cancelled_running_.insert(task_id);
    }
  }
  if (request.recursive() && (dropped || running)) host_->CancelChildren(task_id, request.force());
  if (dropped) {
    // Never started: answered at once, as the owner expects of every task it pushed.
    proto::ErrorInfo error = TaskCancelledError(dropped->spec);
    RecordState(dropped->spec, proto::FAILED, &error);
    proto::TaskRepliesRequest replies;
    auto* reply = replies.add_replies();
    reply->set_task_id(dropped->spec.task_id());
    reply->set_attempt_number(dropped->spec.attempt_number());
    *reply->mutable_error() = std::move(error);
    dropped->owner->Send(proto::WORKER_TASK_REPLIES, replies);
    return;
  }
  if (!running) return;  // finished, or an actor call already running: nothing to stop
  if (request.force()) {
    // The owner stores TASK_CANCELLED when it sees this process's connection close.
    spdlog::warn("task {} was force-cancelled by its owner: this worker exits", task_id.Hex());
    std::fflush(nullptr);
    std::_Exit(1);
  }
  spdlog::info("task {} was cancelled by its owner while it ran", task_id.Hex());
  if (on_cancel_running_) on_cancel_running_(task_id);
}

bool TaskExecutor::EndRunning(const TaskId& task_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (current_task_id_ == task_id) {
    // Only the main thread's task is current_task_id_; its own CurrentTaskId() still answers
    // from tl_current_task until its reply is sent.
    current_task_id_ = TaskId();
    current_is_normal_ = false;
  }
  return cancelled_running_.erase(task_id) > 0;
}

bool TaskExecutor::Next(Pool& pool, Queued* item) {
  std::unique_lock<std::mutex> lock(mutex_);
  pool.cv.wait(lock, [&] { return stopped_ || !pool.queue.empty(); });
  if (stopped_) return false;
  *item = std::move(pool.queue.front());
  pool.queue.pop_front();
  if (&pool == &main_) {
    current_task_id_ = TaskId::FromBinary(item->spec.task_id());
    current_capture_ = CaptureOfLocked(item->spec);
    current_is_normal_ = item->spec.type() == proto::NORMAL_TASK;
    if (item->spec.type() == proto::NORMAL_TASK) current_gpu_ids_ = item->gpu_ids;
  }
  return true;
}

void TaskExecutor::RunLoop(const ExecuteFn& execute) {
  execute_ = execute;
  Queued item;
  while (Next(main_, &item)) {
    // A normal task sees its lease's GPUs while it runs; an actor keeps its own for life (set
    // before its factory runs and before any of its pool threads start).
    const bool normal_with_gpus = item.spec.type() == proto::NORMAL_TASK && !item.gpu_ids.empty();
    if (normal_with_gpus ||
        (item.spec.type() == proto::ACTOR_CREATION_TASK && !item.gpu_ids.empty())) {
      devices_.Set(item.gpu_ids);
    }
    RunOne(item, execute);
    if (normal_with_gpus) devices_.Restore();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_task_id_ = TaskId();
      current_is_normal_ = false;
      current_capture_.Clear();
      current_gpu_ids_.clear();
    }
    if (item.spec.type() == proto::ACTOR_CREATION_TASK) {
      // The actor exists now: start the threads of a threaded actor's pools.
      std::lock_guard<std::mutex> lock(mutex_);
      const auto& groups = item.spec.actor_creation().concurrency_groups();
      for (auto& [name, pool] : actor_pools_) {
        int threads = name.empty() ? std::max(1, item.spec.actor_creation().max_concurrency())
                                   : std::max(1, groups.at(name));
        for (int i = 0; i < threads; ++i) {
          pool->threads.emplace_back([this, p = pool.get()] { PoolThread(p); });
        }
      }
    }
  }
}

void TaskExecutor::PoolThread(Pool* pool) {
  Queued item;
  while (Next(*pool, &item)) RunOne(item, execute_);
}

void TaskExecutor::RunOne(Queued& item, const ExecuteFn& execute) {
  tl_current_task = TaskId::FromBinary(item.spec.task_id());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tl_capture = CaptureOfLocked(item.spec);
  }
  host_->AcquireTaskRefs(item.spec);
  bool exit_actor = false;
  proto::TaskReply reply = Execute(item, execute, &exit_actor);
  tl_current_task = TaskId();
  tl_capture.Clear();
  proto::TaskRepliesRequest replies;
  *replies.add_replies() = std::move(reply);
  item.owner->Send(proto::WORKER_TASK_REPLIES, replies);
  host_->ReleaseTaskRefs(item.spec);
  if (exit_actor) {
    // ray::ExitActor: the caller has its answer; tell the GCS why the actor ends, then stop.
    if (creator_ && item.owner != creator_) {
      proto::ActorExitingRequest exiting;
      exiting.set_actor_id(actor_id_.Binary());
      const std::string& why = replies.replies(0).error().message();
      exiting.set_reason(why.empty() ? std::string("The actor exited (ray::ExitActor).") : why);
      creator_->Send(proto::WORKER_ACTOR_EXITING, exiting);
    }
    spdlog::info("the actor exits (ray::ExitActor)");
    Stop();
  }
}

proto::TaskReply TaskExecutor::Execute(const Queued& item, const ExecuteFn& execute,
                                       bool* exit_actor) {
  const proto::TaskSpec& spec = item.spec;
  RecordState(spec, proto::RUNNING);
  proto::TaskReply reply;
  reply.set_task_id(spec.task_id());
  reply.set_attempt_number(spec.attempt_number());

  // Arguments: inline values as they are; references fetched from their owners.
  std::vector<std::shared_ptr<ray::internal::Buffer>> args(spec.args_size());
  std::vector<ObjectId> ref_ids;
  std::vector<rpc::Address> ref_owners;
  std::vector<int> ref_slots;
  for (int i = 0; i < spec.args_size(); ++i) {
    const auto& arg = spec.args(i);
    if (arg.is_ref()) {
      ref_ids.push_back(ObjectId::FromBinary(arg.object_id()));
      ref_owners.push_back(rpc::Address::FromProto(arg.owner()));
      ref_slots.push_back(i);
    } else {
      args[i] = std::make_shared<ray::internal::StringBuffer>(arg.value());
    }
  }
  TaskResult result;
  if (!ref_ids.empty()) {
    auto fetched = host_->GetArgs(ref_ids, ref_owners);
    if (!fetched.ok()) {
      result.error.set_type(proto::OBJECT_UNRECONSTRUCTABLE);
      result.error.set_message(std::string(fetched.status().message()));
    } else {
      for (size_t k = 0; k < fetched->size(); ++k) {
        const StoredObject& object = (*fetched)[k];
        if (object.is_error()) {
          // An upstream failure: this task does not run; its output carries that error.
          result.error = object.error;
          break;
        }
        args[ref_slots[k]] = object.data;
      }
    }
  }
  auto started = std::chrono::steady_clock::now();
  if (result.error.type() == proto::ERROR_NONE) result = execute(spec, args);
  *exit_actor = result.exit_actor;
  reply.set_execution_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count());
  const TaskId task_id = TaskId::FromBinary(spec.task_id());
  if (EndRunning(task_id) && (result.error.type() != proto::ERROR_NONE)) {
    // Whatever the cancelled code failed with (the exception the cancel hook made it raise),
    // its owner sees that it was cancelled.
    result.error = TaskCancelledError(spec);
    result.app_error = false;
  }
  const int num_returns =
      spec.type() == proto::ACTOR_CREATION_TASK ? 0 : std::max(spec.num_returns(), 0);
  if (result.error.type() == proto::ERROR_NONE && num_returns > 0 &&
      static_cast<int>(result.returns.size()) != num_returns) {
    result.error.set_type(proto::TASK_EXECUTION_EXCEPTION);
    result.error.set_message(absl::StrCat("Task ", spec.name(), " returned ", result.returns.size(),
                                          " values, but num_returns is ", num_returns, "."));
  }
  if (result.error.type() != proto::ERROR_NONE) {
    // Every return slot holds the error (the owner puts it in each).
    *reply.mutable_error() = result.error;
    reply.set_retryable_app_error(result.app_error);
    host_->DropReturnRefs();
    RecordState(spec, proto::FAILED, &result.error);
    return reply;
  }
  const proto::ErrorInfo* failed = nullptr;
  for (int i = 0; i < num_returns; ++i) {
    std::string& data = result.returns[i];
    auto* ret = reply.add_returns();
    const ObjectId return_id = ObjectIdForReturn(task_id, static_cast<uint32_t>(i + 1));
    ret->set_object_id(return_id.Binary());
    if (context_->plasma && data.size() > kInlineLimit) {
      // A large return is sealed here, in this node's object store, on the owner's behalf.
      auto stored = StoreReturnValue(*context_->plasma, return_id, data, spec, spec.owner(),
                                     kUnsealedCopyWait);
      if (!stored.ok()) {
        *ret->mutable_error() = ReturnStoreError(spec, data.size(), stored.status());
        failed = &ret->error();
        continue;
      }
      ret->set_in_plasma(true);
      ret->set_size(*stored);
      ret->set_node_id(context_->node_id.Binary());
    } else {
      ret->set_data(std::move(data));
    }
  }
  // The refs serialized into the values, registered once for the owner: they ride on the first
  // return, and the owner keeps them while any return lives (StoreTaskReturns). Without a return
  // nobody would hold them: registering the owner as their borrower would leak them there.
  if (reply.returns_size() > 0) {
    auto refs = host_->TakeReturnRefs(rpc::Address::FromProto(spec.owner()));
    for (auto& ref : refs) *reply.mutable_returns(0)->add_nested_refs() = std::move(ref);
  } else {
    host_->DropReturnRefs();
  }
  RecordState(spec, failed ? proto::FAILED : proto::FINISHED, failed);
  return reply;
}

void TaskExecutor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    main_.cv.notify_all();
    for (auto& [name, pool] : actor_pools_) pool->cv.notify_all();
  }
}

TaskId TaskExecutor::CurrentTaskId() const {
  if (!tl_current_task.IsNil()) return tl_current_task;
  std::lock_guard<std::mutex> lock(mutex_);
  return current_task_id_;
}

std::vector<int> TaskExecutor::GpuIds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return actor_gpu_ids_ ? *actor_gpu_ids_ : current_gpu_ids_;
}

bool TaskExecutor::InTask() const { return !CurrentTaskId().IsNil(); }

proto::SchedulingStrategy TaskExecutor::CaptureOfLocked(const proto::TaskSpec& spec) const {
  return spec.type() == proto::ACTOR_TASK
             ? actor_capture_
             : moray::core::CapturedStrategy(spec.scheduling_strategy());
}

proto::SchedulingStrategy TaskExecutor::CapturedStrategy() const {
  if (!tl_current_task.IsNil()) return tl_capture;
  std::lock_guard<std::mutex> lock(mutex_);
  return current_task_id_.IsNil() ? actor_capture_ : current_capture_;
}

void TaskExecutor::RecordState(const proto::TaskSpec& spec, proto::TaskState state,
                               const proto::ErrorInfo* error) {
  const TaskId task_id = TaskId::FromBinary(spec.task_id());
  context_->events->Record(task_id, spec.attempt_number(), [&](proto::TaskEvent& event) {
    event.set_job_id(spec.job_id());
    event.set_state(state);
    event.set_timestamp_ns(NowNs());
    event.set_node_id(context_->node_id.Binary());
    event.set_worker_id(context_->worker_id.Binary());
    event.set_worker_pid(context_->pid);
    if (error) {
      event.set_error_type(proto::ErrorType_Name(error->type()));
      event.set_error_message(error->message());
    }
  });
}

}  // namespace moray::core
