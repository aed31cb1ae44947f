// CoreContext: what the parts of a core worker share — its identity, its I/O loop, its raylet
// connection, its objects and its event buffer. Owned by CoreWorker, which outlives every part
// that borrows it.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common.pb.h"
#include "core_worker/memory_store.h"
#include "core_worker/reference_counter.h"
#include "core_worker/task_event_buffer.h"
#include "object_store/store_client.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"

namespace moray::core {

struct CoreContext {
  bool is_driver = false;
  std::string job_id;      // binary
  std::string worker_id;   // binary
  std::string node_id;     // binary
  proto::Address address;  // where this core worker listens
  std::string address_string;  // "ip:port:worker_id_hex", carried inside serialized refs
  int pid = 0;

  rpc::EventLoop* loop = nullptr;                 // the I/O loop
  std::shared_ptr<rpc::Connection> raylet;        // the local raylet
  MemoryStore* store = nullptr;
  ReferenceCounter* references = nullptr;
  TaskEventBuffer* events = nullptr;
  object_store::StoreClient* plasma = nullptr;  // the node's object store; null if it has none
  std::atomic<bool> shutting_down{false};
};

// "ip:port:worker_id_hex" <-> Address.
std::string AddressToString(const proto::Address& address);
bool AddressFromString(const std::string& text, proto::Address* address);

}  // namespace moray::core
