#include "core_worker/actor_task_submitter.h"

#include <algorithm>
#include <future>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "common/session.h"
#include "core_worker/task_common.h"
#include "google/protobuf/arena.h"
#include "spdlog/spdlog.h"

namespace moray::core {
namespace {

// How long calls lost with a dropped connection wait for the GCS to say what happened.
constexpr absl::Duration kLostVerdictTimeout = absl::Seconds(10);
constexpr absl::Duration kReconnectDelay = absl::Milliseconds(200);
constexpr absl::Duration kGcsCallTimeout = absl::Seconds(30);
constexpr size_t kSendAtOnceBelow = 4;  // calls in flight

}  // namespace

ActorTaskSubmitter::ActorTaskSubmitter(CoreContext* context, rpc::Endpoint gcs)
    : context_(context), gcs_endpoint_(std::move(gcs)) {}

ActorTaskSubmitter::~ActorTaskSubmitter() { *alive_ = false; }

std::shared_ptr<rpc::Connection> ActorTaskSubmitter::Gcs() {
  if (gcs_ && !gcs_->closed()) return gcs_;
  if (gcs_endpoint_.empty()) return nullptr;
  if (absl::Now() < gcs_retry_after_) return nullptr;
  auto conn = rpc::Connection::Connect(context_->loop, gcs_endpoint_.ip, gcs_endpoint_.port,
                                       absl::Seconds(10));
  if (!conn.ok()) {
    gcs_retry_after_ = absl::Now() + absl::Seconds(1);
    if (!gcs_error_logged_) {
      spdlog::error("cannot reach the GCS worker channel at {}: {}", gcs_endpoint_.ToString(),
                    conn.status().ToString());
      gcs_error_logged_ = true;
    }
    return nullptr;
  }
  gcs_ = *conn;
  gcs_->SetHandlers(
      [this, alive = alive_](const std::shared_ptr<rpc::Connection>&, rpc::Frame&& frame) {
        if (*alive) OnGcsMessage(std::move(frame));
      },
      [this, alive = alive_](const std::shared_ptr<rpc::Connection>&) {
        if (!*alive || context_->shutting_down) return;
        spdlog::error("lost the connection to the GCS actor channel at {}",
                      gcs_endpoint_.ToString());
        for (auto& [id, actor] : actors_) actor.subscribed = false;
      });
  if (on_gcs_connected_) on_gcs_connected_(gcs_);
  return gcs_;
}

absl::StatusOr<rpc::Frame> ActorTaskSubmitter::CallGcs(
    uint16_t method, std::shared_ptr<const google::protobuf::MessageLite> request) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<rpc::Frame>>>();
  auto future = promise->get_future();
  context_->loop->Post([this, method, promise, request] {
    auto gcs = Gcs();
    if (!gcs) {
      promise->set_value(absl::UnavailableError(
          absl::StrCat("cannot reach the GCS actor channel at ", gcs_endpoint_.ToString())));
      return;
    }
    gcs->Call(method, *request, [promise](absl::Status s, rpc::Frame&& frame) {
      if (absl::IsUnavailable(s)) {
        promise->set_value(absl::UnavailableError("the GCS closed the actor channel"));
      } else if (!s.ok()) {
        promise->set_value(s);  // the GCS's answer, with its code
      } else {
        promise->set_value(std::move(frame));
      }
    });
  });
  if (future.wait_for(absl::ToChronoSeconds(kGcsCallTimeout)) != std::future_status::ready) {
    return absl::DeadlineExceededError("the GCS did not answer an actor request within 30 s");
  }
  return future.get();
}

absl::StatusOr<proto::ActorInfo> ActorTaskSubmitter::CreateActor(const proto::TaskSpec& spec,
                                                                 const proto::ActorInfo& info,
                                                                 bool get_if_exists) {
  auto request = std::make_shared<proto::CreateActorRequest>();
  *request->mutable_spec() = spec;
  *request->mutable_actor() = info;
  request->set_get_if_exists(get_if_exists);
  auto frame = CallGcs(proto::CREATE_ACTOR, request);
  if (!frame.ok()) return frame.status();
  proto::CreateActorReply reply;
  if (auto parsed = frame->ParseBody(&reply); !parsed.ok()) return parsed;
  // The GCS subscribed this process to the actor.
  const ActorId actor_id = ActorId::FromBinary(reply.actor().actor_id());
  context_->loop->Post([this, actor_id, alive = alive_] {
    if (*alive) actors_[actor_id].subscribed = true;
  });
  return reply.actor();
}

absl::StatusOr<std::optional<proto::ActorInfo>> ActorTaskSubmitter::GetNamedActor(
    const std::string& name, const std::string& ray_namespace) {
  auto request = std::make_shared<proto::GetNamedActorRequest>();
  request->set_name(name);
  request->set_ray_namespace(ray_namespace);
  auto frame = CallGcs(proto::GET_NAMED_ACTOR, request);
  if (absl::IsNotFound(frame.status())) return std::optional<proto::ActorInfo>();
  if (!frame.ok()) return frame.status();
  proto::GetNamedActorReply reply;
  if (auto parsed = frame->ParseBody(&reply); !parsed.ok()) return parsed;
  if (reply.actor().actor_id().empty()) return std::optional<proto::ActorInfo>();
  return std::optional<proto::ActorInfo>(reply.actor());
}

void ActorTaskSubmitter::KillActor(const ActorId& actor_id, bool no_restart,
                                   proto::ActorDeathReason reason) {
  context_->loop->Post([this, actor_id, no_restart, reason, alive = alive_] {
    if (!*alive) return;
    auto gcs = Gcs();
    if (!gcs) return;
    proto::KillActorRequest request;
    request.set_actor_id(actor_id.Binary());
    request.set_no_restart(no_restart);
    request.set_reason(reason);
    gcs->Send(proto::KILL_ACTOR, request);
    auto it = actors_.find(actor_id);
    if (!no_restart || reason != proto::ACTOR_DEATH_KILLED || it == actors_.end()) return;
    // Killed from here: this caller's pending and later calls fail at once, whatever the GCS
    // publishes next (the actor may still answer a call that is already running).
    Actor& actor = it->second;
    actor.known = true;
    actor.info.set_actor_id(actor_id.Binary());
    actor.info.set_state(proto::DEAD);
    actor.info.mutable_death_cause()->set_reason(proto::ACTOR_DEATH_KILLED);
    actor.info.mutable_death_cause()->set_message("The actor was killed (ActorHandle::Kill).");
    if (actor.conn) {
      OnDisconnected(actor_id, actor.conn, absl::CancelledError("the actor was killed"));
    }
    FailPending(actor, DeathMessage(actor_id, actor));
  });
}

void ActorTaskSubmitter::HoldCreationArgs(const proto::TaskSpec& creation_spec) {
  auto shared = std::make_shared<proto::TaskSpec>(creation_spec);
  context_->loop->Post([this, shared, alive = alive_] {
    if (!*alive) return;
    const ActorId actor_id = ActorId::FromBinary(shared->actor_id());
    auto it = actors_.find(actor_id);
    if (it != actors_.end() && it->second.known && it->second.info.state() == proto::DEAD) {
      ReleaseTaskArgs(context_, *shared);  // dead already
      return;
    }
    creation_specs_[actor_id] = std::move(*shared);
  });
}

void ActorTaskSubmitter::Submit(proto::TaskSpec spec) {
  auto shared = std::make_shared<proto::TaskSpec>(std::move(spec));
  context_->loop->Post([this, shared, alive = alive_] {
    if (*alive) SubmitOnLoop(std::move(*shared));
  });
}

void ActorTaskSubmitter::SubmitOnLoop(proto::TaskSpec spec) {
  const ActorId actor_id = ActorId::FromBinary(spec.actor_id());
  const TaskId task_id = TaskId::FromBinary(spec.task_id());
  Actor& actor = actors_[actor_id];
  if (!actor.subscribed) Subscribe(actor_id, actor);
  spec.set_sequence_number(actor.next_seq++);
  Call& call = actor.calls[task_id];
  call.spec = std::move(spec);
  RecordTaskEvent(context_, call.spec, proto::PENDING_ARGS_AVAIL, /*descriptive=*/true);
  actor.queue.push_back(task_id);
  if (ResolveReadyDependencies(context_, &call.spec, &call.dependency_error)) {
    call.resolved = true;
    ScheduleFlush(actor_id, actor);
    return;
  }
  ResolveLocalDependencies(
      context_, &call.spec,
      [this, actor_id, task_id]() -> proto::TaskSpec* {
        auto a = actors_.find(actor_id);
        if (a == actors_.end()) return nullptr;
        auto c = a->second.calls.find(task_id);
        return c == a->second.calls.end() ? nullptr : &c->second.spec;
      },
      [this, actor_id, task_id](const proto::ErrorInfo& error) {
        auto a = actors_.find(actor_id);
        if (a == actors_.end()) return;
        auto c = a->second.calls.find(task_id);
        if (c == a->second.calls.end()) return;
        c->second.resolved = true;
        c->second.dependency_error = error;
        ScheduleFlush(actor_id, a->second);
      });
}

void ActorTaskSubmitter::Subscribe(const ActorId& actor_id, Actor& actor) {
  auto gcs = Gcs();
  if (!gcs) {
    actor.known = true;
    actor.info.set_actor_id(actor_id.Binary());
    actor.info.set_state(proto::DEAD);
    actor.info.mutable_death_cause()->set_message(
        absl::StrCat("the GCS actor channel at ", gcs_endpoint_.ToString(), " cannot be reached"));
    return;
  }
  proto::SubscribeActorRequest request;
  request.set_actor_id(actor_id.Binary());
  gcs->Send(proto::SUBSCRIBE_ACTOR, request);
  actor.subscribed = true;
}

void ActorTaskSubmitter::OnGcsMessage(rpc::Frame&& frame) {
  if (frame.method != proto::ACTOR_UPDATE) {
    if (on_gcs_message_) on_gcs_message_(std::move(frame));
    return;
  }
  proto::ActorInfo info;
  if (!frame.ParseBody(&info).ok()) return;
  OnActorUpdate(info);
}

void ActorTaskSubmitter::OnActorUpdate(const proto::ActorInfo& info) {
  // Updates come only for actors this process subscribed to (CREATE_ACTOR subscribes too, and
  // its first update may arrive before the creating thread is back).
  const ActorId actor_id = ActorId::FromBinary(info.actor_id());
  Actor& actor = actors_[actor_id];
  actor.subscribed = true;
  if (actor.known && actor.info.state() == proto::DEAD) return;  // final
  actor.info = info;
  actor.known = true;
  switch (info.state()) {
    case proto::ALIVE: {
      const WorkerId worker_id = WorkerId::FromBinary(info.address().worker_id());
      if (actor.conn && actor.conn_worker_id != worker_id) {
        // A new incarnation: whatever was in flight on the old one is lost.
        OnDisconnected(actor_id, actor.conn,
                       absl::UnavailableError("the actor moved to a new worker"));
      }
      if (!actor.lost.empty() && actor.conn_worker_id != worker_id) {
        SettleLost(actor_id, actor, /*restarted=*/true);
      }
      if (!actor.conn) Connect(actor_id, actor);
      Flush(actor_id, actor);
      return;
    }
    case proto::RESTARTING:
      if (!actor.lost.empty()) SettleLost(actor_id, actor, /*restarted=*/true);
      return;
    case proto::DEAD: {
      if (auto spec = creation_specs_.find(actor_id); spec != creation_specs_.end()) {
        proto::TaskSpec creation = std::move(spec->second);
        creation_specs_.erase(spec);
        ReleaseTaskArgs(context_, creation);
      }
      if (actor.conn) {
        OnDisconnected(actor_id, actor.conn, absl::UnavailableError("the actor is dead"));
      }
      FailPending(actor, DeathMessage(actor_id, actor));
      return;
    }
    default:
      return;
  }
}

void ActorTaskSubmitter::Connect(const ActorId& actor_id, Actor& actor) {
  if (actor.connect_timer) {
    context_->loop->CancelTimer(actor.connect_timer);
    actor.connect_timer = 0;
  }
  actor.endpoint = rpc::EndpointOf(actor.info.address());
  auto conn = context_->pool->Get(actor.endpoint);
  if (!conn.ok()) {  // it failed to connect lately: the pool backs off
    if (actor.connect_failures++ == 0) {
      spdlog::warn("cannot reach actor {} at {}: {}", actor_id.Hex(), actor.endpoint.ToString(),
                   conn.status().ToString());
    }
    ScheduleConnect(actor_id, actor);
    return;
  }
  actor.conn = *conn;
  actor.conn_worker_id = WorkerId::FromBinary(actor.info.address().worker_id());
  by_conn_[actor.conn.get()] = actor_id;
  actor.close_id = context_->pool->OnClose(
      actor.endpoint, [this, actor_id, conn = actor.conn, alive = alive_](const absl::Status& why) {
        if (*alive) OnDisconnected(actor_id, conn, why);
      });
}

void ActorTaskSubmitter::ScheduleConnect(const ActorId& actor_id, Actor& actor) {
  if (actor.connect_timer) return;
  actor.connect_timer = context_->loop->RunAfter(kReconnectDelay, [this, actor_id,
                                                                   alive = alive_] {
    if (!*alive) return;
    auto a = actors_.find(actor_id);
    if (a == actors_.end()) return;
    a->second.connect_timer = 0;
    if (!a->second.conn && a->second.info.state() == proto::ALIVE) {
      Connect(actor_id, a->second);
      Flush(actor_id, a->second);
    }
  });
}

bool ActorTaskSubmitter::OnTaskReplies(const rpc::Peer& peer, rpc::Frame& frame) {
  auto by = by_conn_.find(peer.conn.get());
  if (by == by_conn_.end()) return false;
  auto it = actors_.find(by->second);
  if (it == actors_.end()) return false;
  // Parsed on an arena: a batch of replies is freed at once.
  google::protobuf::Arena arena;
  auto& replies = *google::protobuf::Arena::CreateMessage<proto::TaskRepliesRequest>(&arena);
  if (absl::Status parsed = frame.ParseBody(&replies); !parsed.ok()) {
    context_->service->Malformed(peer, frame, parsed);
    return true;
  }
  OnReplies(it->second, replies);
  return true;
}

void ActorTaskSubmitter::ScheduleFlush(const ActorId& actor_id, Actor& actor) {
  // An idle actor gets the call at once. One that is busy gets the calls submitted meanwhile in
  // one PUSH_TASKS: the flush runs after every submit already posted to the loop.
  if (actor.in_flight.size() < kSendAtOnceBelow && !actor.flush_scheduled) {
    Flush(actor_id, actor);
    return;
  }
  if (actor.flush_scheduled) return;
  actor.flush_scheduled = true;
  context_->loop->Post([this, actor_id, alive = alive_] {
    if (!*alive) return;
    auto it = actors_.find(actor_id);
    if (it == actors_.end()) return;
    it->second.flush_scheduled = false;
    Flush(actor_id, it->second);
  });
}

void ActorTaskSubmitter::Flush(const ActorId& actor_id, Actor& actor) {
  if (actor.known && actor.info.state() == proto::DEAD) {
    FailPending(actor, DeathMessage(actor_id, actor));
    return;
  }
  proto::PushTasksRequest batch;
  while (!actor.queue.empty()) {
    const TaskId task_id = actor.queue.front();
    Call& call = actor.calls.at(task_id);
    if (call.cancelled) {
      // Cancelled after it was sent on a connection that never reached the actor (put back in
      // line by OnDisconnected): it is not sent again.
      actor.queue.pop_front();
      CompleteCancelled(actor, task_id);
      continue;
    }
    if (!call.resolved) break;  // later calls wait behind it
    if (call.dependency_error.type() != proto::ERROR_NONE) {
      actor.queue.pop_front();
      proto::ErrorInfo error = call.dependency_error;
      Complete(actor, task_id, nullptr, &error);
      continue;
    }
    if (!actor.conn || actor.info.state() != proto::ALIVE) break;
    actor.queue.pop_front();
    actor.in_flight[call.spec.sequence_number()] = task_id;
    RecordTaskEvent(context_, call.spec, proto::SUBMITTED_TO_WORKER);
    // Lent to the batch, not copied: Send serializes it right away, then the call takes it back.
    batch.mutable_tasks()->UnsafeArenaAddAllocated(&call.spec);
  }
  // The calls take their specs back however Send ends (the batch must never delete them).
  const bool never_resent = actor.info.max_task_retries() == 0;
  absl::Cleanup give_back = [&batch, never_resent] {
    while (batch.tasks_size() > 0) {
      proto::TaskSpec* spec = batch.mutable_tasks()->UnsafeArenaReleaseLast();
      if (!never_resent) continue;
      // Completion needs ids and argument refs, not the values sent inline: free the large ones.
      for (auto& arg : *spec->mutable_args()) {
        if (arg.value().size() > 256) std::string().swap(*arg.mutable_value());
      }
    }
  };
  if (batch.tasks_size() > 0) actor.conn->Send(proto::WORKER_PUSH_TASKS, batch);
}

void ActorTaskSubmitter::OnReplies(Actor& actor, const proto::TaskRepliesRequest& replies) {
  for (const auto& reply : replies.replies()) {
    const TaskId task_id = TaskId::FromBinary(reply.task_id());
    auto call = actor.calls.find(task_id);
    if (call == actor.calls.end() || call->second.spec.attempt_number() != reply.attempt_number()) {
      continue;
    }
    actor.in_flight.erase(call->second.spec.sequence_number());
    if (call->second.cancelled && reply.error().type() != proto::ERROR_NONE) {
      CompleteCancelled(actor, task_id);
      continue;
    }
    Complete(actor, task_id, &reply, nullptr);
  }
}

// `conn` is a copy: it may be actor.conn, which this resets.
void ActorTaskSubmitter::OnDisconnected(const ActorId& actor_id,
                                        std::shared_ptr<rpc::Connection> conn,
                                        const absl::Status& why) {
  auto it = actors_.find(actor_id);
  if (it == actors_.end()) return;
  Actor& actor = it->second;
  if (actor.conn != conn) return;  // a connection given up before
  if (actor.close_id != 0) context_->pool->CancelOnClose(actor.endpoint, actor.close_id);
  actor.close_id = 0;
  by_conn_.erase(conn.get());
  actor.conn.reset();
  if (context_->shutting_down) return;
  if (!conn->ever_connected() && conn->closed()) {
    // The calls sent on it never reached the actor: first in line again, retries untouched.
    if (actor.connect_failures++ == 0) {
      spdlog::warn("cannot reach actor {} at {}: {}", actor_id.Hex(), actor.endpoint.ToString(),
                   why.ToString());
    }
    for (auto in = actor.in_flight.rbegin(); in != actor.in_flight.rend(); ++in) {
      actor.queue.push_front(in->second);
    }
    actor.in_flight.clear();
    if (actor.info.state() == proto::ALIVE) ScheduleConnect(actor_id, actor);
    return;
  }
  actor.connect_failures = 0;
  if (actor.in_flight.empty()) return;
  // Wait for the GCS to say whether the actor restarts or died (and why).
  actor.lost.merge(actor.in_flight);
  actor.in_flight.clear();
  if (actor.info.state() == proto::DEAD) {
    FailPending(actor, DeathMessage(actor_id, actor));
    return;
  }
  if (actor.lost_timer == 0) {
    actor.lost_timer = context_->loop->RunAfter(kLostVerdictTimeout, [this, actor_id,
                                                                      alive = alive_] {
      if (!*alive) return;
      auto a = actors_.find(actor_id);
      if (a == actors_.end()) return;
      a->second.lost_timer = 0;
      std::map<int64_t, TaskId> lost;
      lost.swap(a->second.lost);
      for (const auto& [seq, task_id] : lost) {
        Fail(a->second, task_id,
             absl::StrCat("The connection to actor ", actor_id.Hex(),
                          " was lost while the call ran, and the GCS did not report a restart "
                          "within 10 s."));
      }
    });
  }
}

void ActorTaskSubmitter::SettleLost(const ActorId& actor_id, Actor& actor, bool restarted) {
  if (actor.lost_timer) {
    context_->loop->CancelTimer(actor.lost_timer);
    actor.lost_timer = 0;
  }
  std::map<int64_t, TaskId> lost;
  lost.swap(actor.lost);
  const int max_retries = actor.info.max_task_retries();
  std::vector<TaskId> retry;
  for (const auto& [seq, task_id] : lost) {
    Call& call = actor.calls.at(task_id);
    if (call.cancelled) {
      CompleteCancelled(actor, task_id);
      continue;
    }
    int used = call.spec.attempt_number();
    if (restarted && (max_retries < 0 || used < max_retries)) {
      RecordTaskEvent(context_, call.spec, proto::FAILED);
      call.spec.set_attempt_number(used + 1);
      RecordTaskEvent(context_, call.spec, proto::PENDING_NODE_ASSIGNMENT, true);
      retry.push_back(task_id);
    } else {
      Fail(actor, task_id,
           absl::StrCat("The actor ", actor_id.Hex(),
                        " died while running the call (its process exited; the actor ",
                        restarted ? "is restarting" : "is dead",
                        "), and the call has no retries left (max_task_retries=", max_retries,
                        ")."));
    }
  }
  // Retried calls go first, in their original order.
  for (auto it = retry.rbegin(); it != retry.rend(); ++it) actor.queue.push_front(*it);
}

void ActorTaskSubmitter::Fail(Actor& actor, const TaskId& task_id, const std::string& message) {
  proto::ErrorInfo error;
  // An actor whose runtime env could not be set up never ran: its calls raise
  // RayRuntimeEnvException with the cause, not RayActorException.
  error.set_type(actor.info.death_cause().reason() == proto::ACTOR_DEATH_RUNTIME_ENV_FAILED
                     ? proto::RUNTIME_ENV_SETUP_FAILED
                     : proto::ACTOR_DIED);
  error.set_message(message);
  Complete(actor, task_id, nullptr, &error);
}

void ActorTaskSubmitter::FailPending(Actor& actor, const std::string& message) {
  std::vector<TaskId> ids;
  for (const auto& [seq, id] : actor.lost) ids.push_back(id);
  for (const auto& [seq, id] : actor.in_flight) ids.push_back(id);
  for (const auto& id : actor.queue) ids.push_back(id);
  actor.lost.clear();
  actor.in_flight.clear();
  actor.queue.clear();
  if (actor.lost_timer) {
    context_->loop->CancelTimer(actor.lost_timer);
    actor.lost_timer = 0;
  }
  for (const auto& id : ids) Fail(actor, id, message);
}

void ActorTaskSubmitter::Complete(Actor& actor, const TaskId& task_id,
                                  const proto::TaskReply* reply, const proto::ErrorInfo* error) {
  auto it = actor.calls.find(task_id);
  if (it == actor.calls.end()) return;
  Call call = std::move(it->second);
  actor.calls.erase(it);
  StoreTaskReturns(context_, call.spec, reply, error);
  const proto::ErrorInfo* failure = error;
  if (!failure && reply && reply->error().type() != proto::ERROR_NONE) failure = &reply->error();
  if (!failure && reply && reply->returns_size() > 0 &&
      reply->returns(0).error().type() != proto::ERROR_NONE) {
    failure = &reply->returns(0).error();
  }
  RecordTaskEvent(context_, call.spec, failure ? proto::FAILED : proto::FINISHED, false, failure);
  // The call no longer keeps the actor reachable.
  context_->references->RemoveSubmittedTaskReference(
      ActorHandleId(ActorId::FromBinary(call.spec.actor_id())));
}

std::string ActorTaskSubmitter::DeathMessage(const ActorId& actor_id, const Actor& actor) const {
  std::string what =
      actor.info.class_name().empty()
          ? absl::StrCat("The actor ", actor_id.Hex())
          : absl::StrCat("The actor ", actor_id.Hex(), " (", actor.info.class_name(), ")");
  const std::string& cause = actor.info.death_cause().message();
  return absl::StrCat(what, " is dead: ", cause.empty() ? "unknown cause" : cause);
}

absl::Status ActorTaskSubmitter::Cancel(const TaskId& task_id, bool force, bool recursive) {
  for (auto& [actor_id, actor] : actors_) {
    auto call = actor.calls.find(task_id);
    if (call == actor.calls.end()) continue;
    if (force) {
      return absl::InvalidArgumentError(
          "force=true is not supported for actor tasks (an actor's process is not killed for one "
          "call; use ray::KillActor)");
    }
    call->second.cancelled = true;
    auto queued = std::find(actor.queue.begin(), actor.queue.end(), task_id);
    if (queued != actor.queue.end()) {
      actor.queue.erase(queued);
      CompleteCancelled(actor, task_id);
      ScheduleFlush(actor_id, actor);  // the calls behind it may have waited for it
      return absl::OkStatus();
    }
    const int64_t seq = call->second.spec.sequence_number();
    if (actor.conn && actor.in_flight.contains(seq)) {
      proto::CancelTaskRequest request;
      request.set_task_id(task_id.Binary());
      request.set_recursive(recursive);
      actor.conn->Send(proto::WORKER_CANCEL_TASK, request);
    }
    // Lost with a dropped connection: settled as cancelled when the GCS's verdict comes.
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no pending actor call ", task_id.Hex()));
}

void ActorTaskSubmitter::CancelChildren(const TaskId& parent) {
  std::vector<TaskId> children;
  for (const auto& [actor_id, actor] : actors_) {
    for (const auto& [id, call] : actor.calls) {
      if (TaskId::FromBinary(call.spec.parent_task_id()) == parent) children.push_back(id);
    }
  }
  for (const auto& id : children) Cancel(id, /*force=*/false, /*recursive=*/true).IgnoreError();
}

void ActorTaskSubmitter::CompleteCancelled(Actor& actor, const TaskId& task_id) {
  auto call = actor.calls.find(task_id);
  if (call == actor.calls.end()) return;
  proto::ErrorInfo error;
  error.set_type(proto::TASK_CANCELLED);
  error.set_message(absl::StrCat("Actor task ", call->second.spec.name(), " (", task_id.Hex(),
                                 ") was cancelled."));
  Complete(actor, task_id, nullptr, &error);
}

void ActorTaskSubmitter::FailAll(const std::string& reason) {
  for (auto& [id, actor] : actors_) FailPending(actor, reason);
}

}  // namespace moray::core
