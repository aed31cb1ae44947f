#include "core_worker/core_worker.h"

#include <unistd.h>

#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "core_worker/object_snapshot.h"
#include "core_worker/serialized_refs.h"
#include "core_worker/task_common.h"
#include "core_worker/task_placement.h"
#include "spdlog/spdlog.h"

namespace moray::core {
namespace {

absl::Time DeadlineFor(absl::Duration timeout) {
  return timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
}

}  // namespace

CoreWorker::CoreWorker(CoreWorkerOptions options)
    : options_(std::move(options)),
      references_(ReferenceCounter::Callbacks{
          [this](const ObjectId& id) { OnObjectFreed(id); },
          [this](const ObjectId& id, const rpc::Address& owner, int64_t held) {
            OnBorrowedReleased(id, owner, held);
          }}) {
  context_.is_driver = options_.is_driver;
  context_.worker_id = options_.worker_id.IsNil() ? WorkerId::FromRandom() : options_.worker_id;
  context_.job_id = options_.job_id;
  context_.pid = getpid();
  context_.loop = &loop_;
  context_.store = &store_;
  context_.references = &references_;
  context_.events = &events_;
  pool_ = std::make_unique<rpc::ConnectionPool>(&loop_, &service_);
  context_.pool = pool_.get();
  context_.service = &service_;
  submitter_ = std::make_unique<NormalTaskSubmitter>(&context_, options_.submitter);
  if (!options_.is_driver) {
    executor_ = std::make_unique<TaskExecutor>(&context_, this, options_.on_cancel_running);
  }
  RegisterMethods();
}

absl::StatusOr<std::unique_ptr<CoreWorker>> CoreWorker::Create(CoreWorkerOptions options) {
  std::unique_ptr<CoreWorker> worker(new CoreWorker(std::move(options)));
  if (auto status = worker->Connect(); !status.ok()) return status;
  return worker;
}

absl::Status CoreWorker::Connect() {
  loop_.StartThread(context_.is_driver ? "moray_driver_io" : "moray_worker_io");
  // Other core workers (owners pushing tasks, borrowers fetching) and the GCS (actors).
  auto server = rpc::Server::Listen(&loop_, options_.node_ip, 0,
                                    [this](std::shared_ptr<rpc::Connection> conn) {
                                      conn->SetHandlers(
                                          [this](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& f) {
                                            service_.Dispatch(c, std::move(f));
                                          },
                                          [this](const std::shared_ptr<rpc::Connection>& c) {
                                            if (executor_) executor_->OnOwnerDisconnected(c);
                                            auto b = borrower_conns_.find(c.get());
                                            if (b != borrower_conns_.end()) {
                                              // A borrower died: its registrations go too.
                                              const rpc::Address borrower = b->second;
                                              borrower_conns_.erase(b);
                                              references_.DropBorrower(borrower);
                                            }
                                          });
                                    },
                                    rpc::kCoreWorkers | rpc::RoleBit(proto::ROLE_GCS));
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  context_.address.endpoint = rpc::Endpoint{options_.node_ip, server_->port()};
  context_.address.worker_id = context_.worker_id;
  context_.address_proto = context_.address.ToProto();

  std::string raylet = absl::StrCat(options_.raylet_host, ":", options_.raylet_port);
  auto conn = rpc::Connection::Connect(&loop_, options_.raylet_host, options_.raylet_port,
                                       options_.connect_timeout);
  if (!conn.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the Moray raylet at ", raylet, ": ",
                                               conn.status().message()));
  }
  context_.raylet = *conn;
  context_.raylet->SetHandlers(
      [this](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& f) {
        service_.Dispatch(c, std::move(f));
      },
      [this, raylet](const std::shared_ptr<rpc::Connection>&) {
        if (context_.shutting_down) return;
        if (executor_) {
          spdlog::info("the raylet closed the connection; this worker exits");
          executor_->Stop();
        } else {
          spdlog::error("lost the connection to the raylet at {}", raylet);
          submitter_->FailAll(absl::StrCat("The local raylet at ", raylet,
                                           " exited, so the task could not finish."));
        }
      });

  proto::RegisterClientRequest request;
  request.set_is_driver(context_.is_driver);
  request.set_worker_id(context_.worker_id.Binary());
  request.set_pid(context_.pid);
  *request.mutable_address() = context_.address_proto;
  if (context_.is_driver) *request.mutable_job() = options_.job;
  auto promise = std::make_shared<std::promise<std::pair<absl::Status, rpc::Frame>>>();
  auto future = promise->get_future();
  context_.raylet->Call(proto::RAYLET_REGISTER_CLIENT, request,
                        [promise](absl::Status status, rpc::Frame&& frame) {
                          promise->set_value({status, std::move(frame)});
                        });
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    return absl::DeadlineExceededError(
        absl::StrCat("the raylet at ", raylet, " did not answer the registration within 60 s"));
  }
  auto [status, frame] = future.get();
  if (rpc::IsConnectionFailure(*context_.raylet, status)) {
    // Refused at the handshake (token, version, role), or gone: the code says which.
    return absl::Status(status.code(),
                        absl::StrCat("the raylet at ", raylet,
                                     " closed the connection during registration: ",
                                     status.message()));
  }
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("the raylet at ", raylet,
                                                    " refused the registration: ",
                                                    status.message()));
  }
  proto::RegisterClientReply reply;
  if (auto parsed = frame.ParseBody(&reply); !parsed.ok()) return parsed;
  context_.node_id = NodeId::FromBinary(reply.node_id());
  context_.address.node_id = context_.node_id;
  context_.address_proto = context_.address.ToProto();
  context_.address_string = context_.address.ToString();
  if (context_.is_driver) context_.job_id = JobId::FromBinary(reply.job_id());
  if (context_.node_id.IsNil() || context_.job_id.IsNil()) {
    return absl::InternalError(absl::StrCat("the raylet at ", raylet,
                                            " answered the registration without a node or job id"));
  }
  gcs_address_ = reply.gcs_address();
  rpc::Endpoint gcs_actors;  // the GCS's one port serves actors too
  if (!reply.gcs_address().empty()) {
    auto parsed = rpc::Endpoint::Parse(reply.gcs_address());
    if (!parsed.ok()) {
      return absl::InternalError(absl::StrCat("the raylet at ", raylet, " gave a GCS address ",
                                              parsed.status().message()));
    }
    gcs_actors = *std::move(parsed);
  }
  actor_submitter_ = std::make_unique<ActorTaskSubmitter>(&context_, std::move(gcs_actors));
  session_dir_ = reply.session_dir();
  if (!reply.store_socket().empty()) {
    auto plasma = object_store::StoreClient::Connect(reply.store_socket());
    if (!plasma.ok()) {
      return absl::UnavailableError(absl::StrCat("cannot reach the node's object store at ",
                                                 reply.store_socket(), ": ",
                                                 plasma.status().message()));
    }
    plasma_ = std::move(*plasma);
    context_.plasma = plasma_.get();
    context_.inline_object_memory = reply.inline_object_memory();
  }

  if (context_.is_driver && options_.log_to_driver && !reply.gcs_address().empty()) {
    // Worker output of this job: subscribed on every (re)connection of the GCS channel, which
    // the event flush below opens at once and keeps open.
    log_printer_ = std::make_unique<WorkerLogPrinter>(&loop_, context_.node_id);
    actor_submitter_->SetGcsChannelHooks(
        [job_id = context_.job_id](const std::shared_ptr<rpc::Connection>& conn) {
          proto::SubscribeWorkerLogsRequest subscribe;
          subscribe.set_job_id(job_id.Binary());
          conn->Send(proto::SUBSCRIBE_WORKER_LOGS, subscribe);
        },
        [this](rpc::Frame&& frame) {
          if (frame.method != proto::WORKER_LOGS) return;
          proto::WorkerLogBatch batch;
          if (frame.ParseBody(&batch).ok()) log_printer_->OnBatch(batch);
        });
  }
  // Subscribed now, before this driver submits anything (the channel opens lazily otherwise).
  if (log_printer_) loop_.Post([this] { (void)actor_submitter_->GcsChannel(); });
  loop_.Post([this] { FlushEvents(); });
  loop_.Post([this] {
    objects_timer_ = loop_.RunAfter(options_.object_report_interval, [this] { ReportObjects(); });
  });
  if (context_.is_driver) {
    driver_task_id_ = NewTaskId(context_.job_id);
    RecordDriverTask(proto::RUNNING);
  }
  return absl::OkStatus();
}

CoreWorker::~CoreWorker() { Shutdown(); }

void CoreWorker::Shutdown() {
  if (shut_down_.exchange(true)) return;
  if (context_.is_driver && !driver_task_id_.IsNil()) RecordDriverTask(proto::FINISHED);
  if (executor_) executor_->Stop();
  // Flush what is buffered and say goodbye on the loop, then wait for a barrier posted after the
  // writes, so they reach the socket before the loop stops.
  auto flushed = std::make_shared<std::promise<void>>();
  loop_.Post([this, flushed] {
    context_.shutting_down = true;
    if (flush_timer_) loop_.CancelTimer(flush_timer_);
    if (objects_timer_) loop_.CancelTimer(objects_timer_);
    if (log_printer_) log_printer_->Finish();  // the folded repeats not printed yet
    if (context_.raylet) {
      events_.Flush([this](const proto::ReportTaskEventsRequest& batch) { SendEvents(batch); });
      proto::DisconnectClientRequest bye;
      bye.set_reason("intended exit");
      context_.raylet->Send(proto::RAYLET_DISCONNECT_CLIENT, bye);
    }
    server_.reset();
    flushed->set_value();
  });
  flushed->get_future().wait_for(std::chrono::seconds(5));
  auto barrier = std::make_shared<std::promise<void>>();
  loop_.Post([barrier] { barrier->set_value(); });
  barrier->get_future().wait_for(std::chrono::seconds(5));
  loop_.Stop();
  store_.Shutdown();
}

void CoreWorker::OnObjectFreed(const ObjectId& id) {
  submitter_->DropLineage(id);
  {
    std::lock_guard<std::mutex> lock(observed_mutex_);
    if (auto actor = ActorOfHandle(id); actor && owned_actors_.erase(*actor) > 0) {
      // The last handle anywhere is gone: a non-detached actor ends (the GCS decides).
      if (actor_submitter_ && !context_.shutting_down) {
        actor_submitter_->KillActor(*actor, /*no_restart=*/true, proto::ACTOR_DEATH_OUT_OF_SCOPE);
      }
      return;
    }
  }
  auto object = store_.Find(id);
  if (object && object->is_error()) {
    bool observed;
    {
      std::lock_guard<std::mutex> lock(observed_mutex_);
      observed = observed_errors_.erase(id) > 0;
    }
    if (!observed) {
      spdlog::error(
          "Unhandled error in object {} (its last reference was released without a Get): {}",
          id.Hex(), object->error.message());
    }
  }
  if (object && object->in_plasma) {
    if (plasma_) (void)plasma_->Delete({id});  // the copy on this node, if any
    if (!object->node_id.IsNil() && object->node_id != context_.node_id && context_.raylet) {
      // The copy where it was made: that node's raylet drops it (via ours, which knows where).
      proto::FreeObjectsRequest free;
      free.set_node_id(object->node_id.Binary());
      free.add_object_ids(id.Binary());
      context_.raylet->Send(proto::RAYLET_FREE_OBJECTS, free);
    }
  }
  store_.Delete(id);
}

TaskId CoreWorker::CurrentTaskId() const {
  if (executor_) {
    const TaskId current = executor_->CurrentTaskId();
    if (!current.IsNil()) return current;
  }
  return driver_task_id_;
}

absl::StatusOr<std::vector<StoredObject>> CoreWorker::GetArgs(
    const std::vector<ObjectId>& ids, const std::vector<rpc::Address>& owners) {
  StartFetches(ids, &owners);
  return Get(ids, absl::InfiniteDuration());
}

void CoreWorker::SetBlocked(bool blocked) {
  proto::BlockedRequest request;
  request.set_worker_id(context_.worker_id.Binary());
  context_.raylet->Send(blocked ? proto::RAYLET_NOTIFY_BLOCKED : proto::RAYLET_NOTIFY_UNBLOCKED,
                        request);
}

absl::StatusOr<std::vector<StoredObject>> CoreWorker::Get(const std::vector<ObjectId>& ids,
                                                          absl::Duration timeout) {
  const absl::Time deadline = DeadlineFor(timeout);
  std::optional<std::vector<StoredObject>> ready;
  // More than one round only when objects lost with a node are being rebuilt from lineage.
  for (int round = 0; round < kMaxReconstructionRounds; ++round) {
    StartFetches(ids, nullptr);
    ready = store_.WaitAll(ids, absl::InfinitePast());
    if (!ready) {
      // Blocking: a worker inside a task lends its CPU to the scheduler while it waits.
      bool lend = executor_ && executor_->InTask();
      if (lend) SetBlocked(true);
      ready = store_.WaitAll(ids, deadline);
      if (lend) SetBlocked(false);
    }
    if (!ready) break;
    bool rebuilding = false;
    const bool last_round = round + 1 == kMaxReconstructionRounds;
    if (auto resolved = ResolvePlasma(ids, &*ready, deadline, last_round ? nullptr : &rebuilding);
        !resolved.ok()) {
      return resolved;
    }
    if (!rebuilding) break;
  }
  if (ready) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if ((*ready)[i].is_error() && references_.IsOwned(ids[i])) {
        std::lock_guard<std::mutex> lock(observed_mutex_);
        observed_errors_.insert(ids[i]);
      }
    }
  } else {
    return absl::DeadlineExceededError(
        absl::StrCat("Get timed out: some of ", ids.size(), " object(s) were not ready within ",
                     absl::FormatDuration(timeout)));
  }
  return std::move(*ready);
}

std::vector<bool> CoreWorker::Wait(const std::vector<ObjectId>& ids, int num_objects,
                                   absl::Duration timeout) {
  StartFetches(ids, nullptr);
  auto ready = store_.WaitSome(ids, num_objects, absl::InfinitePast());
  if (static_cast<int>(std::count(ready.begin(), ready.end(), true)) >= num_objects) return ready;
  bool lend = executor_ && executor_->InTask();
  if (lend) SetBlocked(true);
  ready = store_.WaitSome(ids, num_objects, DeadlineFor(timeout));
  if (lend) SetBlocked(false);
  return ready;
}

absl::StatusOr<ActorId> CoreWorker::CreateActor(proto::TaskSpec spec, proto::ActorInfo info,
                                                bool get_if_exists) {
  if (!actor_submitter_) return absl::UnavailableError("this process cannot use actors");
  FillTaskIdentity(&spec);
  if (executor_)
    InheritPlacementGroup(executor_->CapturedStrategy(), spec.mutable_scheduling_strategy());
  const ActorId actor_id = NewActorId(context_.job_id);
  const ObjectId handle = ActorHandleId(actor_id);
  spec.set_type(proto::ACTOR_CREATION_TASK);
  spec.set_actor_id(actor_id.Binary());
  PrepareArgs(&spec);
  info.set_actor_id(actor_id.Binary());
  info.set_job_id(context_.job_id.Binary());
  *info.mutable_owner_address() = context_.address_proto;
  info.mutable_required_resources()->insert(spec.resources().begin(), spec.resources().end());
  // Owned from the start, so a handle made from the id counts at once.
  references_.AddOwned(handle);
  auto created = actor_submitter_->CreateActor(spec, info, get_if_exists);
  const ActorId created_id = created.ok() ? ActorId::FromBinary(created->actor_id()) : ActorId();
  if (!created.ok() || created_id != actor_id) {
    // Not created here: nothing will run the creation task, so release what it held, and the id.
    ReleaseTaskArgs(&context_, spec);
    references_.AddLocalReference(handle);
    references_.RemoveLocalReference(handle);
  }
  if (!created.ok()) return created.status();
  if (created_id != actor_id) {
    // get_if_exists found another live actor: borrowed, not owned.
    references_.AddBorrowed(ActorHandleId(created_id),
                            rpc::Address::FromProto(created->owner_address()));
    return created_id;
  }
  {
    std::lock_guard<std::mutex> lock(observed_mutex_);
    owned_actors_.insert(actor_id);
  }
  // Its arguments stay held while the actor may still (re)run its factory.
  actor_submitter_->HoldCreationArgs(spec);
  RecordTaskEvent(&context_, spec, proto::PENDING_NODE_ASSIGNMENT, /*descriptive=*/true);
  return actor_id;
}

void CoreWorker::KillActor(const ActorId& actor_id, bool no_restart) {
  if (actor_submitter_) actor_submitter_->KillActor(actor_id, no_restart, proto::ACTOR_DEATH_KILLED);
}

absl::StatusOr<std::optional<proto::ActorInfo>> CoreWorker::GetNamedActor(
    const std::string& name, const std::string& ray_namespace) {
  if (!actor_submitter_) return absl::UnavailableError("this process cannot use actors");
  auto found = actor_submitter_->GetNamedActor(name, ray_namespace);
  if (found.ok() && found->has_value()) {
    references_.AddBorrowed(ActorHandleId(ActorId::FromBinary((*found)->actor_id())),
                            rpc::Address::FromProto((*found)->owner_address()));
  }
  return found;
}

void CoreWorker::AddLocalReference(const ObjectId& id) { references_.AddLocalReference(id); }

void CoreWorker::RemoveLocalReference(const ObjectId& id) { references_.RemoveLocalReference(id); }

std::vector<size_t> CoreWorker::LocalObjectCounts() const {
  size_t owned = references_.NumOwned();
  size_t tracked = references_.NumTracked();  // read separately: clamp a concurrent change
  size_t store_used = 0;
  if (plasma_) {
    auto stats = plasma_->Stats();
    if (stats.ok()) store_used = static_cast<size_t>(stats->used());
  }
  return {owned, tracked > owned ? tracked - owned : 0, store_.size(), store_used,
          static_cast<size_t>(std::max<int64_t>(0, store_.bytes()))};
}

void CoreWorker::RunTaskLoop(const TaskExecutor::ExecuteFn& execute) {
  if (executor_) executor_->RunLoop(execute);
}

void CoreWorker::SendEvents(const proto::ReportTaskEventsRequest& batch) {
  // Straight to the GCS; through the raylet (which relays them) if the GCS cannot be reached.
  auto gcs = actor_submitter_ ? actor_submitter_->GcsChannel() : nullptr;
  if (gcs) {
    gcs->Send(proto::REPORT_TASK_EVENTS, batch);
  } else {
    context_.raylet->Send(proto::RAYLET_REPORT_TASK_EVENTS, batch);
  }
}

void CoreWorker::FlushEvents() {
  events_.Flush([this](const proto::ReportTaskEventsRequest& batch) { SendEvents(batch); });
  if (!context_.shutting_down) {
    flush_timer_ = loop_.RunAfter(options_.event_flush_interval, [this] { FlushEvents(); });
  }
}

void CoreWorker::ReportObjects() {
  objects_timer_ = 0;
  if (context_.shutting_down) return;
  proto::WorkerObjects snapshot = BuildObjectSnapshot(
      references_, store_, [this](const TaskId& task_id) { return submitter_->StateOf(task_id); },
      options_.max_reported_objects);
  // Identity: the raylet overrides worker, node, job and pid with what it registered.
  snapshot.set_worker_id(context_.worker_id.Binary());
  snapshot.set_node_id(context_.node_id.Binary());
  snapshot.set_job_id(context_.job_id.Binary());
  snapshot.set_pid(context_.pid);
  snapshot.set_ip(context_.address.endpoint.ip);
  snapshot.set_is_driver(context_.is_driver);
  std::string serialized = snapshot.SerializeAsString();
  // A process that never tracked an object sends nothing at all.
  bool nothing_yet = last_objects_report_.empty() && snapshot.objects_size() == 0 &&
                     snapshot.num_truncated() == 0;
  if (serialized != last_objects_report_ && !nothing_yet) {
    context_.raylet->Send(proto::RAYLET_REPORT_OBJECTS, snapshot);
    last_objects_report_ = std::move(serialized);
  }
  objects_timer_ = loop_.RunAfter(options_.object_report_interval, [this] { ReportObjects(); });
}

void CoreWorker::RecordDriverTask(proto::TaskState state) {
  events_.Record(driver_task_id_, 0, [&](proto::TaskEvent& event) {
    event.set_job_id(context_.job_id.Binary());
    event.set_state(state);
    event.set_timestamp_ns(NowNs());
    event.set_has_descriptive_fields(true);
    event.set_name("driver");
    event.set_func_or_class_name("driver");
    event.set_type(proto::DRIVER_TASK);
    event.set_node_id(context_.node_id.Binary());
    event.set_worker_id(context_.worker_id.Binary());
    event.set_worker_pid(context_.pid);
  });
}

}  // namespace moray::core
