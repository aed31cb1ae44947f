// StoreClient: a core worker's connection to its node's object store (store_server.h). Maps the
// store's shared memory once at Connect; Create hands out a writable span of that mapping, Get
// returns Buffers that point into it (zero copy) and keep the object pinned while alive.
//
//   auto client = StoreClient::Connect(reply.store_socket());
//   absl::Status put = (*client)->Put(id, data, size, owner);       // create + one copy + seal
//   auto buffers = (*client)->Get({id}, absl::Seconds(10));
//   const char* bytes = (*buffers)[0]->Data();                      // inside the mapping
//   buffers->clear();                                               // sends RELEASE
//   (*client)->Delete({id});                                        // the owner frees it
//
// Errors: Unavailable once the store connection is gone; ResourceExhausted ("object store full")
// when pinned data leaves no room; AlreadyExists for an id the store already holds.
//
// Thread model: every method is thread-safe and synchronous (one round trip for Create, Get,
// Stats and Contains; Seal, Delete and Release are one-way). The client runs one I/O thread of its
// own. Buffers from Get may outlive the StoreClient: the connection and the mapping stay until the
// last Buffer is gone, so the objects they show stay pinned and mapped.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "ray/api/ray_runtime.h"
#include "store.pb.h"

namespace moray::object_store {

class StoreClient {
 public:
  // Connects to the store listening at `socket_path`, receives its memfd and maps it.
  static absl::StatusOr<std::unique_ptr<StoreClient>> Connect(
      const std::string& socket_path, absl::Duration timeout = absl::Seconds(10));
  ~StoreClient();

  // A new object of `size` bytes: write it through the returned span, then Seal. Pinned by this
  // client until Seal (or until the client disconnects, which aborts it). `secondary`: a copy of
  // an object that lives elsewhere (evictable instead of spillable).
  absl::StatusOr<std::span<char>> Create(const ObjectId& id, uint64_t size,
                                         const proto::Address& owner = {}, bool secondary = false);
  // Makes the object immutable and visible to Get. FailedPrecondition if this client has no
  // unsealed object `id`. One-way: this client's later calls see it sealed; another client's
  // Get waits for it, but its Contains may still say false for a moment.
  absl::Status Seal(const ObjectId& id);
  // Create + one memcpy + Seal.
  absl::Status Put(const ObjectId& id, const void* data, uint64_t size,
                   const proto::Address& owner = {});
  // One Buffer per id, in order, once every id is sealed, or when `timeout` passes (then ids not
  // sealed yet are null). absl::InfiniteDuration() waits forever; zero does not wait. Spilled
  // objects are restored first. Each Buffer pins its object until destroyed.
  absl::StatusOr<std::vector<std::shared_ptr<ray::internal::Buffer>>> Get(
      const std::vector<ObjectId>& ids, absl::Duration timeout);
  // The owner frees the objects: now if unpinned, else when the last pin goes.
  absl::Status Delete(const std::vector<ObjectId>& ids);
  absl::StatusOr<proto::StoreStats> Stats();
  // True if `id` is sealed in the store (in memory or spilled). False on a lost connection too.
  bool Contains(const ObjectId& id);

  // The client's mapping of the store (for tests and diagnostics).
  const char* base() const;
  uint64_t capacity() const;

  class State;  // shared by the client and the Buffers it returned

 private:
  explicit StoreClient(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace moray::object_store
