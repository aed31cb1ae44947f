// CoreWorker, part 3: the borrower protocol of owner-based reference counting — refs serialized
// into values, registrations with owners (ADD_BORROWER / REMOVE_BORROWER), and the refs a task
// holds while it runs. See reference_counter.h and docs/architecture.md.
#include "core_worker/core_worker.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "core_worker/serialized_refs.h"
#include "spdlog/spdlog.h"

namespace moray::core {

namespace {
// Refs serialized into a value on this thread since the last Take: the message that carries the
// value lists them.
thread_local std::vector<proto::NestedRef> serialized_refs;
}  // namespace

std::vector<proto::NestedRef> TakeSerializedRefs() {
  std::vector<proto::NestedRef> refs;
  refs.swap(serialized_refs);
  return refs;
}

void NoteSerializedRef(proto::NestedRef ref) { serialized_refs.push_back(std::move(ref)); }

void CoreWorker::RegisterBorrowerAsync(const ObjectId& id, const rpc::Address& owner,
                                       const rpc::Address& borrower,
                                       std::function<void(bool)> done) {
  loop_.Post([this, id, owner, borrower, done = std::move(done)] {
    auto conn = OwnerConnection(owner);
    if (!conn) {
      done(false);
      return;
    }
    proto::BorrowerRequest request;
    request.set_object_id(id.Binary());
    borrower.ToProto(request.mutable_borrower());
    request.set_count(1);
    *request.mutable_sender() = context_.address_proto;
    // NotFound: the owner no longer has the object; other failures: it cannot be reached.
    conn->Call(proto::WORKER_ADD_BORROWER, request,
               [done](absl::Status status, rpc::Frame&&) { done(status.ok()); });
  });
}

bool CoreWorker::RegisterBorrowerSync(const ObjectId& id, const rpc::Address& owner,
                                      const rpc::Address& borrower) {
  auto result = std::make_shared<std::promise<bool>>();
  auto future = result->get_future();
  RegisterBorrowerAsync(id, owner, borrower, [result](bool ok) { result->set_value(ok); });
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return false;
  return future.get();
}

void CoreWorker::RegisterReceiver(const std::vector<proto::NestedRef>& refs,
                                  const rpc::Address& receiver) {
  for (const auto& ref : refs) {
    const ObjectId id = ObjectId::FromBinary(ref.object_id());
    if (references_.AddBorrower(id, receiver, 1)) continue;  // owned here
    if (ref.owner().worker_id().empty()) continue;  // unknown owner: nothing to register with
    const rpc::Address owner = rpc::Address::FromProto(ref.owner());
    if (!RegisterBorrowerSync(id, owner, receiver)) {
      spdlog::warn("could not register a borrower of object {} with its owner {}", id.Hex(),
                   owner.ToString());
    }
  }
}

void CoreWorker::OnBorrowedReleased(const ObjectId& id, const rpc::Address& owner, int64_t held) {
  store_.Delete(id);  // the cached copy
  if (held <= 0 || context_.shutting_down) return;
  loop_.Post([this, id, owner, held] {
    auto conn = OwnerConnection(owner);
    if (!conn) return;  // the owner is gone, and its registrations with it
    proto::BorrowerRequest request;
    request.set_object_id(id.Binary());
    *request.mutable_borrower() = context_.address_proto;
    request.set_count(held);
    *request.mutable_sender() = context_.address_proto;
    conn->Send(proto::WORKER_REMOVE_BORROWER, request);
  });
}

bool CoreWorker::OnBorrowerMessage(const std::shared_ptr<rpc::Connection>& conn,
                                   const proto::BorrowerRequest& request, bool add) {
  const rpc::Address borrower = rpc::Address::FromProto(request.borrower());
  if (request.borrower().worker_id() == request.sender().worker_id()) {
    // The borrower's own connection: when it closes, the borrower died.
    borrower_conns_[conn.get()] = borrower;
  }
  const ObjectId id = ObjectId::FromBinary(request.object_id());
  if (add) return references_.AddBorrower(id, borrower, request.count());
  references_.RemoveBorrower(id, borrower, request.count());
  return true;
}

void CoreWorker::AcquireTaskRefs(const proto::TaskSpec& spec) {
  // Anything serialized outside a task that no message carried: drop its in-transit holds.
  DropReturnRefs();
  // By-reference arguments: the submitter holds them until the task is done; hold them here too
  // so values fetched for the task (and refs inside them) stay while it runs.
  for (const auto& arg : spec.args()) {
    if (arg.is_ref()) {
      references_.HoldForTask(ObjectId::FromBinary(arg.object_id()),
                              rpc::Address::FromProto(arg.owner()));
    }
  }
  // Refs nested in by-value arguments: the user code may keep them, so this process becomes a
  // borrower — registered with the owner before the task runs, while the submitter still holds
  // them.
  for (const auto& ref : spec.nested_refs()) {
    const ObjectId id = ObjectId::FromBinary(ref.object_id());
    const rpc::Address owner = rpc::Address::FromProto(ref.owner());
    bool fresh = references_.HoldForTask(id, owner);
    if (!fresh || owner.worker_id == context_.worker_id) continue;
    if (RegisterBorrowerSync(id, owner, context_.address)) references_.AddHeld(id, 1);
  }
}

void CoreWorker::ReleaseTaskRefs(const proto::TaskSpec& spec) {
  for (const auto& arg : spec.args()) {
    if (arg.is_ref())
      references_.RemoveSubmittedTaskReference(ObjectId::FromBinary(arg.object_id()));
  }
  for (const auto& ref : spec.nested_refs()) {
    references_.RemoveSubmittedTaskReference(ObjectId::FromBinary(ref.object_id()));
  }
}

std::vector<proto::NestedRef> CoreWorker::TakeReturnRefs(const rpc::Address& receiver) {
  auto refs = TakeSerializedRefs();
  RegisterReceiver(refs, receiver);
  for (const auto& ref : refs) {
    references_.RemoveSubmittedTaskReference(ObjectId::FromBinary(ref.object_id()));
  }
  return refs;
}

void CoreWorker::DropReturnRefs() {
  for (const auto& ref : TakeSerializedRefs()) {
    references_.RemoveSubmittedTaskReference(ObjectId::FromBinary(ref.object_id()));
  }
}

std::string CoreWorker::OwnerAddressOf(const ObjectId& id) {
  proto::NestedRef ref;
  ref.set_object_id(id.Binary());
  std::string owner;
  if (references_.IsOwned(id)) {
    *ref.mutable_owner() = context_.address_proto;
    owner = context_.address_string;
  } else if (auto borrowed_from = references_.OwnerOf(id)) {
    borrowed_from->ToProto(ref.mutable_owner());
    if (!borrowed_from->worker_id.IsNil()) owner = borrowed_from->ToString();
  }
  // In transit: held until the message carrying the value registers its receiver (the handle
  // being serialized may be gone by then, e.g. a task's return value).
  references_.AddSubmittedTaskReference(id);
  NoteSerializedRef(std::move(ref));
  return owner;
}

void CoreWorker::RegisterBorrowedReference(const ObjectId& id, const std::string& owner_address) {
  // Values often hold many refs of one owner (a vector of 10k refs): parse its address once.
  thread_local std::string last_text;
  thread_local rpc::Address last_owner;
  if (owner_address != last_text) {
    std::optional<rpc::Address> owner = rpc::Address::Parse(owner_address);
    if (!owner) return;
    last_text = owner_address;
    last_owner = *std::move(owner);
  }
  // A no-op when the id is tracked already (owned here, or borrowed before).
  references_.AddBorrowed(id, last_owner);
}

}  // namespace moray::core
