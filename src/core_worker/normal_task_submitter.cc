#include "core_worker/normal_task_submitter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/id.h"
#include "core_worker/task_common.h"
#include "core_worker/task_placement.h"
#include "google/protobuf/arena.h"
#include "runtime_env/runtime_env.h"
#include "spdlog/spdlog.h"

namespace moray::core {

NormalTaskSubmitter::NormalTaskSubmitter(CoreContext* context, SubmitterOptions options)
    : context_(context), options_(options) {}

NormalTaskSubmitter::~NormalTaskSubmitter() {
  *releasing_args_ = false;  // the process is going: lineage entries just go
}

std::string NormalTaskSubmitter::KeyOf(const proto::TaskSpec& spec, const NodeId& preferred_node) {
  // The scheduling key: the function and its resource shape, sorted (protobuf maps have no order),
  // the strategy, and the node holding most of the arguments, so a worker leased near one
  // task's data is not reused for a task whose data is elsewhere.
  std::map<std::string, double> sorted(spec.resources().begin(), spec.resources().end());
  std::string key = absl::StrCat(spec.function_name(), "|",
                                 absl::StrJoin(sorted, ",", absl::PairFormatter("=")));
  if (!preferred_node.IsNil()) absl::StrAppend(&key, "|near:", preferred_node.Hex());
  const auto& strategy = spec.scheduling_strategy();
  if (strategy.kind() == proto::SchedulingStrategy::PLACEMENT_GROUP) {
    // Leases ask the bundle's group-scoped resources: each group and bundle has its own.
    absl::StrAppend(&key, "|group:", ToHex(strategy.placement_group_id()), ":",
                    strategy.bundle_index());
  } else if (strategy.kind() != proto::SchedulingStrategy::DEFAULT) {
    absl::StrAppend(&key, "|", strategy.kind(), ":", ToHex(strategy.node_id()), ":",
                    strategy.soft());
  }
  if (!strategy.label_selector().empty()) {  // workers leased on matching nodes only
    std::map<std::string, std::string> labels(strategy.label_selector().begin(),
                                              strategy.label_selector().end());
    absl::StrAppend(&key, "|labels:", absl::StrJoin(labels, ",", absl::PairFormatter("=")));
  }
  // Workers are pooled per runtime env: a lease of one env never runs another's tasks.
  if (!spec.runtime_env().hash().empty()) absl::StrAppend(&key, "|env:", spec.runtime_env().hash());
  // ... and per language.
  if (spec.language() != proto::CPP) absl::StrAppend(&key, "|lang:", spec.language());
  return key;
}

int NormalTaskSubmitter::InFlightLimit(const KeyQueue& queue) const {
  bool short_tasks = queue.mean_execution_ns >= 0 &&
                     queue.mean_execution_ns < absl::ToDoubleNanoseconds(options_.pipeline_below);
  return short_tasks ? options_.max_tasks_in_flight_per_worker : 1;
}

void NormalTaskSubmitter::Submit(proto::TaskSpec spec) {
  auto shared = std::make_shared<proto::TaskSpec>(std::move(spec));
  context_->loop->Post([this, shared] { SubmitOnLoop(std::move(*shared)); });
}

void NormalTaskSubmitter::SubmitOnLoop(proto::TaskSpec spec) {
  const TaskId task_id = TaskId::FromBinary(spec.task_id());
  if (tasks_.contains(task_id)) {
    // A rebuild of a task that is already running again (another of its returns was lost with
    // the same node): that attempt stores every return. Drop the hold Resubmit took.
    ReleaseTaskArgs(context_, spec);
    return;
  }
  PendingTask task;
  task.retries_left = spec.max_retries();
  task.spec = std::move(spec);
  RecordState(task, proto::PENDING_ARGS_AVAIL, /*descriptive=*/true);
  tasks_.emplace(task_id, std::move(task));
  ResolveDependencies(task_id);
}

void NormalTaskSubmitter::ResolveDependencies(const TaskId& task_id) {
  PendingTask& task = tasks_.at(task_id);
  ResolveLocalDependencies(
      context_, &task.spec,
      [this, task_id]() -> proto::TaskSpec* {
        auto it = tasks_.find(task_id);
        return it == tasks_.end() ? nullptr : &it->second.spec;
      },
      [this, task_id](const proto::ErrorInfo& error) {
        auto it = tasks_.find(task_id);
        if (it == tasks_.end()) return;
        it->second.dependency_error = error;
        OnDependenciesResolved(task_id);
      });
}

void NormalTaskSubmitter::OnDependenciesResolved(const TaskId& task_id) {
  PendingTask& task = tasks_.at(task_id);
  if (task.dependency_error.type() != proto::ERROR_NONE) {
    // An upstream task failed: this one never runs and its output holds the upstream error.
    proto::ErrorInfo error = task.dependency_error;
    Complete(task_id, nullptr, &error);
    return;
  }
  if (!raylet_lost_.empty()) {
    proto::ErrorInfo error;
    error.set_type(proto::WORKER_DIED);
    error.set_message(raylet_lost_);
    Complete(task_id, nullptr, &error);
    return;
  }
  RecordState(task, proto::PENDING_NODE_ASSIGNMENT);
  // Keyed once its arguments are known: where they are is part of the key.
  const NodeId preferred_node = LargestArgumentsNode(task.spec);
  task.key = KeyOf(task.spec, preferred_node);
  std::string key = task.key;
  auto [queue_it, new_key] = queues_.try_emplace(key);
  KeyQueue& queue = queue_it->second;
  if (new_key) {
    // Every task of a key asks the same lease: its resources (in a placement group, the
    // bundle's group-scoped names), its strategy and the preferred node.
    auto resources = LeaseResources(task.spec);
    if (!resources.ok()) {
      queues_.erase(queue_it);
      proto::ErrorInfo error;
      error.set_type(proto::WORKER_DIED);
      error.set_message(
          absl::StrCat("The task cannot be scheduled: ", resources.status().message()));
      Complete(task_id, nullptr, &error);
      return;
    }
    queue.resources = *std::move(resources);
    queue.strategy = task.spec.scheduling_strategy();
    queue.preferred_node = preferred_node;
    if (task.spec.has_runtime_env()) queue.runtime_env = task.spec.runtime_env();
    queue.language = task.spec.language();
  }
  queue.ready.push_back(task_id);
  Dispatch(key);
}

void NormalTaskSubmitter::Dispatch(const std::string& key) {
  auto qit = queues_.find(key);
  if (qit == queues_.end()) return;
  KeyQueue& queue = qit->second;
  // Each task goes to the least-loaded worker with room, so work spreads before it pipelines.
  const bool spread = queue.strategy.kind() == proto::SchedulingStrategy::SPREAD;
  const int limit = spread ? 1 : InFlightLimit(queue);
  std::unordered_map<LeasedWorker*, proto::PushTasksRequest> batches;
  while (!queue.ready.empty()) {
    LeasedWorker* target = nullptr;
    for (const auto& worker : queue.workers) {
      if (static_cast<int>(worker->in_flight.size()) >= limit) continue;
      if (spread && worker->used) continue;  // each SPREAD task gets a lease of its own
      if (!target || worker->in_flight.size() < target->in_flight.size()) target = worker.get();
    }
    if (!target) break;
    const TaskId task_id = queue.ready.front();
    queue.ready.pop_front();
    PendingTask& task = tasks_.at(task_id);
    auto [batch, first] = batches.try_emplace(target);
    if (first) {
      for (int id : target->gpu_ids) batch->second.add_gpu_ids(id);
    }
    *batch->second.add_tasks() = task.spec;
    target->in_flight.insert(task_id);
    target->used = true;
    RecordState(task, proto::SUBMITTED_TO_WORKER);
  }
  for (const auto& worker : queue.workers) {
    auto batch = batches.find(worker.get());
    if (batch != batches.end()) {
      if (worker->idle_timer) {
        context_->loop->CancelTimer(worker->idle_timer);
        worker->idle_timer = 0;
      }
      worker->conn->Send(proto::WORKER_PUSH_TASKS, batch->second);
    } else {
      MaybeScheduleIdleReturn(worker);
    }
  }
  size_t wanted = std::min<size_t>(queue.ready.size(), options_.max_pending_lease_requests);
  while (queue.pending_leases.size() < wanted) RequestLease(key);
  if (queue.ready.empty() && !queue.pending_leases.empty()) {
    // Nothing left to run: withdraw the requests still waiting at the raylets.
    for (const auto& [lease_id, raylet] : queue.pending_leases) {
      proto::CancelWorkerLeaseRequest cancel;
      cancel.set_lease_id(lease_id);
      raylet->Send(proto::RAYLET_CANCEL_WORKER_LEASE, cancel);
    }
    queue.pending_leases.clear();
  }
}

void NormalTaskSubmitter::RequestLease(const std::string& key,
                                       std::shared_ptr<rpc::Connection> raylet,
                                       const proto::JobInfo* job, bool spilled) {
  KeyQueue& queue = queues_.at(key);
  if (!raylet) raylet = context_->raylet;
  int64_t lease_id = next_lease_id_++;
  queue.pending_leases[lease_id] = raylet;
  proto::RequestWorkerLeaseRequest request;
  request.set_lease_id(lease_id);
  request.set_job_id(context_->job_id.Binary());
  request.mutable_resources()->insert(queue.resources.begin(), queue.resources.end());
  request.set_scheduling_key(key);
  *request.mutable_strategy() = queue.strategy;
  request.set_spilled(spilled);
  if (!spilled) request.set_preferred_node_id(queue.preferred_node.Binary());
  if (job) *request.mutable_job() = *job;
  if (!queue.runtime_env.hash().empty()) *request.mutable_runtime_env() = queue.runtime_env;
  request.set_language(queue.language);
  raylet->Call(proto::RAYLET_REQUEST_WORKER_LEASE, request,
               [this, key, lease_id, raylet](absl::Status status, rpc::Frame&& frame) {
                 OnLeaseReply(key, lease_id, raylet, status, std::move(frame));
               });
}

NodeId NormalTaskSubmitter::LargestArgumentsNode(const proto::TaskSpec& spec) const {
  // Only arguments owned here have a known place (the node whose store got the value).
  std::map<NodeId, int64_t> bytes;
  for (const auto& arg : spec.args()) {
    if (!arg.is_ref() || WorkerId::FromBinary(arg.owner().worker_id()) != context_->worker_id) {
      continue;
    }
    auto object = context_->store->Find(ObjectId::FromBinary(arg.object_id()));
    if (object && object->in_plasma && !object->node_id.IsNil()) {
      bytes[object->node_id] += object->size;
    }
  }
  NodeId best;
  int64_t most = 0;
  for (const auto& [node, size] : bytes) {
    if (size > most) {
      best = node;
      most = size;
    }
  }
  return best;
}

void NormalTaskSubmitter::OnLeaseReply(const std::string& key, int64_t lease_id,
                                       const std::shared_ptr<rpc::Connection>& raylet,
                                       absl::Status status, rpc::Frame&& frame) {
  KeyQueue& queue = queues_[key];
  bool wanted = queue.pending_leases.erase(lease_id) > 0;
  if (!status.ok() && !rpc::IsConnectionFailure(*raylet, status)) {
    // The raylet rejected the request (bad resources, a placement that cannot be, workers of
    // this job that cannot start): the tasks waiting for such a lease fail with its reason.
    spdlog::warn("lease request rejected by the raylet: {}", status.ToString());
    proto::ErrorInfo error;
    if (runtime_env::IsSetupFailure(status)) {
      error.set_type(proto::RUNTIME_ENV_SETUP_FAILED);
      error.set_message(std::string(status.message()));
    } else {
      error.set_type(proto::WORKER_DIED);
      error.set_message(absl::StrCat("The raylet could not run the task: ", status.message()));
    }
    std::deque<TaskId> failed;
    failed.swap(queue.ready);
    for (const auto& task_id : failed) Complete(task_id, nullptr, &error);
    return;
  }
  if (!status.ok()) {
    if (raylet != context_->raylet) {
      // Another node's raylet went away before answering: place the work again.
      if (!context_->shutting_down) Dispatch(key);
      return;
    }
    // The local raylet connection closed: nothing can be leased any more.
    FailAll(raylet_lost_.empty() ? std::string(status.message()) : raylet_lost_);
    return;
  }
  proto::RequestWorkerLeaseReply reply;
  if (!frame.ParseBody(&reply).ok()) return;
  if (reply.retry_at_raylet().port() != 0) {
    // Spillback: the local raylet chose another node. Ask it (it grants or queues there).
    if (!wanted || queue.ready.empty()) {
      Dispatch(key);
      return;
    }
    auto remote = context_->pool->Get(rpc::EndpointOf(reply.retry_at_raylet()));
    if (remote.ok()) {
      // Sent to its arguments' node: that raylet decides (not spilled) whether it has room. If
      // it cannot be reached, the call fails and the work is placed again.
      RequestLease(key, *remote, &reply.job(), /*spilled=*/!reply.near_arguments());
    } else {
      // It failed to connect lately (probably a node that just died and the cluster view does
      // not say so yet): the pool backs off from it, and the work queues here meanwhile.
      spdlog::warn("cannot reach the raylet at {} (spillback): {}",
                   rpc::EndpointOf(reply.retry_at_raylet()).ToString(), remote.status().ToString());
      RequestLease(key, context_->raylet, nullptr, /*spilled=*/true);
    }
    return;
  }
  if (!reply.granted()) {
    Dispatch(key);
    return;
  }
  auto worker = std::make_shared<LeasedWorker>();
  worker->lease_id = lease_id;
  worker->worker_id = WorkerId::FromBinary(reply.worker_address().worker_id());
  worker->pid = reply.worker_pid();
  worker->gpu_ids.assign(reply.gpu_ids().begin(), reply.gpu_ids().end());
  worker->key = key;
  worker->raylet = raylet;
  worker->endpoint = rpc::EndpointOf(reply.worker_address());
  auto conn = context_->pool->Get(worker->endpoint);
  if (!conn.ok()) {
    spdlog::warn("cannot reach leased worker {}: {}", worker->worker_id.Hex(),
                 conn.status().ToString());
    proto::ReturnWorkerRequest ret;
    ret.set_lease_id(lease_id);
    ret.set_disconnect_worker(true);
    raylet->Send(proto::RAYLET_RETURN_WORKER, ret);
    Dispatch(key);
    return;
  }
  worker->conn = *conn;
  by_conn_[worker->conn.get()] = worker;
  std::weak_ptr<LeasedWorker> weak = worker;
  worker->close_id =
      context_->pool->OnClose(worker->endpoint, [this, weak](const absl::Status& why) {
        if (auto w = weak.lock()) {
          w->close_id = 0;
          OnWorkerDisconnected(w, why);
        }
      });
  queue.workers.push_back(worker);
  if (!wanted && queue.ready.empty()) {
    ReturnLease(worker, false);
    return;
  }
  Dispatch(key);
}

bool NormalTaskSubmitter::OnTaskReplies(const rpc::Peer& peer, rpc::Frame& frame) {
  auto it = by_conn_.find(peer.conn.get());
  if (it == by_conn_.end()) return false;
  auto worker = it->second.lock();
  if (!worker) return false;
  // Parsed on an arena: a batch of replies is freed at once.
  google::protobuf::Arena arena;
  auto& replies = *google::protobuf::Arena::CreateMessage<proto::TaskRepliesRequest>(&arena);
  if (absl::Status parsed = frame.ParseBody(&replies); !parsed.ok()) {
    context_->service->Malformed(peer, frame, parsed);
    return true;
  }
  HandleTaskReplies(worker, replies);
  return true;
}

void NormalTaskSubmitter::HandleTaskReplies(const std::shared_ptr<LeasedWorker>& worker,
                                            const proto::TaskRepliesRequest& replies) {
  KeyQueue& queue = queues_[worker->key];
  for (const auto& reply : replies.replies()) {
    const TaskId task_id = TaskId::FromBinary(reply.task_id());
    worker->in_flight.erase(task_id);
    double ns = static_cast<double>(reply.execution_ns());
    queue.mean_execution_ns =
        queue.mean_execution_ns < 0 ? ns : 0.8 * queue.mean_execution_ns + 0.2 * ns;
    auto it = tasks_.find(task_id);
    if (it == tasks_.end() || it->second.spec.attempt_number() != reply.attempt_number()) continue;
    PendingTask& task = it->second;
    if (task.cancelled && reply.error().type() != proto::ERROR_NONE) {
      CompleteCancelled(task_id);  // whatever it failed with once interrupted
      continue;
    }
    if (reply.retryable_app_error() && task.spec.retry_exceptions() && task.retries_left != 0) {
      if (task.retries_left > 0) --task.retries_left;
      RecordState(task, proto::FAILED, false, &reply.error());
      task.spec.set_attempt_number(task.spec.attempt_number() + 1);
      RecordState(task, proto::PENDING_NODE_ASSIGNMENT, true);
      queues_[task.key].ready.push_front(task_id);
      continue;
    }
    Complete(task_id, &reply, nullptr);
  }
  if (queue.strategy.kind() == proto::SchedulingStrategy::SPREAD && worker->in_flight.empty()) {
    ReturnLease(worker, false);  // the next SPREAD task gets a lease (and a node) of its own
  }
  Dispatch(worker->key);
}

void NormalTaskSubmitter::Detach(LeasedWorker& worker) {
  if (worker.close_id != 0) context_->pool->CancelOnClose(worker.endpoint, worker.close_id);
  worker.close_id = 0;
  auto it = by_conn_.find(worker.conn.get());
  if (it != by_conn_.end() && it->second.lock().get() == &worker) by_conn_.erase(it);
}

void NormalTaskSubmitter::OnWorkerDisconnected(const std::shared_ptr<LeasedWorker>& worker,
                                               const absl::Status& why) {
  Detach(*worker);
  auto& queue = queues_[worker->key];
  queue.workers.erase(std::remove(queue.workers.begin(), queue.workers.end(), worker),
                      queue.workers.end());
  if (worker->idle_timer) context_->loop->CancelTimer(worker->idle_timer);
  std::vector<TaskId> lost(worker->in_flight.begin(), worker->in_flight.end());
  worker->in_flight.clear();
  if (!worker->conn->ever_connected()) {
    // The connection never opened: the tasks never reached the worker. They go back to the
    // queue as they were (no retry used up), and the lease goes back unused.
    spdlog::warn("cannot reach leased worker {} at {}: {}", worker->worker_id.Hex(),
                 worker->endpoint.ToString(), why.ToString());
    DiscardLease(*worker);
    std::sort(lost.begin(), lost.end());
    for (auto it = lost.rbegin(); it != lost.rend(); ++it) {
      auto task = tasks_.find(*it);
      if (task == tasks_.end()) continue;
      if (task->second.cancelled) {
        CompleteCancelled(*it);
        continue;
      }
      RecordState(task->second, proto::PENDING_NODE_ASSIGNMENT);
      queue.ready.push_front(*it);
    }
    if (!context_->shutting_down) Dispatch(worker->key);
    return;
  }
  if (!lost.empty()) {
    DiscardLease(*worker);  // it may already know the process exited
  }
  // Retry in submission order: push back to the front in reverse.
  std::sort(lost.begin(), lost.end());
  for (auto it = lost.rbegin(); it != lost.rend(); ++it) {
    auto task_it = tasks_.find(*it);
    if (task_it == tasks_.end()) continue;
    PendingTask& task = task_it->second;
    if (task.cancelled) {
      CompleteCancelled(*it);  // force-cancelled (its worker exited), or cancelled as it died
      continue;
    }
    proto::ErrorInfo error;
    error.set_type(proto::WORKER_DIED);
    if (task.retries_left != 0) {
      error.set_message(absl::StrCat("The worker (pid ", worker->pid,
                                     ") died while running the task; retrying."));
      RecordState(task, proto::FAILED, false, &error);
      if (task.retries_left > 0) --task.retries_left;
      task.spec.set_attempt_number(task.spec.attempt_number() + 1);
      RecordState(task, proto::PENDING_NODE_ASSIGNMENT, true);
      queue.ready.push_front(*it);
    } else {
      error.set_message(absl::StrCat(
          "The worker executing task ", task.spec.name(), " (pid ", worker->pid,
          ") died unexpectedly, and the task has no retries left (max_retries=",
          task.spec.max_retries(), ")."));
      Complete(*it, nullptr, &error);
    }
  }
  if (!context_->shutting_down) Dispatch(worker->key);
}

void NormalTaskSubmitter::ReturnLease(const std::shared_ptr<LeasedWorker>& worker,
                                      bool disconnect) {
  if (worker->idle_timer) {
    context_->loop->CancelTimer(worker->idle_timer);
    worker->idle_timer = 0;
  }
  auto& queue = queues_[worker->key];
  queue.workers.erase(std::remove(queue.workers.begin(), queue.workers.end(), worker),
                      queue.workers.end());
  proto::ReturnWorkerRequest ret;
  ret.set_lease_id(worker->lease_id);
  ret.set_disconnect_worker(disconnect);
  worker->raylet->Send(proto::RAYLET_RETURN_WORKER, ret);
  // The connection stays in the pool: this process may lease the worker again, or fetch from
  // it, and a borrower's connection to an owner must not close while it borrows.
  Detach(*worker);
}

void NormalTaskSubmitter::DiscardLease(const LeasedWorker& worker) {
  if (!worker.raylet || context_->shutting_down) return;
  proto::ReturnWorkerRequest ret;
  ret.set_lease_id(worker.lease_id);
  ret.set_disconnect_worker(true);
  worker.raylet->Send(proto::RAYLET_RETURN_WORKER, ret);
}

void NormalTaskSubmitter::MaybeScheduleIdleReturn(const std::shared_ptr<LeasedWorker>& worker) {
  if (!worker->in_flight.empty() || worker->idle_timer) return;
  std::weak_ptr<LeasedWorker> weak = worker;
  worker->idle_timer = context_->loop->RunAfter(options_.lease_idle_timeout, [this, weak] {
    auto w = weak.lock();
    if (!w) return;
    w->idle_timer = 0;
    if (w->in_flight.empty() && queues_[w->key].ready.empty()) ReturnLease(w, false);
  });
}

void NormalTaskSubmitter::Complete(const TaskId& task_id, const proto::TaskReply* reply,
                                   const proto::ErrorInfo* error) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  PendingTask task = std::move(it->second);
  tasks_.erase(it);
  const proto::ErrorInfo* failure = error;
  if (!failure && reply && reply->error().type() != proto::ERROR_NONE) failure = &reply->error();
  bool in_plasma = false;
  if (!failure && reply) {
    for (const auto& ret : reply->returns()) in_plasma = in_plasma || ret.in_plasma();
  }
  if (in_plasma) {
    // Lineage: the return lives in one node's store; if that node dies, running the task again
    // rebuilds it. Its arguments stay held for that, once per task, until its last stored return
    // is freed (or replaced by a rebuilt attempt's lineage).
    HoldTaskArgs(context_, task.spec);
    std::shared_ptr<proto::TaskSpec> lineage(new proto::TaskSpec(task.spec),
                                             [context = context_, live = releasing_args_](
                                                 proto::TaskSpec* spec) {
                                               if (*live) ReleaseTaskArgs(context, *spec);
                                               delete spec;
                                             });
    std::vector<std::shared_ptr<proto::TaskSpec>> replaced;  // released after the lock
    std::lock_guard<std::mutex> lock(lineage_mutex_);
    for (const auto& ret : reply->returns()) {
      if (!ret.in_plasma()) continue;
      auto& slot = lineage_[ObjectId::FromBinary(ret.object_id())];
      replaced.push_back(std::move(slot));
      slot = lineage;
    }
  }
  StoreTaskReturns(context_, task.spec, reply, error);
  if (failure) {
    RecordState(task, proto::FAILED, false, failure);
  } else {
    RecordState(task, proto::FINISHED);
  }
}

bool NormalTaskSubmitter::Cancel(const TaskId& task_id, bool force, bool recursive) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return false;
  PendingTask& task = it->second;
  task.cancelled = true;
  auto qit = queues_.find(task.key);
  if (qit != queues_.end()) {
    for (const auto& worker : qit->second.workers) {
      if (!worker->in_flight.contains(task_id)) continue;
      // On the worker: it answers (cancelled, or the value if it finished first), or exits.
      proto::CancelTaskRequest request;
      request.set_task_id(task_id.Binary());
      request.set_force(force);
      request.set_recursive(recursive);
      worker->conn->Send(proto::WORKER_CANCEL_TASK, request);
      return true;
    }
  }
  // Not pushed yet: resolving its arguments (nothing to stop) or in its key's ready queue.
  if (qit != queues_.end()) {
    auto& ready = qit->second.ready;
    ready.erase(std::remove(ready.begin(), ready.end(), task_id), ready.end());
  }
  const std::string key = task.key;
  CompleteCancelled(task_id);
  if (!key.empty()) Dispatch(key);  // withdraws lease requests nothing needs any more
  return true;
}

void NormalTaskSubmitter::CancelChildren(const TaskId& parent, bool force) {
  std::vector<TaskId> children;
  for (const auto& [id, task] : tasks_) {
    if (TaskId::FromBinary(task.spec.parent_task_id()) == parent) children.push_back(id);
  }
  for (const auto& id : children) Cancel(id, force, /*recursive=*/true);
}

void NormalTaskSubmitter::CompleteCancelled(const TaskId& task_id) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  const proto::ErrorInfo error = TaskCancelledError(it->second.spec);
  Complete(task_id, nullptr, &error);
}

void NormalTaskSubmitter::FailAll(const std::string& reason) {
  raylet_lost_ = reason;
  proto::ErrorInfo error;
  error.set_type(proto::WORKER_DIED);
  error.set_message(reason);
  std::vector<TaskId> ids;
  for (const auto& [id, task] : tasks_) ids.push_back(id);
  for (const auto& id : ids) Complete(id, nullptr, &error);
  for (auto& [key, queue] : queues_) {
    queue.ready.clear();
    queue.pending_leases.clear();
    for (auto& w : queue.workers) {
      if (w->idle_timer) context_->loop->CancelTimer(w->idle_timer);
      Detach(*w);
    }
    queue.workers.clear();
  }
}

bool NormalTaskSubmitter::Resubmit(const ObjectId& object_id) {
  proto::TaskSpec spec;
  {
    std::lock_guard<std::mutex> lock(lineage_mutex_);
    auto it = lineage_.find(object_id);
    if (it == lineage_.end()) return false;
    spec = *it->second;
    // A second rebuild before this one completes gets the next attempt number.
    it->second->set_attempt_number(it->second->attempt_number() + 1);
  }
  spdlog::info("re-running task {} ({}) to rebuild object {} lost with its node", spec.name(),
               ToHex(spec.task_id()), object_id.Hex());
  spec.set_attempt_number(spec.attempt_number() + 1);
  // The new attempt holds its arguments like any submitted task (released when it completes).
  HoldTaskArgs(context_, spec);
  Submit(std::move(spec));
  return true;
}

void NormalTaskSubmitter::DropLineage(const ObjectId& object_id) {
  std::shared_ptr<proto::TaskSpec> dropped;  // its arguments go when the task's last entry does
  {
    std::lock_guard<std::mutex> lock(lineage_mutex_);
    auto it = lineage_.find(object_id);
    if (it == lineage_.end()) return;
    dropped = std::move(it->second);
    lineage_.erase(it);
  }
}

std::optional<proto::TaskState> NormalTaskSubmitter::StateOf(const TaskId& task_id) const {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return std::nullopt;
  return it->second.state;
}

void NormalTaskSubmitter::RecordState(PendingTask& task, proto::TaskState state,
                                      bool descriptive, const proto::ErrorInfo* error) {
  task.state = state;
  RecordTaskEvent(context_, task.spec, state, descriptive, error);
}

}  // namespace moray::core
