// The store's per-object records. An object is CREATED (being written by its creator, who pins
// it), SEALED (immutable, in shared memory) or SPILLED (on disk only). Sealed, unpinned objects
// sit on one of two LRU lists: secondary copies (evictable) and primary copies (spillable).
#pragma once

#include <cstdint>
#include <list>
#include <string>

#include "common.pb.h"
#include "common/id.h"
#include "object_store/spill_files.h"

namespace moray::object_store {

// Identifies one client connection of the store.
using ClientId = uint64_t;

enum class ObjectState { kCreated, kSealed, kSpilled };

struct ObjectEntry;
using LruList = std::list<ObjectEntry*>;

struct ObjectEntry {
  ObjectId id;
  uint64_t size = 0;
  uint64_t offset = 0;          // in shared memory; meaningless when kSpilled
  ObjectState state = ObjectState::kCreated;
  bool primary = true;          // false: a secondary copy (evictable)
  ClientId creator = 0;         // holds one pin while kCreated
  int64_t pins = 0;             // client pins, over all clients
  bool delete_pending = false;  // the owner deleted it while pinned: freed at zero pins
  proto::Address owner;
  SpillExtent extent;           // valid when kSpilled
  LruList* lru = nullptr;       // the list it is on, if any
  LruList::iterator lru_position;
};

}  // namespace moray::object_store
