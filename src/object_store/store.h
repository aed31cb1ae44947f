// Store: the object store's logic, without I/O to clients: the object table, pins, deletion,
// eviction of secondary copies, spilling of primary copies and restore. StoreServer
// (store_server.h) drives it from its event loop; tests drive it directly.
//
//   Store store(options, region->base());
//   absl::StatusOr<uint64_t> offset = store.Create(client, id, size, owner, /*primary=*/true);
//   ... the client writes base + offset ...
//   store.Seal(client, id);                       // drops the creator's pin
//   absl::StatusOr<ObjectLocation> at = store.Get(reader, id);   // pins for `reader`
//   store.Release(reader, id);
//   store.Delete(id);                             // by the owner; deferred while pinned
//
// Room for CREATE (and for restoring a spilled object): allocate; if no block fits, evict the
// least recently used unpinned secondary copy, else spill the least recently used unpinned primary
// copy, and retry. ResourceExhausted ("object store full") only when nothing unpinned is left.
//
// Thread model: not thread-safe; one thread (the store's loop) owns it. Spill and restore do
// blocking file I/O on that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "object_store/allocator.h"
#include "object_store/object_table.h"
#include "object_store/spill_files.h"
#include "store.pb.h"

namespace moray::object_store {

struct StoreOptions {
  uint64_t capacity = 0;                     // bytes of shared memory
  std::string spill_dir;                     // where full-store spills go; empty: never spill
  uint64_t spill_file_size = 256ull << 20;   // a spill file rolls over past this
};

struct ObjectLocation {
  uint64_t offset = 0;
  uint64_t size = 0;
};

// One object as `moray memory` shows it (Store::List).
struct StoredObject {
  ObjectId id;
  uint64_t size = 0;
  bool primary = true;  // false: a secondary copy
  int64_t pins = 0;
  bool spilled = false;  // on disk only
  bool sealed = false;
  proto::Address owner;
};
// What Store::List returns: the objects listed, and counts over every object.
struct StoreContents {
  std::vector<StoredObject> objects;
  size_t total = 0;  // objects in the table
  size_t num_primary = 0;
  size_t num_secondary = 0;
  uint64_t total_bytes = 0;  // their sizes, spilled ones included
};

class Store {
 public:
  // `base` is the shared region of options.capacity bytes; it must outlive the store.
  Store(StoreOptions options, char* base);
  ~Store();

  // A new object of `size` bytes, pinned for `client` until Seal. AlreadyExists if the id is
  // known; ResourceExhausted if it cannot fit even after evicting and spilling everything unpinned.
  [[nodiscard]] absl::StatusOr<uint64_t> Create(ClientId client, const ObjectId& id, uint64_t size,
                                                const proto::Address& owner, bool primary);
  // Makes a created object immutable and drops its creator's pin. NotFound / FailedPrecondition
  // if `client` did not create it or it is already sealed.
  [[nodiscard]] absl::Status Seal(ClientId client, const ObjectId& id);
  // Pins a sealed object for `client` and returns where it is, restoring it first if it was
  // spilled. NotFound if absent, unsealed or deleted; ResourceExhausted if a restore has no room.
  [[nodiscard]] absl::StatusOr<ObjectLocation> Get(ClientId client, const ObjectId& id);
  // Drops one of `client`'s pins on `id` (no-op if it holds none).
  void Release(ClientId client, const ObjectId& id);
  // The owner frees `id`: now if unpinned, else when the last pin goes. Spilled: drops the extent.
  // An unsealed secondary copy (a failed transfer) is aborted at once: its creator's pin goes,
  // a later Seal fails. An unsealed primary goes when its writer seals it.
  void Delete(const ObjectId& id);
  // Releases every pin `client` holds and aborts the objects it created but never sealed.
  void DisconnectClient(ClientId client);

  // Sealed (in memory or spilled) and not being deleted.
  bool IsReady(const ObjectId& id) const;
  proto::StoreStats Stats() const;
  // The objects in the table (being deleted ones left out), largest first (ties by id), at most
  // `limit` of them (0: all), and the counts over all of them.
  StoreContents List(size_t limit) const;
  const Allocator& allocator() const { return allocator_; }
  // Called (synchronously) whenever an object becomes sealed.
  void SetOnSealed(std::function<void(const ObjectId& id)> on_sealed) {
    on_sealed_ = std::move(on_sealed);
  }

 private:
  absl::StatusOr<uint64_t> AllocateWithRoom(uint64_t size, const ObjectId& for_id);
  absl::Status Spill(ObjectEntry* entry);
  absl::Status Restore(ObjectEntry* entry);
  void Pin(ClientId client, ObjectEntry* entry);
  void Unpin(ObjectEntry* entry, int64_t count);
  void Free(ObjectEntry* entry);  // removes it from the table entirely
  void LruRemove(ObjectEntry* entry);
  void LruAdd(ObjectEntry* entry);  // if sealed in memory, unpinned, not being deleted

  const StoreOptions options_;
  char* const base_;  // not owned
  Allocator allocator_;
  SpillFiles spill_;
  absl::flat_hash_map<ObjectId, std::unique_ptr<ObjectEntry>> objects_;
  absl::flat_hash_map<ClientId, absl::flat_hash_map<ObjectId, int64_t>> client_pins_;
  LruList secondary_lru_;  // front: least recently used
  LruList primary_lru_;
  uint64_t pinned_bytes_ = 0;
  uint64_t num_pinned_ = 0;
  uint64_t num_spilled_ = 0;
  uint64_t evicted_total_ = 0;
  uint64_t spilled_total_ = 0;
  uint64_t restored_total_ = 0;
  std::function<void(const ObjectId&)> on_sealed_;
};

}  // namespace moray::object_store
