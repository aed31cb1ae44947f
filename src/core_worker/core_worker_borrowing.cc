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
    // NotFound: the owner no longer has the object; other failures: it cannot be reached.
    conn->Call(proto::WORKER_ADD_BORROWER, request,
               [done](absl::Status status, rpc::Frame&&) { done(status.ok()); });
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
    auto conn = OwnerConnection(owner);
    if (!conn) return;  // the owner is gone, and its registrations with it
    proto::BorrowerRequest request;
    request.set_object_id(id);
    *request.mutable_borrower() = context_.address;
    request.set_count(held);
    *request.mutable_sender() = context_.address;
    conn->Send(proto::WORKER_REMOVE_BORROWER, request);
  });
}

bool CoreWorker::OnBorrowerMessage(const std::shared_ptr<rpc::Connection>& conn,
                                   const proto::BorrowerRequest& request, bool add) {
  std::string borrower_key = AddressToString(request.borrower());
  if (request.borrower().worker_id() == request.sender().worker_id()) {
    // The borrower's own connection: when it closes, the borrower died.
    borrower_conns_[conn.get()] = borrower_key;
  }
  if (add) return references_.AddBorrower(request.object_id(), borrower_key, request.count());
  references_.RemoveBorrower(request.object_id(), borrower_key, request.count());
  return true;
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
  NoteSerializedRef(std::move(ref));
  return owner;
}

void CoreWorker::RegisterBorrowedReference(const std::string& id, const std::string& owner_address) {
  // Values often hold many refs of one owner (a vector of 10k refs): parse its address once.
  thread_local std::string last_text;
  thread_local proto::Address last_owner;
  if (owner_address != last_text) {
    proto::Address owner;
    if (!AddressFromString(owner_address, &owner)) return;
    last_text = owner_address;
    last_owner = std::move(owner);
  }
  // A no-op when the id is tracked already (owned here, or borrowed before).
  references_.AddBorrowed(id, last_owner);
}

}  // namespace moray::core
