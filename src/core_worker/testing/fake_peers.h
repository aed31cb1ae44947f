// In-process peers for the submitters' unit tests: a raylet that leases out workers and workers
// that take pushed tasks, each a real rpc::Server with an rpc::Service on loopback, so the code
// under test talks to them over real connections of the framed channel (handshake included).
// Each test scripts what they answer — or that they drop a connection, or never answer.
//
//   rpc::EventLoop fakes;  fakes.StartThread("fakes");
//   FakeWorker worker(&fakes);
//   FakeRaylet raylet(&fakes, {&worker});            // grants `worker` when it is free
//   worker.set_on_push([](FakeWorker& w, const auto& owner, const proto::PushTasksRequest& push) {
//     ... w.Reply(owner, {FakeWorker::Ok(push.tasks(0), "value")}) now, later, or never ...
//   });
//
// Thread model: the fakes run on their loop's thread; the setters, Close and the counters may be
// used from the test's thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "raylet.pb.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"
#include "rpc/testing/fake_server.h"
#include "worker.pb.h"

namespace moray::core::testing {

using rpc::testing::FakeServer;
using rpc::testing::OnLoop;
using rpc::testing::WaitUntil;

// A worker: WORKER_PUSH_TASKS from anyone; what it does with a batch is `on_push`'s to say
// (default: every task answered at once, its value the task's name). WORKER_CANCEL_TASK is
// recorded, and `on_cancel` decides what follows.
class FakeWorker {
 public:
  using PushFn = std::function<void(FakeWorker& worker,
                                    const std::shared_ptr<rpc::Connection>& owner,
                                    const proto::PushTasksRequest& push)>;
  using CancelFn =
      std::function<void(FakeWorker& worker, const std::shared_ptr<rpc::Connection>& owner,
                         const proto::CancelTaskRequest& request)>;

  explicit FakeWorker(rpc::EventLoop* loop) : service_("fake worker") {
    service_.OneWay<proto::PushTasksRequest>(
        proto::WORKER_PUSH_TASKS, rpc::kAnyMember,
        [this](const rpc::Peer& peer, proto::PushTasksRequest&& push) {
          PushFn on_push;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            for (const auto& spec : push.tasks()) {
              received_.push_back(spec.name() + "#" + std::to_string(spec.attempt_number()));
            }
            on_push = on_push_;
          }
          if (on_push) {
            on_push(*this, peer.conn, push);
            return;
          }
          std::vector<proto::TaskReply> replies;
          for (const auto& spec : push.tasks()) replies.push_back(Ok(spec, spec.name()));
          Reply(peer.conn, replies);
        });
    service_.OneWay<proto::CancelTaskRequest>(
        proto::WORKER_CANCEL_TASK, rpc::kAnyMember,
        [this](const rpc::Peer& peer, proto::CancelTaskRequest&& request) {
          CancelFn on_cancel;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            cancels_.push_back(request);
            on_cancel = on_cancel_;
          }
          if (on_cancel) on_cancel(*this, peer.conn, request);
        });
    server_ = std::make_unique<FakeServer>(loop, &service_);
  }

  // Where it listens, as a raylet's grant names it.
  proto::Address address() const {
    proto::Address address;
    address.set_ip("127.0.0.1");
    address.set_port(server_->port());
    address.set_worker_id(worker_id_);
    return address;
  }
  void set_on_push(PushFn fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    on_push_ = std::move(fn);
  }
  // What it does with WORKER_CANCEL_TASK (default: nothing but recording it).
  void set_on_cancel(CancelFn fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    on_cancel_ = std::move(fn);
  }
  std::vector<proto::CancelTaskRequest> cancels() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cancels_;
  }
  // Every task pushed so far, as "name#attempt", in arrival order.
  std::vector<std::string> received() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }
  void CloseConnections() { server_->CloseConnections(); }

  // A successful reply to `spec` whose value is `value`.
  static proto::TaskReply Ok(const proto::TaskSpec& spec, const std::string& value) {
    proto::TaskReply reply;
    reply.set_task_id(spec.task_id());
    reply.set_attempt_number(spec.attempt_number());
    auto* ret = reply.add_returns();
    ret->set_object_id(spec.task_id() + "-return");
    ret->set_data(value);
    return reply;
  }
  // A successful reply with one value per return slot.
  static proto::TaskReply OkValues(const proto::TaskSpec& spec,
                                   const std::vector<std::string>& values) {
    proto::TaskReply reply;
    reply.set_task_id(spec.task_id());
    reply.set_attempt_number(spec.attempt_number());
    for (const auto& value : values) reply.add_returns()->set_data(value);
    return reply;
  }
  // A failed reply: every return slot holds `error`.
  static proto::TaskReply Failed(const proto::TaskSpec& spec, proto::ErrorType type,
                                 const std::string& message) {
    proto::TaskReply reply;
    reply.set_task_id(spec.task_id());
    reply.set_attempt_number(spec.attempt_number());
    reply.mutable_error()->set_type(type);
    reply.mutable_error()->set_message(message);
    return reply;
  }
  // Sends `replies` to `owner` in one WORKER_TASK_REPLIES.
  static void Reply(const std::shared_ptr<rpc::Connection>& owner,
                    const std::vector<proto::TaskReply>& replies) {
    proto::TaskRepliesRequest batch;
    for (const auto& reply : replies) *batch.add_replies() = reply;
    owner->Send(proto::WORKER_TASK_REPLIES, batch);
  }

 private:
  static std::string NextWorkerId() {
    static std::atomic<int> next{0};
    return "fake-worker-" + std::to_string(next++);
  }

  rpc::Service service_;
  const std::string worker_id_ = NextWorkerId();
  mutable std::mutex mutex_;
  PushFn on_push_;                     // guarded by mutex_
  CancelFn on_cancel_;                 // guarded by mutex_
  std::vector<proto::CancelTaskRequest> cancels_;  // guarded by mutex_
  std::vector<std::string> received_;  // guarded by mutex_
  std::unique_ptr<FakeServer> server_;  // last: it stops dispatching before the rest goes
};

// A raylet: grants its workers, each to one lease at a time (a request waits for a free one; a
// worker returned with disconnect_worker is not granted again);
// `on_lease`, when set, answers instead (spillback, an error, or nothing). Records returns.
class FakeRaylet {
 public:
  using Responder = rpc::Responder<proto::RequestWorkerLeaseReply>;
  // Returns true if it answered (or kept) the request; false to grant as usual.
  using LeaseFn = std::function<bool(const proto::RequestWorkerLeaseRequest&, const Responder&)>;
  struct Returned {
    int64_t lease_id;
    bool disconnect;
  };

  FakeRaylet(rpc::EventLoop* loop, std::vector<FakeWorker*> workers)
      : service_("fake raylet"), workers_(std::move(workers)), leased_(workers_.size(), 0) {
    service_.Unary<proto::RequestWorkerLeaseRequest, proto::RequestWorkerLeaseReply>(
        proto::RAYLET_REQUEST_WORKER_LEASE, rpc::kAnyMember,
        [this](const rpc::Peer&, proto::RequestWorkerLeaseRequest&& request, Responder respond) {
          LeaseFn on_lease;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            ++requests_;
            on_lease = on_lease_;
          }
          if (on_lease && on_lease(request, respond)) return;
          waiting_.push_back({request.lease_id(), respond});
          Grant();
        });
    service_.OneWay<proto::ReturnWorkerRequest>(
        proto::RAYLET_RETURN_WORKER, rpc::kAnyMember,
        [this](const rpc::Peer&, proto::ReturnWorkerRequest&& request) {
          {
            std::lock_guard<std::mutex> lock(mutex_);
            returned_.push_back({request.lease_id(), request.disconnect_worker()});
          }
          for (auto& lease : leased_) {
            // A worker returned as broken is never granted again, as a raylet kills it.
            if (lease == request.lease_id()) lease = request.disconnect_worker() ? kRetired : 0;
          }
          Grant();
        });
    service_.OneWay<proto::CancelWorkerLeaseRequest>(
        proto::RAYLET_CANCEL_WORKER_LEASE, rpc::kAnyMember,
        [this](const rpc::Peer&, proto::CancelWorkerLeaseRequest&& request) {
          for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
            if (it->lease_id != request.lease_id()) continue;
            proto::RequestWorkerLeaseReply reply;
            reply.set_lease_id(request.lease_id());
            reply.set_canceled(true);
            it->respond(reply);
            waiting_.erase(it);
            return;
          }
        });
    server_ = std::make_unique<FakeServer>(loop, &service_);
  }

  int port() const { return server_->port(); }
  proto::Address address() const {
    proto::Address address;
    address.set_ip("127.0.0.1");
    address.set_port(port());
    return address;
  }
  void set_on_lease(LeaseFn fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    on_lease_ = std::move(fn);
  }
  int requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::vector<Returned> returned() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return returned_;
  }
  void CloseConnections() { server_->CloseConnections(); }

  // A grant of `worker` for `lease_id` (for an `on_lease` that hands out workers itself).
  static proto::RequestWorkerLeaseReply Grant(int64_t lease_id, const proto::Address& worker) {
    proto::RequestWorkerLeaseReply reply;
    reply.set_lease_id(lease_id);
    reply.set_granted(true);
    *reply.mutable_worker_address() = worker;
    reply.set_worker_pid(4242);
    return reply;
  }

 private:
  struct Waiting {
    int64_t lease_id;
    Responder respond;
  };
  // Grants waiting requests to free workers (loop thread).
  void Grant() {
    for (size_t i = 0; i < workers_.size() && !waiting_.empty(); ++i) {
      if (leased_[i] != 0) continue;
      Waiting next = waiting_.front();
      waiting_.erase(waiting_.begin());
      leased_[i] = next.lease_id;
      next.respond(Grant(next.lease_id, workers_[i]->address()));
    }
  }

  rpc::Service service_;
  const std::vector<FakeWorker*> workers_;
  static constexpr int64_t kRetired = -1;
  std::vector<int64_t> leased_;   // loop thread: each worker's lease (0: free; kRetired)
  std::vector<Waiting> waiting_;  // loop thread
  mutable std::mutex mutex_;
  LeaseFn on_lease_;                // guarded by mutex_
  int requests_ = 0;                // guarded by mutex_
  std::vector<Returned> returned_;  // guarded by mutex_
  std::unique_ptr<FakeServer> server_;  // last: it stops dispatching before the rest goes
};

}  // namespace moray::core::testing
