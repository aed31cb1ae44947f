#include "core_worker/core_worker.h"

#include <unistd.h>

#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "spdlog/spdlog.h"

namespace moray::core {
namespace {

proto::ErrorInfo MakeError(proto::ErrorType type, std::string message) {
  proto::ErrorInfo error;
  error.set_type(type);
  error.set_message(std::move(message));
  return error;
}

absl::Time DeadlineFor(absl::Duration timeout) {
  return timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
}

}  // namespace

CoreWorker::CoreWorker(CoreWorkerOptions options)
    : options_(std::move(options)),
      references_([this](const std::string& id) { OnObjectFreed(id); }) {
  context_.is_driver = options_.is_driver;
  context_.worker_id = options_.worker_id.empty() ? RandomBytes(kUniqueIdSize) : options_.worker_id;
  context_.job_id = options_.job_id;
  context_.pid = getpid();
  context_.loop = &loop_;
  context_.store = &store_;
  context_.references = &references_;
  context_.events = &events_;
  submitter_ = std::make_unique<NormalTaskSubmitter>(&context_, options_.submitter);
  if (!options_.is_driver) {
    executor_ = std::make_unique<TaskExecutor>(
        &context_, [this](const std::vector<std::string>& ids, const std::vector<proto::Address>& owners) {
          StartFetches(ids, &owners);
          return Get(ids, absl::InfiniteDuration());
        });
  }
}

absl::StatusOr<std::unique_ptr<CoreWorker>> CoreWorker::Create(CoreWorkerOptions options) {
  std::unique_ptr<CoreWorker> worker(new CoreWorker(std::move(options)));
  if (auto status = worker->Connect(); !status.ok()) return status;
  return worker;
}

absl::Status CoreWorker::Connect() {
  loop_.StartThread(context_.is_driver ? "moray_driver_io" : "moray_worker_io");
  auto server = rpc::Server::Listen(&loop_, options_.node_ip, 0,
                                    [this](std::shared_ptr<rpc::Connection> conn) {
                                      conn->SetHandlers(
                                          [this](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& f) {
                                            OnIncoming(c, std::move(f));
                                          },
                                          [this](const std::shared_ptr<rpc::Connection>& c) {
                                            if (executor_) executor_->OnOwnerDisconnected(c);
                                          });
                                    });
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  context_.address.set_ip(options_.node_ip);
  context_.address.set_port(server_->port());
  context_.address.set_worker_id(context_.worker_id);

  std::string raylet = absl::StrCat(options_.raylet_host, ":", options_.raylet_port);
  auto conn = rpc::Connection::Connect(&loop_, options_.raylet_host, options_.raylet_port,
                                       options_.connect_timeout);
  if (!conn.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the Moray raylet at ", raylet, ": ",
                                               conn.status().message()));
  }
  context_.raylet = *conn;
  context_.raylet->SetHandlers(
      [](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
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
  request.set_worker_id(context_.worker_id);
  request.set_pid(context_.pid);
  *request.mutable_address() = context_.address;
  if (context_.is_driver) *request.mutable_job() = options_.job;
  auto promise = std::make_shared<std::promise<std::pair<absl::Status, rpc::Frame>>>();
  auto future = promise->get_future();
  context_.raylet->Call(proto::REGISTER_CLIENT, request,
                        [promise](absl::Status status, rpc::Frame&& frame) {
                          promise->set_value({status, std::move(frame)});
                        });
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    return absl::DeadlineExceededError(
        absl::StrCat("the raylet at ", raylet, " did not answer the registration within 60 s"));
  }
  auto [status, frame] = future.get();
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the raylet at ", raylet, " closed the connection during registration"));
  }
  proto::RegisterClientReply reply;
  if (auto parsed = frame.ParseBody(&reply); !parsed.ok()) return parsed;
  if (!reply.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the raylet at ", raylet, " refused the registration: ", reply.error()));
  }
  context_.node_id = reply.node_id();
  context_.address.set_node_id(reply.node_id());
  if (context_.is_driver) context_.job_id = reply.job_id();
  context_.address_string = AddressToString(context_.address);
  gcs_address_ = reply.gcs_address();
  session_dir_ = reply.session_dir();

  loop_.Post([this] { FlushEvents(); });
  if (context_.is_driver) {
    driver_task_id_ = NewTaskId(context_.job_id);
    RecordDriverTask(proto::RUNNING);
  }
  return absl::OkStatus();
}

CoreWorker::~CoreWorker() { Shutdown(); }

void CoreWorker::Shutdown() {
  if (shut_down_.exchange(true)) return;
  if (context_.is_driver && !driver_task_id_.empty()) RecordDriverTask(proto::FINISHED);
  if (executor_) executor_->Stop();
  // Flush what is buffered and say goodbye on the loop, then wait for a barrier posted after the
  // writes, so they reach the socket before the loop stops.
  auto flushed = std::make_shared<std::promise<void>>();
  loop_.Post([this, flushed] {
    context_.shutting_down = true;
    if (flush_timer_) loop_.CancelTimer(flush_timer_);
    int64_t dropped = 0;
    auto batch = events_.TakeBatch(&dropped);
    if (context_.raylet) {
      if (!batch.empty()) {
        proto::ReportTaskEventsRequest report;
        for (auto& e : batch) *report.add_events() = std::move(e);
        report.set_dropped(dropped);
        context_.raylet->Send(proto::REPORT_TASK_EVENTS, report);
      }
      proto::DisconnectClientRequest bye;
      bye.set_reason("intended exit");
      context_.raylet->Send(proto::DISCONNECT_CLIENT, bye);
    }
    server_.reset();
    flushed->set_value();
  });
  flushed->get_future().wait_for(std::chrono::seconds(5));
  auto barrier = std::make_shared<std::promise<void>>();
  loop_.Post([barrier] { barrier->set_value(); });
  barrier->get_future().wait_for(std::chrono::seconds(5));
  loop_.Stop();
  store_.WakeAll();
}

void CoreWorker::OnObjectFreed(const std::string& id) {
  auto object = store_.Find(id);
  if (object && object->is_error()) {
    bool observed;
    {
      std::lock_guard<std::mutex> lock(observed_mutex_);
      observed = observed_errors_.erase(id) > 0;
    }
    if (!observed) {
      spdlog::error("Unhandled error in object {} (its last reference was released without a Get): {}",
                    ToHex(id), object->error.message());
    }
  }
  store_.Delete(id);
}

std::string CoreWorker::CurrentTaskId() const {
  if (executor_) {
    std::string current = executor_->CurrentTaskId();
    if (!current.empty()) return current;
  }
  return driver_task_id_;
}

std::string CoreWorker::Put(std::string data) {
  std::string task_id = CurrentTaskId();
  if (task_id.empty()) task_id = NewTaskId(context_.job_id);
  std::string id = ObjectIdForPut(task_id, put_index_.fetch_add(1));
  references_.AddOwned(id);
  StoredObject object;
  object.data = std::make_shared<ray::internal::StringBuffer>(std::move(data));
  store_.Put(id, std::move(object));
  return id;
}

void CoreWorker::StartFetches(const std::vector<std::string>& ids,
                              const std::vector<proto::Address>* owners) {
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    if (store_.Find(id) || references_.IsOwned(id)) continue;
    proto::Address owner;
    if (owners) {
      owner = (*owners)[i];
    } else {
      std::lock_guard<std::mutex> lock(borrowed_mutex_);
      auto it = borrowed_owners_.find(id);
      if (it == borrowed_owners_.end()) {
        store_.Put(id, {nullptr, MakeError(proto::OBJECT_UNRECONSTRUCTABLE,
                                           absl::StrCat("Object ", ToHex(id),
                                                        " is unknown to this process and has no "
                                                        "known owner; it was freed or never existed."))});
        continue;
      }
      owner = it->second;
    }
    loop_.Post([this, id, owner] { FetchFromOwner(id, owner); });
  }
}

void CoreWorker::FetchFromOwner(const std::string& id, const proto::Address& owner) {
  if (store_.Find(id) || !fetch_started_.insert(id).second) return;
  std::string key = AddressToString(owner);
  auto lost = [this, id, key](const std::string& why) {
    fetch_started_.erase(id);
    store_.Put(id, {nullptr, MakeError(proto::OBJECT_UNRECONSTRUCTABLE,
                                       absl::StrCat("Failed to get object ", ToHex(id),
                                                    ": its owner (", key, ") ", why,
                                                    ". The object is lost."))});
  };
  if (owner.worker_id() == context_.worker_id) {
    lost("is this process, which no longer holds it (all references were released)");
    return;
  }
  auto& conn = owner_conns_[key];
  if (!conn || conn->closed()) {
    auto connected = rpc::Connection::Connect(&loop_, owner.ip(), owner.port(), absl::Seconds(5));
    if (!connected.ok()) {
      owner_conns_.erase(key);
      lost("cannot be reached and has probably died");
      return;
    }
    conn = *connected;
    conn->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                      [this, key](const std::shared_ptr<rpc::Connection>&) {
                        OnOwnerConnectionClosed(key);
                      });
  }
  proto::GetObjectRequest request;
  request.set_object_id(id);
  conn->Call(proto::GET_OBJECT, request, [this, id, lost](absl::Status status, rpc::Frame&& frame) {
    proto::GetObjectReply reply;
    if (!status.ok()) {
      lost("has died");
      return;
    }
    if (!frame.ParseBody(&reply).ok() || !reply.found()) {
      lost("no longer has it (it was freed)");
      return;
    }
    StoredObject object;
    if (reply.object().error().type() != proto::ERROR_NONE) {
      object.error = reply.object().error();
    } else {
      object.data = std::make_shared<ray::internal::StringBuffer>(
          std::move(*reply.mutable_object()->mutable_data()));
    }
    fetch_started_.erase(id);
    store_.Put(id, std::move(object));
  });
}

void CoreWorker::OnOwnerConnectionClosed(const std::string& owner_key) {
  owner_conns_.erase(owner_key);
}

void CoreWorker::SetBlocked(bool blocked) {
  proto::BlockedRequest request;
  request.set_worker_id(context_.worker_id);
  context_.raylet->Send(blocked ? proto::NOTIFY_BLOCKED : proto::NOTIFY_UNBLOCKED, request);
}

absl::StatusOr<std::vector<StoredObject>> CoreWorker::Get(const std::vector<std::string>& ids,
                                                          absl::Duration timeout) {
  StartFetches(ids, nullptr);
  auto ready = store_.WaitAll(ids, absl::InfinitePast());
  if (!ready) {
    // Blocking: a worker inside a task lends its CPU to the scheduler while it waits.
    bool lend = executor_ && executor_->InTask();
    if (lend) SetBlocked(true);
    ready = store_.WaitAll(ids, DeadlineFor(timeout));
    if (lend) SetBlocked(false);
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

std::vector<bool> CoreWorker::Wait(const std::vector<std::string>& ids, int num_objects,
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

std::string CoreWorker::SubmitTask(proto::TaskSpec spec) {
  std::string task_id = NewTaskId(context_.job_id);
  spec.set_task_id(task_id);
  spec.set_job_id(context_.job_id);
  spec.set_parent_task_id(CurrentTaskId());
  *spec.mutable_owner() = context_.address;
  if (spec.num_returns() == 0) spec.set_num_returns(1);
  if (spec.resources().empty()) (*spec.mutable_resources())["CPU"] = 1;
  for (auto& arg : *spec.mutable_args()) {
    if (!arg.is_ref()) continue;
    if (references_.IsOwned(arg.object_id())) {
      *arg.mutable_owner() = context_.address;
      references_.AddSubmittedTaskReference(arg.object_id());
    } else {
      std::lock_guard<std::mutex> lock(borrowed_mutex_);
      auto it = borrowed_owners_.find(arg.object_id());
      if (it != borrowed_owners_.end()) *arg.mutable_owner() = it->second;
    }
  }
  std::string return_id = ObjectIdForReturn(task_id, 1);
  references_.AddOwned(return_id);
  submitter_->Submit(std::move(spec));
  return return_id;
}

void CoreWorker::AddLocalReference(const std::string& id) { references_.AddLocalReference(id); }

void CoreWorker::RemoveLocalReference(const std::string& id) {
  references_.RemoveLocalReference(id);
}

std::string CoreWorker::OwnerAddressOf(const std::string& id) {
  if (references_.IsOwned(id)) {
    references_.Pin(id);
    return context_.address_string;
  }
  std::lock_guard<std::mutex> lock(borrowed_mutex_);
  auto it = borrowed_owners_.find(id);
  return it == borrowed_owners_.end() ? std::string() : AddressToString(it->second);
}

void CoreWorker::RegisterBorrowedReference(const std::string& id, const std::string& owner_address) {
  proto::Address owner;
  if (references_.IsOwned(id) || !AddressFromString(owner_address, &owner)) return;
  std::lock_guard<std::mutex> lock(borrowed_mutex_);
  borrowed_owners_.emplace(id, owner);
}

void CoreWorker::RunTaskLoop(const TaskExecutor::ExecuteFn& execute) {
  if (executor_) executor_->RunLoop(execute);
}

void CoreWorker::OnIncoming(const std::shared_ptr<rpc::Connection>& conn, rpc::Frame&& frame) {
  switch (frame.method) {
    case proto::PUSH_TASKS:
      if (executor_) {
        executor_->OnPushTasks(conn, std::move(frame));
      } else {
        spdlog::warn("a driver received pushed tasks from {}; ignored", conn->peer());
      }
      break;
    case proto::GET_OBJECT:
      ServeGetObject(conn, frame);
      break;
    default:
      spdlog::warn("unexpected method {} from {}", frame.method, conn->peer());
  }
}

void CoreWorker::ServeGetObject(const std::shared_ptr<rpc::Connection>& conn,
                                const rpc::Frame& frame) {
  proto::GetObjectRequest request;
  if (!frame.ParseBody(&request).ok()) return;
  rpc::Frame header{frame.method, frame.flags, frame.seq, {}};
  auto respond = [conn, header, id = request.object_id()](const StoredObject& object) {
    proto::GetObjectReply reply;
    reply.set_found(true);
    auto* out = reply.mutable_object();
    out->set_object_id(id);
    if (object.is_error()) {
      *out->mutable_error() = object.error;
    } else {
      out->set_data(object.data->Data(), object.data->Size());
    }
    conn->Reply(header, reply);
  };
  if (auto object = store_.Find(request.object_id())) {
    respond(*object);
  } else if (references_.IsOwned(request.object_id())) {
    store_.OnReady(request.object_id(), respond);  // replies once the producing task finishes
  } else {
    proto::GetObjectReply reply;
    reply.set_found(false);
    conn->Reply(header, reply);
  }
}

void CoreWorker::FlushEvents() {
  int64_t dropped = 0;
  auto batch = events_.TakeBatch(&dropped);
  if (!batch.empty() || dropped > 0) {
    proto::ReportTaskEventsRequest report;
    report.mutable_events()->Reserve(static_cast<int>(batch.size()));
    for (auto& e : batch) *report.add_events() = std::move(e);
    report.set_dropped(dropped);
    context_.raylet->Send(proto::REPORT_TASK_EVENTS, report);
  }
  if (!context_.shutting_down) {
    flush_timer_ = loop_.RunAfter(options_.event_flush_interval, [this] { FlushEvents(); });
  }
}

void CoreWorker::RecordDriverTask(proto::TaskState state) {
  proto::TaskEvent event;
  event.set_task_id(driver_task_id_);
  event.set_job_id(context_.job_id);
  event.set_state(state);
  event.set_timestamp_ns(NowNs());
  event.set_has_descriptive_fields(true);
  event.set_name("driver");
  event.set_func_or_class_name("driver");
  event.set_type(proto::DRIVER_TASK);
  event.set_node_id(context_.node_id);
  event.set_worker_id(context_.worker_id);
  event.set_worker_pid(context_.pid);
  events_.Record(std::move(event));
}

}  // namespace moray::core
