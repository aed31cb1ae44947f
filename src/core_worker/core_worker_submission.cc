// CoreWorker, part 5: submission — normal tasks, actor calls and their return ids, and cancel.
// See README.md.
#include <chrono>
#include <future>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "core_worker/core_worker.h"
#include "core_worker/serialized_refs.h"
#include "core_worker/task_placement.h"

namespace moray::core {

void CoreWorker::FillTaskIdentity(proto::TaskSpec* spec) {
  spec->set_task_id(NewTaskId(context_.job_id).Binary());
  spec->set_job_id(context_.job_id.Binary());
  spec->set_parent_task_id(CurrentTaskId().Binary());
  *spec->mutable_owner() = context_.address_proto;
}

void CoreWorker::PrepareArgs(proto::TaskSpec* spec) {
  for (auto& arg : *spec->mutable_args()) {
    if (!arg.is_ref() && arg.value().size() > kInlineLimit && plasma_) {
      // A large by-value argument is put once and travels by reference, not through every RPC.
      auto id = Put(std::move(*arg.mutable_value()));
      if (id.ok()) {
        arg.clear_value();
        arg.set_is_ref(true);
        arg.set_object_id(id->Binary());
      }
    }
    if (!arg.is_ref()) continue;
    const ObjectId id = ObjectId::FromBinary(arg.object_id());
    if (references_.IsOwned(id)) {
      *arg.mutable_owner() = context_.address_proto;
      references_.AddSubmittedTaskReference(id);
    } else if (auto owner = references_.OwnerOf(id)) {
      owner->ToProto(arg.mutable_owner());
      references_.AddSubmittedTaskReference(id);
    }
  }
  // Refs inside by-value arguments stay reachable until the task is done: their in-transit
  // holds become the task's.
  for (auto& ref : TakeSerializedRefs()) *spec->add_nested_refs() = std::move(ref);
}

absl::Status CoreWorker::CheckNumReturns(const proto::TaskSpec& spec) {
  if (spec.num_returns() < 0) {  // int32: never reaches kPutIndexBase
    return absl::InvalidArgumentError(
        absl::StrCat("num_returns must be 0 or more, not ", spec.num_returns()));
  }
  return absl::OkStatus();
}

std::vector<ObjectId> CoreWorker::OwnReturns(const proto::TaskSpec& spec) {
  const TaskId task_id = TaskId::FromBinary(spec.task_id());
  std::vector<ObjectId> ids;
  ids.reserve(spec.num_returns());
  for (int i = 1; i <= spec.num_returns(); ++i) {
    ids.push_back(ObjectIdForReturn(task_id, static_cast<uint32_t>(i)));
    references_.AddOwned(ids.back());
  }
  return ids;
}

absl::StatusOr<std::vector<ObjectId>> CoreWorker::SubmitTask(proto::TaskSpec spec) {
  if (absl::Status valid = CheckNumReturns(spec); !valid.ok()) return valid;
  FillTaskIdentity(&spec);
  if (executor_)
    InheritPlacementGroup(executor_->CapturedStrategy(), spec.mutable_scheduling_strategy());
  if (spec.resources().empty()) (*spec.mutable_resources())["CPU"] = 1;
  PrepareArgs(&spec);
  std::vector<ObjectId> returns = OwnReturns(spec);
  submitter_->Submit(std::move(spec));
  return returns;
}

absl::StatusOr<std::vector<ObjectId>> CoreWorker::SubmitActorTask(proto::TaskSpec spec) {
  if (absl::Status valid = CheckNumReturns(spec); !valid.ok()) return valid;
  if (!actor_submitter_) return absl::UnavailableError("this process cannot use actors");
  FillTaskIdentity(&spec);
  spec.set_type(proto::ACTOR_TASK);
  PrepareArgs(&spec);
  std::vector<ObjectId> returns = OwnReturns(spec);
  // A pending call keeps the actor reachable.
  references_.AddSubmittedTaskReference(ActorHandleId(ActorId::FromBinary(spec.actor_id())));
  actor_submitter_->Submit(std::move(spec));
  return returns;
}

absl::Status CoreWorker::CancelTask(const ObjectId& return_id, bool force, bool recursive) {
  const uint32_t index = ObjectIndexOf(return_id);
  if (index == 0 || index >= kPutIndexBase || !references_.IsOwned(return_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "object ", return_id.Hex(),
        " is not the return of a task submitted by this process: only its owner cancels a task"));
  }
  return CancelTask(TaskIdOf(return_id), force, recursive);
}

absl::Status CoreWorker::CancelTask(const TaskId& task_id, bool force, bool recursive) {
  if (shut_down_) return absl::FailedPreconditionError("the core worker is shut down");
  auto done = std::make_shared<std::promise<absl::Status>>();
  auto result = done->get_future();
  loop_.Post([this, task_id, force, recursive, done] {
    if (submitter_->Cancel(task_id, force, recursive)) {
      done->set_value(absl::OkStatus());
      return;
    }
    absl::Status actor_call = actor_submitter_ ? actor_submitter_->Cancel(task_id, force, recursive)
                                               : absl::NotFoundError("no actors");
    // Not pending any more: it finished (or failed), and cancelling it changes nothing.
    done->set_value(absl::IsNotFound(actor_call) ? absl::OkStatus() : actor_call);
  });
  if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return absl::UnavailableError("the core worker's I/O loop did not take the cancel request");
  }
  return result.get();
}

void CoreWorker::CancelChildren(const TaskId& parent, bool force) {
  submitter_->CancelChildren(parent, force);
  if (actor_submitter_) actor_submitter_->CancelChildren(parent);
}

}  // namespace moray::core
