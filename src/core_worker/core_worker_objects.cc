// CoreWorker, part 2: objects — puts (inline or into the node's shared-memory store), fetching
// borrowed values from their owners, reading store-backed values, and serving GET_OBJECT.
#include "core_worker/core_worker.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "core_worker/serialized_refs.h"
#include "spdlog/spdlog.h"

namespace moray::core {

namespace {
proto::ErrorInfo MakeError(proto::ErrorType type, std::string message) {
  proto::ErrorInfo error;
  error.set_type(type);
  error.set_message(std::move(message));
  return error;
}
}  // namespace

ObjectId CoreWorker::NewPutId() {
  TaskId task_id = CurrentTaskId();
  if (task_id.IsNil()) task_id = NewTaskId(context_.job_id);
  const ObjectId id = ObjectIdForPut(task_id, put_index_.fetch_add(1));
  references_.AddOwned(id);
  std::vector<ObjectId> nested;
  auto refs = TakeSerializedRefs();
  for (const auto& ref : refs) nested.push_back(ObjectId::FromBinary(ref.object_id()));
  references_.SetNested(id, nested);
  for (const ObjectId& ref : nested) references_.RemoveSubmittedTaskReference(ref);
  return id;
}

absl::StatusOr<ObjectId> CoreWorker::Put(std::string data) {
  return PutImpl(data.size(), &data, nullptr);
}

absl::StatusOr<ObjectId> CoreWorker::PutWith(size_t size, const std::function<void(char*)>& write) {
  return PutImpl(size, nullptr, &write);
}

absl::StatusOr<ObjectId> CoreWorker::PutImpl(size_t size, std::string* data,
                                             const std::function<void(char*)>* write) {
  const ObjectId id = NewPutId();
  StoredObject object;
  if (!KeepInMemory(context_, size)) {
    // Large (or this process's memory for small values is used up): written once, straight
    // into shared memory, where the store's capacity, spilling and full-store error apply.
    absl::Status status;
    if (data) {
      status = plasma_->Put(id, data->data(), size, context_.address_proto);
    } else {
      auto span = plasma_->Create(id, size, context_.address_proto);
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

void CoreWorker::StartFetches(const std::vector<ObjectId>& ids,
                              const std::vector<rpc::Address>* owners) {
  for (size_t i = 0; i < ids.size(); ++i) {
    const ObjectId& id = ids[i];
    if (references_.IsOwned(id) || store_.Contains(id)) continue;
    rpc::Address owner;
    if (owners) {
      owner = (*owners)[i];
    } else {
      auto known = references_.OwnerOf(id);
      if (!known) {
        store_.Put(
            id, {nullptr, MakeError(proto::OBJECT_UNRECONSTRUCTABLE,
                                    absl::StrCat("Object ", id.Hex(),
                                                 " is unknown to this process and has no "
                                                 "known owner; it was freed or never existed."))});
        continue;
      }
      owner = *known;
    }
    loop_.Post([this, id, owner] { FetchFromOwner(id, owner); });
  }
}

void CoreWorker::FetchFromOwner(const ObjectId& id, const rpc::Address& owner,
                                const NodeId& lost_on_node) {
  if (store_.Contains(id) || !fetch_started_.insert(id).second) return;
  std::string key = owner.ToString();
  auto lost = [this, id, key](const std::string& why) {
    fetch_started_.erase(id);
    store_.Put(id,
               {nullptr, MakeError(proto::OBJECT_UNRECONSTRUCTABLE,
                                   absl::StrCat("Failed to get object ", id.Hex(), ": its owner (",
                                                key, ") ", why, ". The object is lost."))});
  };
  if (owner.worker_id == context_.worker_id) {
    lost("is this process, which no longer holds it (all references were released)");
    return;
  }
  auto conn = OwnerConnection(owner);
  if (!conn) {
    lost("cannot be reached and has probably died");
    return;
  }
  proto::GetObjectRequest request;
  request.set_object_id(id.Binary());
  *request.mutable_requester() = context_.address_proto;
  request.set_lost_on_node(lost_on_node.Binary());
  conn->Call(proto::WORKER_GET_OBJECT, request, [this, id, lost, conn](absl::Status status,
                                                                        rpc::Frame&& frame) {
    proto::GetObjectReply reply;
    if (rpc::IsConnectionFailure(*conn, status)) {
      lost("has died");
      return;
    }
    if (absl::IsNotFound(status)) {
      lost("no longer has it (it was freed)");
      return;
    }
    if (!status.ok()) {
      lost(absl::StrCat("refused the request (", status.ToString(), ")"));
      return;
    }
    if (absl::Status parsed = frame.ParseBody(&reply); !parsed.ok()) {
      lost(absl::StrCat("sent a malformed reply (", parsed.message(), ")"));
      return;
    }
    StoredObject object;
    if (reply.object().error().type() != proto::ERROR_NONE) {
      object.error = reply.object().error();
    } else if (reply.object().in_plasma()) {
      object.in_plasma = true;
      object.size = reply.object().size();
      object.node_id = NodeId::FromBinary(reply.object().node_id());
    } else {
      object.data = std::make_shared<ray::internal::StringBuffer>(
          std::move(*reply.mutable_object()->mutable_data()));
    }
    fetch_started_.erase(id);
    // The owner registered this process for the refs inside the value before replying.
    references_.AcceptNested(id, reply.object().nested_refs(), context_.address);
    store_.Put(id, std::move(object));
    if (!references_.Tracks(id)) store_.Delete(id);  // released while the fetch was in flight
  });
}

std::shared_ptr<rpc::Connection> CoreWorker::OwnerConnection(const rpc::Address& owner) {
  auto conn = pool_->Get(owner.endpoint);
  return conn.ok() ? *conn : nullptr;
}

absl::Status CoreWorker::ResolvePlasma(const std::vector<ObjectId>& ids,
                                       std::vector<StoredObject>* objects, absl::Time deadline,
                                       bool* rebuilding) {
  std::vector<size_t> slots;
  std::vector<ObjectId> wanted;
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
    o.error.set_message(absl::StrCat("Failed to get object ", ids[slot].Hex(), ": ", why));
  };
  if (!plasma_) {
    for (size_t slot : slots) lost(slot, "this process has no object store to read it from");
    return absl::OkStatus();
  }
  // Objects sealed on other nodes come over first: the raylet pulls them into this node's store,
  // retrying what may pass until the deadline; it says "lost" only when the copy is gone for good.
  struct PullOutcome {
    std::string error;  // empty: here now
    bool lost = false;
    bool timed_out = false;
  };
  std::vector<std::pair<size_t, std::shared_ptr<std::promise<PullOutcome>>>> pulls;
  for (size_t slot : slots) {
    const StoredObject& o = (*objects)[slot];
    if (o.node_id.IsNil() || o.node_id == context_.node_id || plasma_->Contains(ids[slot])) {
      continue;
    }
    auto done = std::make_shared<std::promise<PullOutcome>>();
    proto::PullObjectRequest pull;
    pull.set_object_id(ids[slot].Binary());
    pull.set_node_id(o.node_id.Binary());
    pull.set_size(o.size);
    if (deadline != absl::InfiniteFuture()) {
      pull.set_timeout_ms(std::max<int64_t>(1, absl::ToInt64Milliseconds(deadline - absl::Now())));
    }
    auto raylet = context_.raylet;
    raylet->Call(proto::RAYLET_PULL_OBJECT, pull, [done, raylet](absl::Status s, rpc::Frame&&) {
      if (rpc::IsConnectionFailure(*raylet, s)) {
        done->set_value({"the local raylet went away"});
      } else if (!s.ok()) {
        // NotFound: that copy is gone for good; DeadlineExceeded: the time ran out first.
        done->set_value({std::string(s.message()), absl::IsNotFound(s),
                         absl::IsDeadlineExceeded(s)});
      } else {
        done->set_value({});
      }
    });
    pulls.emplace_back(slot, std::move(done));
  }
  for (auto& [slot, done] : pulls) {
    auto future = done->get_future();
    if (deadline != absl::InfiniteFuture() &&
        future.wait_until(absl::ToChronoTime(deadline)) != std::future_status::ready) {
      return absl::DeadlineExceededError("Get timed out fetching an object from another node");
    }
    PullOutcome outcome = future.get();
    if (outcome.error.empty()) continue;
    const ObjectId& id = ids[slot];
    const std::string from = (*objects)[slot].node_id.Hex();
    if (outcome.timed_out) {
      return absl::DeadlineExceededError(absl::StrCat("Get timed out fetching object ", id.Hex(),
                                                      " from node ", from, ": ", outcome.error));
    }
    if (!outcome.lost) {  // nothing is lost, but this node cannot take it (its raylet or store)
      return absl::UnavailableError(absl::StrCat("Could not fetch object ", id.Hex(), " from node ",
                                                 from, ": ", outcome.error));
    }
    if (rebuilding && references_.IsOwned(id) && submitter_->HasLineage(id)) {
      // Made by a task here: run it again (the stale location goes first, so the new value is
      // what the next wait sees).
      store_.Delete(id);
      if (submitter_->Resubmit(id)) {
        *rebuilding = true;
        (*objects)[slot].in_plasma = false;  // nothing to read this round
        continue;
      }
    }
    if (rebuilding && !references_.IsOwned(id)) {
      if (auto owner = references_.OwnerOf(id)) {
        // Borrowed: the owner may rebuild it. Ask again, saying which copy was lost; the next
        // wait sees its answer (the new copy, or why it is gone for good).
        store_.Delete(id);
        loop_.Post([this, id, owner = *owner, node = (*objects)[slot].node_id] {
          fetch_started_.erase(id);
          FetchFromOwner(id, owner, node);
        });
        *rebuilding = true;
        (*objects)[slot].in_plasma = false;
        continue;
      }
    }
    lost(slot, absl::StrCat("it could not be fetched from node ", from, ": ", outcome.error,
                            references_.IsOwned(id)
                                ? " (it was put, not made by a task, so it cannot be rebuilt)"
                                : ""));
  }
  std::vector<size_t> still;
  std::vector<ObjectId> still_wanted;
  for (size_t k = 0; k < slots.size(); ++k) {
    if ((*objects)[slots[k]].in_plasma) {
      still.push_back(slots[k]);
      still_wanted.push_back(wanted[k]);
    }
  }
  slots.swap(still);
  wanted.swap(still_wanted);
  if (wanted.empty()) return absl::OkStatus();
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

void CoreWorker::ServeGetObject(const proto::GetObjectRequest& request,
                                rpc::Responder<proto::GetObjectReply> responder) {
  const rpc::Address requester = rpc::Address::FromProto(request.requester());
  const ObjectId id = ObjectId::FromBinary(request.object_id());
  auto respond = [this, responder, requester, id](const StoredObject& object) {
    auto reply = std::make_shared<proto::GetObjectReply>();
    auto* out = reply->mutable_object();
    out->set_object_id(id.Binary());
    if (object.is_error()) {
      *out->mutable_error() = object.error;
      responder(*reply);
      return;
    }
    if (object.in_plasma) {
      out->set_in_plasma(true);
      out->set_size(object.size);
      out->set_node_id(object.node_id.Binary());
    } else {
      out->set_data(object.data->Data(), object.data->Size());
    }
    // Register the requester for every ref inside the value before it can see them.
    auto nested = references_.NestedOf(id, context_.address_proto);
    std::vector<proto::NestedRef> remote;
    for (auto& ref : nested) {
      *out->add_nested_refs() = ref;
      if (!references_.AddBorrower(ObjectId::FromBinary(ref.object_id()), requester, 1)) {
        remote.push_back(ref);
      }
    }
    if (remote.empty()) {
      responder(*reply);
      return;
    }
    auto left = std::make_shared<size_t>(remote.size());
    for (const auto& ref : remote) {
      RegisterBorrowerAsync(ObjectId::FromBinary(ref.object_id()),
                            rpc::Address::FromProto(ref.owner()), requester,
                            [responder, reply, left](bool) {
                              if (--*left == 0) responder(*reply);
                            });
    }
  };
  const NodeId lost_on_node = NodeId::FromBinary(request.lost_on_node());
  auto object = store_.Find(id);
  if (object && object->in_plasma && !lost_on_node.IsNil() && object->node_id == lost_on_node) {
    // A borrower could not read the only copy we know of: rebuild it from lineage, or say it is
    // gone for good.
    store_.Delete(id);
    if (submitter_->HasLineage(id) && submitter_->Resubmit(id)) {
      store_.OnReady(id, respond);
    } else {
      StoredObject gone;
      gone.error.set_type(proto::OBJECT_UNRECONSTRUCTABLE);
      gone.error.set_message(
          absl::StrCat("Object ", id.Hex(), " was lost with node ", lost_on_node.Hex(),
                       "; it was put, not made by a task, so it cannot be rebuilt."));
      store_.Put(id, gone);
      respond(gone);
    }
  } else if (object) {
    respond(*object);
  } else if (references_.IsOwned(id)) {
    store_.OnReady(id, respond);  // replies once the producing task finishes
  } else {
    responder.Fail(absl::NotFoundError(
        absl::StrCat("object ", id.Hex(), " is not owned here (it was freed, or never existed)")));
  }
}

}  // namespace moray::core
