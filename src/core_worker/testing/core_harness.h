// The parts of a core worker a submitter runs in — its I/O loop, memory store, reference counter,
// task-event buffer, service and connection pool, tied together in a CoreContext — for unit tests
// that put one submitter between scripted peers (fake_peers.h). A test's owner or caller derives
// from it, creates its submitter on the loop, and resets it there before this is destroyed.
#pragma once

#include <memory>
#include <string>

#include "absl/time/clock.h"

#include "common/id.h"
#include "core_worker/context.h"
#include "core_worker/memory_store.h"
#include "core_worker/reference_counter.h"
#include "core_worker/task_event_buffer.h"
#include "rpc/connection_pool.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"
#include "rpc/testing/fake_server.h"

namespace moray::core::testing {

class CoreHarness {
 protected:
  explicit CoreHarness(const std::string& name)
      : references_(ReferenceCounter::Callbacks{
            [](const ObjectId&) {}, [](const ObjectId&, const rpc::Address&, int64_t) {}}),
        service_(name) {
    loop_.StartThread(name + "_io");
    context_.job_id = JobIdFromInt(1);
    context_.worker_id = WorkerId::FromRandom();
    context_.address = rpc::Address{rpc::Endpoint{"127.0.0.1", 1}, NodeId(), context_.worker_id};
    context_.address_proto = context_.address.ToProto();
    context_.address_string = context_.address.ToString();
    context_.loop = &loop_;
    context_.store = &store_;
    context_.references = &references_;
    context_.events = &events_;
    context_.service = &service_;
    rpc::testing::OnLoop(&loop_, [&] {
      pool_ = std::make_unique<rpc::ConnectionPool>(&loop_, &service_);
      context_.pool = pool_.get();
    });
  }
  ~CoreHarness() {
    loop_.Stop();
    store_.Shutdown();
  }

 public:
  // The stored object `id` (a task's return): its value, or "error: <message>", or
  // "(not ready)" after `timeout`.
  std::string Result(const ObjectId& id, absl::Duration timeout = absl::Seconds(20)) {
    auto objects = store_.WaitAll({id}, absl::Now() + timeout);
    if (!objects) return "(not ready)";
    const StoredObject& object = (*objects)[0];
    if (object.is_error()) return "error: " + object.error.message();
    return std::string(reinterpret_cast<const char*>(object.data->Data()), object.data->Size());
  }

 protected:

  rpc::EventLoop loop_;
  MemoryStore store_;
  TaskEventBuffer events_;
  ReferenceCounter references_;
  rpc::Service service_;
  CoreContext context_;
  std::unique_ptr<rpc::ConnectionPool> pool_;  // loop thread
};

}  // namespace moray::core::testing
