#include "core_worker/task_common.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "spdlog/spdlog.h"

namespace moray::core {

proto::ErrorInfo TaskCancelledError(const proto::TaskSpec& spec) {
  proto::ErrorInfo error;
  error.set_type(proto::TASK_CANCELLED);
  error.set_message(absl::StrCat(spec.type() == proto::ACTOR_TASK ? "Actor task " : "Task ",
                                 spec.name(), " (", ToHex(spec.task_id()), ") was cancelled."));
  return error;
}

bool ResolveReadyDependencies(CoreContext* context, proto::TaskSpec* spec,
                              proto::ErrorInfo* error) {
  for (auto& arg : *spec->mutable_args()) {
    if (!arg.is_ref() || WorkerId::FromBinary(arg.owner().worker_id()) != context->worker_id) {
      continue;
    }
    auto ready = context->store->Find(ObjectId::FromBinary(arg.object_id()));
    if (!ready) return false;  // pending: the slow path takes it from here (inlined stay so)
    if (ready->is_error()) {
      if (error->type() == proto::ERROR_NONE) *error = ready->error;
    } else if (!ready->in_plasma) {
      arg.set_is_ref(false);
      arg.set_value(ready->data->Data(), ready->data->Size());
    }
  }
  return true;
}

void ResolveLocalDependencies(CoreContext* context, proto::TaskSpec* spec,
                              std::function<proto::TaskSpec*()> lookup,
                              std::function<void(const proto::ErrorInfo&)> done) {
  struct State {
    int unresolved = 0;
    proto::ErrorInfo error;
    std::function<proto::TaskSpec*()> lookup;
    std::function<void(const proto::ErrorInfo&)> done;
  };
  auto state = std::make_shared<State>();
  state->lookup = std::move(lookup);
  state->done = std::move(done);
  auto inline_value = [](proto::TaskArg* arg, const StoredObject& object, proto::ErrorInfo* error) {
    if (object.is_error()) {
      if (error->type() == proto::ERROR_NONE) *error = object.error;
    } else if (!object.in_plasma) {
      arg->set_is_ref(false);
      arg->set_value(object.data->Data(), object.data->Size());
    }
  };
  std::vector<std::pair<int, ObjectId>> waiting;
  for (int i = 0; i < spec->args_size(); ++i) {
    proto::TaskArg* arg = spec->mutable_args(i);
    if (!arg->is_ref() || WorkerId::FromBinary(arg->owner().worker_id()) != context->worker_id) {
      continue;
    }
    const ObjectId id = ObjectId::FromBinary(arg->object_id());
    auto ready = context->store->Find(id);
    if (ready) {
      inline_value(arg, *ready, &state->error);
      continue;
    }
    waiting.emplace_back(i, id);
  }
  state->unresolved = static_cast<int>(waiting.size());
  if (waiting.empty()) {
    state->done(state->error);
    return;
  }
  for (const auto& [index, object_id] : waiting) {
    context->store->OnReady(object_id, [context, state, index = index,
                                        inline_value](const StoredObject& object) {
      context->loop->Post([state, index, object, inline_value] {
        proto::TaskSpec* current = state->lookup();
        if (!current) return;
        inline_value(current->mutable_args(index), object, &state->error);
        if (--state->unresolved == 0) state->done(state->error);
      });
    });
  }
}

namespace {
// On the I/O loop: no waiting for another writer (none of this process's writes can be in
// progress, and an earlier reply's copy is sealed).
StoredObject PutReturnInStore(CoreContext* context, const proto::TaskSpec& spec, const ObjectId& id,
                              const std::string& data) {
  StoredObject object;
  auto stored = StoreReturnValue(*context->plasma, id, data, spec, context->address_proto,
                                 absl::ZeroDuration());
  if (!stored.ok()) {
    object.error = ReturnStoreError(spec, data.size(), stored.status());
    return object;
  }
  object.in_plasma = true;
  object.size = *stored;
  object.node_id = context->node_id;
  return object;
}
}  // namespace

absl::StatusOr<int64_t> StoreReturnValue(object_store::StoreClient& store, const ObjectId& id,
                                         const std::string& data, const proto::TaskSpec& spec,
                                         const proto::Address& owner,
                                         absl::Duration unsealed_wait) {
  const absl::Time give_up = absl::Now() + unsealed_wait;
  while (true) {
    absl::Status put = store.Put(id, data.data(), data.size(), owner);
    if (put.ok()) return static_cast<int64_t>(data.size());
    if (!absl::IsAlreadyExists(put)) return put;
    // Sealed: at once. Unsealed: wait a while for it (never longer than we may).
    auto existing = store.Get({id}, std::min(absl::Seconds(1), unsealed_wait));
    if (!existing.ok()) return existing.status();
    if (const auto& buffer = (*existing)[0]) {
      const auto size = static_cast<int64_t>(buffer->Size());
      spdlog::info("the return value of {} (attempt {}) is already in this node's store ({} "
                   "bytes; this attempt made {}): keeping that copy",
                   spec.name(), spec.attempt_number(), size, data.size());
      return size;
    }
    if (absl::Now() >= give_up) {
      return absl::AlreadyExistsError(absl::StrCat(
          "object ", id.Hex(), " is in this node's store but its writer has not sealed it in ",
          absl::FormatDuration(unsealed_wait)));
    }
  }
}

proto::ErrorInfo ReturnStoreError(const proto::TaskSpec& spec, size_t size,
                                  const absl::Status& status) {
  proto::ErrorInfo error;
  error.set_type(absl::IsResourceExhausted(status) ? proto::OBJECT_STORE_FULL
                                                   : proto::OBJECT_UNRECONSTRUCTABLE);
  error.set_message(absl::StrCat("Could not store the return value of ", spec.name(), " (", size,
                                 " bytes): ", status.message()));
  return error;
}

void StoreTaskReturns(CoreContext* context, const proto::TaskSpec& spec,
                      const proto::TaskReply* reply, const proto::ErrorInfo* error) {
  const proto::ErrorInfo* failure = error;
  if (!failure && reply && reply->error().type() != proto::ERROR_NONE) failure = &reply->error();
  const int num_returns = std::max(spec.num_returns(), 0);
  const TaskId task_id = TaskId::FromBinary(spec.task_id());
  if (reply && !failure) {
    // The refs serialized into the values (registered once for this process, not per return:
    // the executor cannot tell which value holds which) stay while any of the returns does.
    google::protobuf::RepeatedPtrField<proto::NestedRef> nested;
    for (const auto& ret : reply->returns()) {
      for (const auto& ref : ret.nested_refs()) *nested.Add() = ref;
    }
    if (!nested.empty()) {
      std::vector<ObjectId> containers;
      for (int i = 0; i < num_returns; ++i) {
        containers.push_back(ObjectIdForReturn(task_id, static_cast<uint32_t>(i + 1)));
      }
      context->references->AcceptNested(containers, nested, context->address);
    }
  }
  for (int i = 0; i < num_returns; ++i) {
    const ObjectId id = ObjectIdForReturn(task_id, static_cast<uint32_t>(i + 1));
    StoredObject object;
    const std::string* stored_elsewhere = nullptr;  // a small value bound for the object store
    if (failure) {
      object.error = *failure;
    } else if (reply && i < reply->returns_size()) {
      const auto& ret = reply->returns(i);
      if (ret.error().type() != proto::ERROR_NONE) {
        object.error = ret.error();
      } else if (ret.in_plasma()) {
        object.in_plasma = true;
        object.size = ret.size();
        object.node_id = NodeId::FromBinary(ret.node_id());
      } else if (KeepInMemory(*context, ret.data().size())) {
        object.data = std::make_shared<ray::internal::StringBuffer>(ret.data());
      } else {
        stored_elsewhere = &ret.data();
      }
    } else {
      object.error.set_type(proto::WORKER_DIED);
      object.error.set_message(
          absl::StrCat("the worker replied without return value ", i + 1, " of ", num_returns));
    }
    if (!context->references->IsOwned(id)) continue;  // every handle is gone already
    if (stored_elsewhere) {
      // This process holds as many small values as it may: the return goes to the node's
      // store instead (one copy, from the reply), as a large return would have.
      object = PutReturnInStore(context, spec, id, *stored_elsewhere);
    }
    context->store->Put(id, std::move(object));
  }
  ReleaseTaskArgs(context, spec);
}

void ReleaseTaskArgs(CoreContext* context, const proto::TaskSpec& spec) {
  for (const auto& arg : spec.args()) {
    if (!arg.object_id().empty()) {
      context->references->RemoveSubmittedTaskReference(ObjectId::FromBinary(arg.object_id()));
    }
  }
  for (const auto& ref : spec.nested_refs()) {
    context->references->RemoveSubmittedTaskReference(ObjectId::FromBinary(ref.object_id()));
  }
}

void HoldTaskArgs(CoreContext* context, const proto::TaskSpec& spec) {
  for (const auto& arg : spec.args()) {
    if (!arg.object_id().empty()) {
      context->references->AddSubmittedTaskReference(ObjectId::FromBinary(arg.object_id()));
    }
  }
  for (const auto& ref : spec.nested_refs()) {
    context->references->AddSubmittedTaskReference(ObjectId::FromBinary(ref.object_id()));
  }
}

void RecordTaskEvent(CoreContext* context, const proto::TaskSpec& spec, proto::TaskState state,
                     bool descriptive, const proto::ErrorInfo* error) {
  context->events->Record(TaskId::FromBinary(spec.task_id()), spec.attempt_number(),
                          [&](proto::TaskEvent& event) {
                            event.set_job_id(spec.job_id());
                            event.set_state(state);
                            event.set_timestamp_ns(NowNs());
                            if (descriptive) {
                              event.set_has_descriptive_fields(true);
                              event.set_name(spec.name());
                              event.set_func_or_class_name(spec.function_name());
                              event.set_type(spec.type());
                              event.set_parent_task_id(spec.parent_task_id());
                              event.set_actor_id(spec.actor_id());
                              event.mutable_required_resources()->clear();
                              event.mutable_required_resources()->insert(spec.resources().begin(),
                                                                         spec.resources().end());
                            }
                            if (error) {
                              event.set_error_type(proto::ErrorType_Name(error->type()));
                              event.set_error_message(error->message());
                            }
                          });
}

}  // namespace moray::core
