#include "core_worker/core_worker.h"

#include <unistd.h>

#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "core_worker/object_snapshot.h"
#include "spdlog/spdlog.h"

namespace moray::core {
namespace {

proto::ErrorInfo MakeError(proto::ErrorType type, std::string message) {
  proto::ErrorInfo error;
  error.set_type(type);
  error.set_message(std::move(message));
  return error;
}

// Refs serialized into a value on this thread since the last Take: the message that carries the
// value lists them (see ReferenceCounter).
thread_local std::vector<proto::NestedRef> serialized_refs;

std::vector<proto::NestedRef> TakeSerializedRefs() {
  std::vector<proto::NestedRef> refs;
  refs.swap(serialized_refs);
  return refs;
}

absl::Time DeadlineFor(absl::Duration timeout) {
  return timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
}

}  // namespace

CoreWorker::CoreWorker(CoreWorkerOptions options)
    : options_(std::move(options)),
      references_(ReferenceCounter::Callbacks{
          [this](const std::string& id) { OnObjectFreed(id); },
          [this](const std::string& id, const proto::Address& owner, int64_t held) {
            OnBorrowedReleased(id, owner, held);
          }}) {
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
    executor_ = std::make_unique<TaskExecutor>(&context_, this);
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
                                            auto b = borrower_conns_.find(c.get());
                                            if (b != borrower_conns_.end()) {
                                              // A borrower died: its registrations go too.
                                              std::string key = b->second;
                                              borrower_conns_.erase(b);
                                              references_.DropBorrower(key);
                                            }
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
  if (!reply.store_socket().empty()) {
    auto plasma = object_store::StoreClient::Connect(reply.store_socket());
    if (!plasma.ok()) {
      return absl::UnavailableError(absl::StrCat("cannot reach the node's object store at ",
                                                 reply.store_socket(), ": ",
                                                 plasma.status().message()));
    }
    plasma_ = std::move(*plasma);
    context_.plasma = plasma_.get();
  }

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
  if (context_.is_driver && !driver_task_id_.empty()) RecordDriverTask(proto::FINISHED);
  if (executor_) executor_->Stop();
  // Flush what is buffered and say goodbye on the loop, then wait for a barrier posted after the
  // writes, so they reach the socket before the loop stops.
  auto flushed = std::make_shared<std::promise<void>>();
  loop_.Post([this, flushed] {
    context_.shutting_down = true;
    if (flush_timer_) loop_.CancelTimer(flush_timer_);
    if (objects_timer_) loop_.CancelTimer(objects_timer_);
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
  store_.Shutdown();
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
  if (object && object->in_plasma && plasma_) (void)plasma_->Delete({id});
  store_.Delete(id);
}

std::string CoreWorker::CurrentTaskId() const {
  if (executor_) {
    std::string current = executor_->CurrentTaskId();
    if (!current.empty()) return current;
  }
  return driver_task_id_;
}

std::string CoreWorker::NewPutId() {
  std::string task_id = CurrentTaskId();
  if (task_id.empty()) task_id = NewTaskId(context_.job_id);
  std::string id = ObjectIdForPut(task_id, put_index_.fetch_add(1));
  references_.AddOwned(id);
  std::vector<std::string> nested;
  auto refs = TakeSerializedRefs();
  for (const auto& ref : refs) nested.push_back(ref.object_id());
  references_.SetNested(id, nested);
  for (const auto& ref : refs) references_.RemoveSubmittedTaskReference(ref.object_id());
  return id;
}

absl::StatusOr<std::string> CoreWorker::Put(std::string data) {
  return PutImpl(data.size(), &data, nullptr);
}

absl::StatusOr<std::string> CoreWorker::PutWith(size_t size,
                                                const std::function<void(char*)>& write) {
  return PutImpl(size, nullptr, &write);
}

absl::StatusOr<std::string> CoreWorker::PutImpl(size_t size, std::string* data,
                                                const std::function<void(char*)>* write) {
  std::string id = NewPutId();
  StoredObject object;
  if (plasma_ && size > kInlineLimit) {
    // Large: written once, straight into shared memory.
    absl::Status status;
    if (data) {
      status = plasma_->Put(id, data->data(), size, context_.address);
    } else {
      auto span = plasma_->Create(id, size, context_.address);
      status = span.status();
      if (span.ok()) {
        (*write)(span->data());
        status = plasma_->Seal(id);
      }
    }
    if (!status.ok()) {
      references_.AddLocalReference(id);
      references_.RemoveLocalReference(id);  // nothing references it: forget it
      return status;
    }
    object.in_plasma = true;
    object.size = static_cast<int64_t>(size);
    object.node_id = context_.node_id;
  } else if (data) {
    object.data = std::make_shared<ray::internal::StringBuffer>(std::move(*data));
  } else {
    std::string bytes(size, '\0');
    (*write)(bytes.data());
    object.data = std::make_shared<ray::internal::StringBuffer>(std::move(bytes));
  }
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
      auto known = references_.OwnerOf(id);
      if (!known) {
        store_.Put(id, {nullptr, MakeError(proto::OBJECT_UNRECONSTRUCTABLE,
                                           absl::StrCat("Object ", ToHex(id),
                                                        " is unknown to this process and has no "
                                                        "known owner; it was freed or never existed."))});
        continue;
      }
      owner = *known;
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
  auto conn = OwnerConnection(owner);
  if (!conn) {
    lost("cannot be reached and has probably died");
    return;
  }
  proto::GetObjectRequest request;
  request.set_object_id(id);
  *request.mutable_requester() = context_.address;
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
    } else if (reply.object().in_plasma()) {
      object.in_plasma = true;
      object.size = reply.object().size();
      object.node_id = reply.object().node_id();
    } else {
      object.data = std::make_shared<ray::internal::StringBuffer>(
          std::move(*reply.mutable_object()->mutable_data()));
    }
    fetch_started_.erase(id);
    // The owner registered this process for the refs inside the value before replying.
    references_.AcceptNested(id, reply.object().nested_refs(), context_.address_string);
    store_.Put(id, std::move(object));
    if (!references_.Tracks(id)) store_.Delete(id);  // released while the fetch was in flight
  });
}

std::shared_ptr<rpc::Connection> CoreWorker::OwnerConnection(const proto::Address& owner) {
  std::string key = AddressToString(owner);
  auto& conn = owner_conns_[key];
  if (!conn || conn->closed()) {
    auto connected = rpc::Connection::Connect(&loop_, owner.ip(), owner.port(), absl::Seconds(5));
    if (!connected.ok()) {
      owner_conns_.erase(key);
      return nullptr;
    }
    conn = *connected;
    conn->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                      [this, key](const std::shared_ptr<rpc::Connection>&) {
                        OnOwnerConnectionClosed(key);
                      });
  }
  return conn;
}

void CoreWorker::RegisterBorrowerAsync(const std::string& id, const proto::Address& owner,
                                       const proto::Address& borrower,
                                       std::function<void(bool)> done) {
  loop_.Post([this, id, owner, borrower, done = std::move(done)] {
    auto conn = OwnerConnection(owner);
    if (!conn) {
      done(false);
      return;
    }
    proto::BorrowerRequest request;
    request.set_object_id(id);
    *request.mutable_borrower() = borrower;
    request.set_count(1);
    *request.mutable_sender() = context_.address;
    conn->Call(proto::ADD_BORROWER, request, [done](absl::Status status, rpc::Frame&& frame) {
      proto::BorrowerReply reply;
      done(status.ok() && frame.ParseBody(&reply).ok() && reply.found());
    });
  });
}

bool CoreWorker::RegisterBorrowerSync(const std::string& id, const proto::Address& owner,
                                      const proto::Address& borrower) {
  auto result = std::make_shared<std::promise<bool>>();
  auto future = result->get_future();
  RegisterBorrowerAsync(id, owner, borrower, [result](bool ok) { result->set_value(ok); });
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return false;
  return future.get();
}

void CoreWorker::RegisterReceiver(const std::vector<proto::NestedRef>& refs,
                                  const proto::Address& receiver) {
  std::string receiver_key = AddressToString(receiver);
  for (const auto& ref : refs) {
    if (references_.AddBorrower(ref.object_id(), receiver_key, 1)) continue;  // owned here
    if (ref.owner().worker_id().empty()) continue;  // unknown owner: nothing to register with
    if (!RegisterBorrowerSync(ref.object_id(), ref.owner(), receiver)) {
      spdlog::warn("could not register a borrower of object {} with its owner {}",
                   ToHex(ref.object_id()), AddressToString(ref.owner()));
    }
  }
}

void CoreWorker::OnBorrowedReleased(const std::string& id, const proto::Address& owner,
                                    int64_t held) {
  store_.Delete(id);  // the cached copy
  if (held <= 0 || context_.shutting_down) return;
  loop_.Post([this, id, owner, held] {
    auto it = owner_conns_.find(AddressToString(owner));
    std::shared_ptr<rpc::Connection> conn =
        it != owner_conns_.end() && !it->second->closed() ? it->second : OwnerConnection(owner);
    if (!conn) return;  // the owner is gone, and its registrations with it
    proto::BorrowerRequest request;
    request.set_object_id(id);
    *request.mutable_borrower() = context_.address;
    request.set_count(held);
    *request.mutable_sender() = context_.address;
    conn->Send(proto::REMOVE_BORROWER, request);
  });
}

void CoreWorker::OnBorrowerMessage(const std::shared_ptr<rpc::Connection>& conn,
                                   const rpc::Frame& frame) {
  proto::BorrowerRequest request;
  if (!frame.ParseBody(&request).ok()) return;
  std::string borrower_key = AddressToString(request.borrower());
  if (request.borrower().worker_id() == request.sender().worker_id()) {
    borrower_conns_[conn.get()] = borrower_key;
  }
  if (frame.method == proto::ADD_BORROWER) {
    proto::BorrowerReply reply;
    reply.set_found(references_.AddBorrower(request.object_id(), borrower_key, request.count()));
    conn->Reply(frame, reply);
  } else {
    references_.RemoveBorrower(request.object_id(), borrower_key, request.count());
  }
}

absl::StatusOr<std::vector<StoredObject>> CoreWorker::GetArgs(
    const std::vector<std::string>& ids, const std::vector<proto::Address>& owners) {
  StartFetches(ids, &owners);
  return Get(ids, absl::InfiniteDuration());
}

void CoreWorker::AcquireTaskRefs(const proto::TaskSpec& spec) {
  // Anything serialized outside a task that no message carried: drop its in-transit holds.
  for (const auto& ref : TakeSerializedRefs()) {
    references_.RemoveSubmittedTaskReference(ref.object_id());
  }
  // By-reference arguments: the submitter holds them until the task is done; hold them here too
  // so values fetched for the task (and refs inside them) stay while it runs.
  for (const auto& arg : spec.args()) {
    if (arg.is_ref()) references_.HoldForTask(arg.object_id(), arg.owner());
  }
  // Refs nested in by-value arguments: the user code may keep them, so this process becomes a
  // borrower — registered with the owner before the task runs, while the submitter still holds
  // them.
  for (const auto& ref : spec.nested_refs()) {
    bool fresh = references_.HoldForTask(ref.object_id(), ref.owner());
    if (!fresh || ref.owner().worker_id() == context_.worker_id) continue;
    if (RegisterBorrowerSync(ref.object_id(), ref.owner(), context_.address)) {
      references_.AddHeld(ref.object_id(), 1);
    }
  }
}

void CoreWorker::ReleaseTaskRefs(const proto::TaskSpec& spec) {
  for (const auto& arg : spec.args()) {
    if (arg.is_ref()) references_.RemoveSubmittedTaskReference(arg.object_id());
  }
  for (const auto& ref : spec.nested_refs()) {
    references_.RemoveSubmittedTaskReference(ref.object_id());
  }
}

std::vector<proto::NestedRef> CoreWorker::TakeReturnRefs(const proto::Address& receiver) {
  auto refs = TakeSerializedRefs();
  RegisterReceiver(refs, receiver);
  for (const auto& ref : refs) references_.RemoveSubmittedTaskReference(ref.object_id());
  return refs;
}

void CoreWorker::OnOwnerConnectionClosed(const std::string& owner_key) {
  owner_conns_.erase(owner_key);
}

void CoreWorker::SetBlocked(bool blocked) {
  proto::BlockedRequest request;
  request.set_worker_id(context_.worker_id);
  context_.raylet->Send(blocked ? proto::NOTIFY_BLOCKED : proto::NOTIFY_UNBLOCKED, request);
}

absl::Status CoreWorker::ResolvePlasma(const std::vector<std::string>& ids,
                                       std::vector<StoredObject>* objects, absl::Time deadline) {
  std::vector<size_t> slots;
  std::vector<std::string> wanted;
  for (size_t i = 0; i < objects->size(); ++i) {
    if ((*objects)[i].in_plasma) {
      slots.push_back(i);
      wanted.push_back(ids[i]);
    }
  }
  if (wanted.empty()) return absl::OkStatus();
  auto lost = [&](size_t slot, const std::string& why) {
    StoredObject& o = (*objects)[slot];
    o.in_plasma = false;
    o.error.set_type(proto::OBJECT_UNRECONSTRUCTABLE);
    o.error.set_message(absl::StrCat("Failed to get object ", ToHex(ids[slot]), ": ", why));
  };
  if (!plasma_) {
    for (size_t slot : slots) lost(slot, "this process has no object store to read it from");
    return absl::OkStatus();
  }
  absl::Duration wait = deadline == absl::InfiniteFuture()
                            ? absl::InfiniteDuration()
                            : std::max(absl::ZeroDuration(), deadline - absl::Now());
  auto buffers = plasma_->Get(wanted, wait);
  if (!buffers.ok()) {
    for (size_t slot : slots) lost(slot, std::string(buffers.status().message()));
    return absl::OkStatus();
  }
  for (size_t k = 0; k < slots.size(); ++k) {
    StoredObject& o = (*objects)[slots[k]];
    if (!(*buffers)[k]) {
      if (deadline != absl::InfiniteFuture()) {
        return absl::DeadlineExceededError("Get timed out reading from the object store");
      }
      lost(slots[k], "it is no longer in the node's object store");
      continue;
    }
    o.data = std::move((*buffers)[k]);
    o.in_plasma = false;
  }
  return absl::OkStatus();
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
    if (auto resolved = ResolvePlasma(ids, &*ready, DeadlineFor(timeout)); !resolved.ok()) {
      return resolved;
    }
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
    if (!arg.is_ref() && arg.value().size() > kInlineLimit && plasma_) {
      // A large by-value argument is put once and travels by reference, not through every RPC.
      auto id = Put(std::move(*arg.mutable_value()));
      if (id.ok()) {
        arg.clear_value();
        arg.set_is_ref(true);
        arg.set_object_id(*id);
      }
    }
    if (!arg.is_ref()) continue;
    if (references_.IsOwned(arg.object_id())) {
      *arg.mutable_owner() = context_.address;
      references_.AddSubmittedTaskReference(arg.object_id());
    } else if (auto owner = references_.OwnerOf(arg.object_id())) {
      *arg.mutable_owner() = *owner;
      references_.AddSubmittedTaskReference(arg.object_id());
    }
  }
  // Refs inside by-value arguments stay reachable until the task is done: their in-transit
  // holds become the task's.
  for (auto& ref : TakeSerializedRefs()) *spec.add_nested_refs() = std::move(ref);
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
  proto::NestedRef ref;
  ref.set_object_id(id);
  if (references_.IsOwned(id)) {
    *ref.mutable_owner() = context_.address;
  } else if (auto owner = references_.OwnerOf(id)) {
    *ref.mutable_owner() = *owner;
  }
  std::string owner = ref.owner().worker_id().empty() ? std::string() : AddressToString(ref.owner());
  // In transit: held until the message carrying the value registers its receiver (the handle
  // being serialized may be gone by then, e.g. a task's return value).
  references_.AddSubmittedTaskReference(id);
  serialized_refs.push_back(std::move(ref));
  return owner;
}

void CoreWorker::RegisterBorrowedReference(const std::string& id, const std::string& owner_address) {
  proto::Address owner;
  if (references_.IsOwned(id) || !AddressFromString(owner_address, &owner)) return;
  references_.AddBorrowed(id, owner);
}

std::vector<size_t> CoreWorker::LocalObjectCounts() const {
  size_t owned = references_.NumOwned();
  size_t tracked = references_.NumTracked();  // read separately: clamp a concurrent change
  size_t store_used = 0;
  if (plasma_) {
    auto stats = plasma_->Stats();
    if (stats.ok()) store_used = static_cast<size_t>(stats->used());
  }
  return {owned, tracked > owned ? tracked - owned : 0, store_.size(), store_used};
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
    case proto::ADD_BORROWER:
    case proto::REMOVE_BORROWER:
      OnBorrowerMessage(conn, frame);
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
  proto::Address requester = request.requester();
  auto respond = [this, conn, header, requester, id = request.object_id()](const StoredObject& object) {
    auto reply = std::make_shared<proto::GetObjectReply>();
    reply->set_found(true);
    auto* out = reply->mutable_object();
    out->set_object_id(id);
    if (object.is_error()) {
      *out->mutable_error() = object.error;
      conn->Reply(header, *reply);
      return;
    }
    if (object.in_plasma) {
      out->set_in_plasma(true);
      out->set_size(object.size);
      out->set_node_id(object.node_id);
    } else {
      out->set_data(object.data->Data(), object.data->Size());
    }
    // Register the requester for every ref inside the value before it can see them.
    auto nested = references_.NestedOf(id, context_.address);
    std::string requester_key = AddressToString(requester);
    std::vector<proto::NestedRef> remote;
    for (auto& ref : nested) {
      *out->add_nested_refs() = ref;
      if (!references_.AddBorrower(ref.object_id(), requester_key, 1)) remote.push_back(ref);
    }
    if (remote.empty()) {
      conn->Reply(header, *reply);
      return;
    }
    auto left = std::make_shared<size_t>(remote.size());
    for (const auto& ref : remote) {
      RegisterBorrowerAsync(ref.object_id(), ref.owner(), requester,
                            [conn, header, reply, left](bool) {
                              if (--*left == 0) conn->Reply(header, *reply);
                            });
    }
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

void CoreWorker::ReportObjects() {
  objects_timer_ = 0;
  if (context_.shutting_down) return;
  proto::WorkerObjects snapshot = BuildObjectSnapshot(
      references_, store_,
      [this](const std::string& task_id) { return submitter_->StateOf(task_id); },
      options_.max_reported_objects);
  // Identity: the raylet overrides worker, node, job and pid with what it registered.
  snapshot.set_worker_id(context_.worker_id);
  snapshot.set_node_id(context_.node_id);
  snapshot.set_job_id(context_.job_id);
  snapshot.set_pid(context_.pid);
  snapshot.set_ip(context_.address.ip());
  snapshot.set_is_driver(context_.is_driver);
  std::string serialized = snapshot.SerializeAsString();
  // A process that never tracked an object sends nothing at all.
  bool nothing_yet = last_objects_report_.empty() && snapshot.objects_size() == 0 &&
                     snapshot.num_truncated() == 0;
  if (serialized != last_objects_report_ && !nothing_yet) {
    context_.raylet->Send(proto::REPORT_OBJECTS, snapshot);
    last_objects_report_ = std::move(serialized);
  }
  objects_timer_ = loop_.RunAfter(options_.object_report_interval, [this] { ReportObjects(); });
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
