// CoreWorker, part 4: the methods it serves (proto/worker.proto) on its port and on the
// connections it opened, each with the roles that may call it. See README.md.
#include "core_worker/core_worker.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "spdlog/spdlog.h"

namespace moray::core {

void CoreWorker::RegisterMethods() {
  using rpc::Peer;
  constexpr rpc::Roles kGcs = rpc::RoleBit(proto::ROLE_GCS);
  if (executor_) {
    // From owners, and from the GCS: an actor's creation task.
    service_.Raw(proto::WORKER_PUSH_TASKS, rpc::kCoreWorkers | kGcs,
                 [this](const Peer& peer, rpc::Frame&& frame) {
                   executor_->OnPushTasks(peer, std::move(frame));
                 });
    // From the owner of a task pushed here: drop it, interrupt it, or (force) exit.
    service_.OneWay<proto::CancelTaskRequest>(
        proto::WORKER_CANCEL_TASK, rpc::kCoreWorkers,
        [this](const Peer& peer, proto::CancelTaskRequest&& request) {
          executor_->OnCancelTask(peer, request);
        });
    // The GCS ends the actor this worker hosts (Kill, its owner died, ...): exit at once.
    service_.OneWay<proto::ExitWorkerRequest>(
        proto::WORKER_EXIT, kGcs, [](const Peer&, proto::ExitWorkerRequest&& request) {
          spdlog::info("the GCS ends this actor: {}", request.reason());
          std::fflush(nullptr);
          std::_Exit(0);
        });
  }
  // Replies of the workers and actors this process pushed tasks to, on its own connections.
  service_.Raw(proto::WORKER_TASK_REPLIES, rpc::kCalledPeer,
               [this](const Peer& peer, rpc::Frame&& frame) {
                 if (submitter_->OnTaskReplies(peer, frame)) return;
                 if (actor_submitter_ && actor_submitter_->OnTaskReplies(peer, frame)) return;
                 // Replies of a lease given up (its tasks went elsewhere): nobody waits for them.
               });
  service_.Unary<proto::GetObjectRequest, proto::GetObjectReply>(
      proto::WORKER_GET_OBJECT, rpc::kCoreWorkers,
      [this](const Peer&, proto::GetObjectRequest&& request,
             rpc::Responder<proto::GetObjectReply> respond) {
        ServeGetObject(request, std::move(respond));
      });
  service_.Sync<proto::BorrowerRequest, proto::BorrowerReply>(
      proto::WORKER_ADD_BORROWER, rpc::kCoreWorkers,
      [this](const Peer& peer, const proto::BorrowerRequest& request, proto::BorrowerReply*) {
        if (OnBorrowerMessage(peer.conn, request, /*add=*/true)) return absl::OkStatus();
        return absl::NotFoundError(absl::StrCat("object ", ToHex(request.object_id()),
                                                " is no longer owned here"));
      });
  service_.OneWay<proto::BorrowerRequest>(
      proto::WORKER_REMOVE_BORROWER, rpc::kCoreWorkers,
      [this](const Peer& peer, proto::BorrowerRequest&& request) {
        OnBorrowerMessage(peer.conn, request, /*add=*/false);
      });
  // The GCS's news of a dead node, on this process's connection to its actor channel. What it
  // means for this process's work arrives as its connections close.
  service_.OneWay<proto::NodeInfo>(proto::WORKER_NODE_DIED, rpc::kCalledPeer,
                                   [](const Peer&, proto::NodeInfo&&) {});
}

}  // namespace moray::core
