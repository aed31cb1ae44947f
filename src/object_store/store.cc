#include "object_store/store.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "spdlog/spdlog.h"

namespace moray::object_store {

Store::Store(StoreOptions options, char* base)
    : options_(std::move(options)),
      base_(base),
      allocator_(options_.capacity),
      spill_(options_.spill_dir, options_.spill_file_size) {}

Store::~Store() = default;

absl::StatusOr<uint64_t> Store::Create(ClientId client, const ObjectId& id, uint64_t size,
                                       const proto::Address& owner, bool primary) {
  if (objects_.contains(id)) {
    return absl::AlreadyExistsError(absl::StrCat("object ", id.Hex(), " already exists"));
  }
  absl::StatusOr<uint64_t> offset = AllocateWithRoom(size, id);
  if (!offset.ok()) return offset.status();
  auto entry = std::make_unique<ObjectEntry>();
  entry->id = id;
  entry->size = size;
  entry->offset = *offset;
  entry->state = ObjectState::kCreated;
  entry->primary = primary;
  entry->creator = client;
  entry->owner = owner;
  ObjectEntry* raw = entry.get();
  objects_.emplace(id, std::move(entry));
  Pin(client, raw);
  return *offset;
}

absl::Status Store::Seal(ClientId client, const ObjectId& id) {
  auto it = objects_.find(id);
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat("cannot seal unknown object ", id.Hex()));
  }
  ObjectEntry* entry = it->second.get();
  if (entry->state != ObjectState::kCreated || entry->creator != client) {
    return absl::FailedPreconditionError(
        absl::StrCat("object ", id.Hex(), " is sealed or was created by another client"));
  }
  entry->state = ObjectState::kSealed;
  const bool deleting = entry->delete_pending;
  Release(client, id);  // the creator's pin; may free an object deleted meanwhile
  if (!deleting && on_sealed_) on_sealed_(id);
  return absl::OkStatus();
}

absl::StatusOr<ObjectLocation> Store::Get(ClientId client, const ObjectId& id) {
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second->state == ObjectState::kCreated ||
      it->second->delete_pending) {
    return absl::NotFoundError(absl::StrCat("object ", id.Hex(), " is not in the store"));
  }
  ObjectEntry* entry = it->second.get();
  if (entry->state == ObjectState::kSpilled) {
    if (absl::Status restored = Restore(entry); !restored.ok()) return restored;
  }
  Pin(client, entry);
  return ObjectLocation{entry->offset, entry->size};
}

void Store::Release(ClientId client, const ObjectId& id) {
  auto pins = client_pins_.find(client);
  if (pins == client_pins_.end()) return;
  auto pin = pins->second.find(id);
  if (pin == pins->second.end()) return;
  if (--pin->second == 0) pins->second.erase(pin);
  if (pins->second.empty()) client_pins_.erase(pins);
  auto it = objects_.find(id);
  if (it != objects_.end()) Unpin(it->second.get(), 1);
}

void Store::Delete(const ObjectId& id) {
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  ObjectEntry* entry = it->second.get();
  if (entry->state == ObjectState::kCreated && !entry->primary) {
    // An unsealed secondary copy: a transfer from another node that failed. Its creator's pin
    // goes with it, so the id can be created again (e.g. by the task that rebuilds the object).
    auto pins = client_pins_.find(entry->creator);
    if (pins != client_pins_.end()) {
      auto held = pins->second.find(id);
      if (held != pins->second.end()) {
        entry->pins -= held->second;
        pins->second.erase(held);
      }
    }
  }
  if (entry->pins > 0) {
    entry->delete_pending = true;
    return;
  }
  Free(entry);
}

void Store::DisconnectClient(ClientId client) {
  auto pins = client_pins_.find(client);
  if (pins == client_pins_.end()) return;
  auto held = std::move(pins->second);
  client_pins_.erase(pins);
  for (const auto& [id, count] : held) {
    auto it = objects_.find(id);
    if (it == objects_.end()) continue;
    ObjectEntry* entry = it->second.get();
    // An object its creator never sealed can never become valid: abort it.
    if (entry->state == ObjectState::kCreated && entry->creator == client) {
      entry->delete_pending = true;
    }
    Unpin(entry, count);
  }
}

bool Store::IsReady(const ObjectId& id) const {
  auto it = objects_.find(id);
  return it != objects_.end() && it->second->state != ObjectState::kCreated &&
         !it->second->delete_pending;
}

proto::StoreStats Store::Stats() const {
  proto::StoreStats stats;
  stats.set_capacity(allocator_.capacity());
  stats.set_used(allocator_.used());
  stats.set_spilled_bytes(spill_.live_bytes());
  stats.set_num_objects(objects_.size());
  stats.set_num_in_memory(objects_.size() - num_spilled_);
  stats.set_num_spilled(num_spilled_);
  stats.set_num_pinned(num_pinned_);
  stats.set_pinned_bytes(pinned_bytes_);
  stats.set_num_spill_files(spill_.num_files());
  stats.set_evicted_total(evicted_total_);
  stats.set_spilled_total(spilled_total_);
  stats.set_restored_total(restored_total_);
  return stats;
}

StoreContents Store::List(size_t limit) const {
  StoreContents contents;
  std::vector<StoredObject>& objects = contents.objects;
  objects.reserve(objects_.size());
  for (const auto& [id, entry] : objects_) {
    if (entry->delete_pending) continue;
    ++(entry->primary ? contents.num_primary : contents.num_secondary);
    contents.total_bytes += entry->size;
    objects.push_back({.id = id,
                       .size = entry->size,
                       .primary = entry->primary,
                       .pins = entry->pins,
                       .spilled = entry->state == ObjectState::kSpilled,
                       .sealed = entry->state != ObjectState::kCreated,
                       .owner = entry->owner});
  }
  contents.total = objects.size();
  auto larger = [](const StoredObject& a, const StoredObject& b) {
    return a.size != b.size ? a.size > b.size : a.id.Binary() < b.id.Binary();
  };
  if (limit > 0 && objects.size() > limit) {
    std::partial_sort(objects.begin(), objects.begin() + static_cast<ptrdiff_t>(limit),
                      objects.end(), larger);
    objects.resize(limit);
  } else {
    std::sort(objects.begin(), objects.end(), larger);
  }
  return contents;
}

absl::StatusOr<uint64_t> Store::AllocateWithRoom(uint64_t size, const ObjectId& for_id) {
  if (Allocator::Rounded(size) > allocator_.capacity()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("object store full: object ", for_id.Hex(), " of ", size,
                     " bytes is larger than the object store (", allocator_.capacity(), " bytes)"));
  }
  while (true) {
    if (std::optional<uint64_t> offset = allocator_.Allocate(size)) return *offset;
    if (!secondary_lru_.empty()) {
      ObjectEntry* victim = secondary_lru_.front();
      evicted_total_++;
      Free(victim);
      continue;
    }
    if (!primary_lru_.empty() && !options_.spill_dir.empty()) {
      if (absl::Status spilled = Spill(primary_lru_.front()); !spilled.ok()) {
        return absl::Status(spilled.code(),
                            absl::StrCat("object store full and spilling failed: ",
                                         spilled.message()));
      }
      continue;
    }
    return absl::ResourceExhaustedError(absl::StrCat(
        "object store full: no room for object ", for_id.Hex(), " of ", size, " bytes: ",
        pinned_bytes_, " of ", allocator_.capacity(), " bytes are pinned (", num_pinned_,
        " objects in use or being written), largest free block ", allocator_.LargestFreeBlock(),
        " bytes", options_.spill_dir.empty() ? "; spilling is disabled" : ""));
  }
}

absl::Status Store::Spill(ObjectEntry* entry) {
  absl::StatusOr<SpillExtent> extent = spill_.Write(base_ + entry->offset, entry->size);
  if (!extent.ok()) return extent.status();
  LruRemove(entry);
  allocator_.Free(entry->offset);
  entry->extent = *extent;
  entry->state = ObjectState::kSpilled;
  num_spilled_++;
  spilled_total_++;
  return absl::OkStatus();
}

absl::Status Store::Restore(ObjectEntry* entry) {
  absl::StatusOr<uint64_t> offset = AllocateWithRoom(entry->size, entry->id);
  if (!offset.ok()) return offset.status();
  if (absl::Status read = spill_.Read(entry->extent, base_ + *offset); !read.ok()) {
    allocator_.Free(*offset);
    return read;
  }
  spill_.Drop(entry->extent);
  entry->extent = SpillExtent{};
  entry->offset = *offset;
  entry->state = ObjectState::kSealed;
  num_spilled_--;
  restored_total_++;
  LruAdd(entry);
  return absl::OkStatus();
}

void Store::Pin(ClientId client, ObjectEntry* entry) {
  client_pins_[client][entry->id]++;
  if (entry->pins++ == 0) {
    LruRemove(entry);
    pinned_bytes_ += entry->size;
    num_pinned_++;
  }
}

void Store::Unpin(ObjectEntry* entry, int64_t count) {
  entry->pins -= count;
  if (entry->pins > 0) return;
  entry->pins = 0;
  pinned_bytes_ -= entry->size;
  num_pinned_--;
  if (entry->delete_pending) {
    Free(entry);
  } else {
    LruAdd(entry);
  }
}

void Store::Free(ObjectEntry* entry) {
  LruRemove(entry);
  if (entry->state == ObjectState::kSpilled) {
    spill_.Drop(entry->extent);
    num_spilled_--;
  } else {
    allocator_.Free(entry->offset);
  }
  const ObjectId id = entry->id;  // erase destroys *entry
  objects_.erase(id);
}

void Store::LruRemove(ObjectEntry* entry) {
  if (entry->lru == nullptr) return;
  entry->lru->erase(entry->lru_position);
  entry->lru = nullptr;
}

void Store::LruAdd(ObjectEntry* entry) {
  if (entry->state != ObjectState::kSealed || entry->pins > 0 || entry->delete_pending) return;
  LruRemove(entry);
  entry->lru = entry->primary ? &primary_lru_ : &secondary_lru_;
  entry->lru_position = entry->lru->insert(entry->lru->end(), entry);
}

}  // namespace moray::object_store
