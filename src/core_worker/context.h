// CoreContext: what the parts of a core worker share — its identity, its I/O loop, its raylet
// connection, its connections to other peers (one pool), its service, its objects and its event
// buffer. Owned by CoreWorker, which outlives every part
// that borrows it.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "common.pb.h"
#include "common/id.h"
#include "core_worker/memory_store.h"
#include "core_worker/reference_counter.h"
#include "core_worker/task_event_buffer.h"
#include "object_store/store_client.h"
#include "rpc/channel.h"
#include "rpc/connection_pool.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"

namespace moray::core {

struct CoreContext {
  bool is_driver = false;
  JobId job_id;
  WorkerId worker_id;
  NodeId node_id;
  rpc::Address address;          // where this core worker listens, and who it is
  proto::Address address_proto;  // the same, as messages carry it
  std::string address_string;    // the same, as serialized refs carry it (rpc::Address::ToString)
  int pid = 0;

  rpc::EventLoop* loop = nullptr;                 // the I/O loop
  std::shared_ptr<rpc::Connection> raylet;        // the local raylet (its own connection)
  // Every other peer (leased workers, actors, owners, other raylets), one connection each; a
  // user learns that a connection closed through pool->OnClose. Loop thread only.
  rpc::ConnectionPool* pool = nullptr;
  // This process's methods (worker.proto), on its port and on pooled connections. Raw handlers
  // answer a malformed frame with service->Malformed.
  rpc::Service* service = nullptr;
  MemoryStore* store = nullptr;
  ReferenceCounter* references = nullptr;
  TaskEventBuffer* events = nullptr;
  object_store::StoreClient* plasma = nullptr;  // the node's object store; null if it has none
  // Bytes of small values this process keeps in its own memory store (MemoryStore::bytes());
  // past it, new ones go to the node's object store. Set at registration (the raylet's
  // --inline-object-memory).
  int64_t inline_object_memory = std::numeric_limits<int64_t>::max();
  std::atomic<bool> shutting_down{false};
};

// Whether a value of `size` bytes is kept in this process's memory store rather than in the
// node's shared-memory object store: small values are, while the memory store is within
// `inline_object_memory` (a process without an object store keeps everything).
bool KeepInMemory(const CoreContext& context, size_t size);

}  // namespace moray::core
