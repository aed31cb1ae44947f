#include "core_worker/reference_counter.h"

#include <algorithm>

namespace moray::core {

void ReferenceCounter::AddOwned(const ObjectId& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_[id].owned = true;
}

bool ReferenceCounter::IsOwned(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(id);
  return it != entries_.end() && it->second.owned;
}

void ReferenceCounter::AddBorrowed(const ObjectId& id, const rpc::Address& owner) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = entries_.try_emplace(id);
  if (inserted) it->second.owner = owner;
}

std::optional<rpc::Address> ReferenceCounter::OwnerOf(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.owned) return std::nullopt;
  return it->second.owner;
}

bool ReferenceCounter::Tracks(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.count(id) > 0;
}

template <typename Fn>
void ReferenceCounter::Update(const ObjectId& id, Fn&& change) {
  std::vector<Release> releases;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    change(it->second);
    MaybeRelease(id, &releases);
  }
  Run(releases);
}

void ReferenceCounter::AddLocalReference(const ObjectId& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(id);
  if (it != entries_.end()) ++it->second.local;
}

void ReferenceCounter::RemoveLocalReference(const ObjectId& id) {
  Update(id, [](Entry& e) {
    if (e.local > 0) --e.local;
  });
}

void ReferenceCounter::AddSubmittedTaskReference(const ObjectId& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(id);
  if (it != entries_.end()) ++it->second.submitted;
}

void ReferenceCounter::RemoveSubmittedTaskReference(const ObjectId& id) {
  Update(id, [](Entry& e) {
    if (e.submitted > 0) --e.submitted;
  });
}

void ReferenceCounter::SetNested(const ObjectId& container, const std::vector<ObjectId>& nested) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(container);
  if (it == entries_.end()) return;
  for (const auto& id : nested) {
    auto n = entries_.find(id);
    if (n == entries_.end()) continue;
    ++n->second.contained;
    it->second.nested.push_back(id);
  }
}

bool ReferenceCounter::AddBorrower(const ObjectId& id, const rpc::Address& borrower_key,
                                   int64_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.owned) return false;
  it->second.borrowers[borrower_key] += count;
  return true;
}

void ReferenceCounter::RemoveBorrower(const ObjectId& id, const rpc::Address& borrower_key,
                                      int64_t count) {
  Update(id, [&](Entry& e) {
    auto b = e.borrowers.find(borrower_key);
    if (b == e.borrowers.end()) return;
    b->second -= count;
    if (b->second <= 0) e.borrowers.erase(b);
  });
}

void ReferenceCounter::DropBorrower(const rpc::Address& borrower_key) {
  std::vector<Release> releases;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<ObjectId> touched;
    for (auto& [id, e] : entries_) {
      if (e.borrowers.erase(borrower_key) > 0) touched.push_back(id);
    }
    for (const auto& id : touched) MaybeRelease(id, &releases);
  }
  Run(releases);
}

void ReferenceCounter::AddHeld(const ObjectId& id, int64_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(id);
  if (it != entries_.end() && !it->second.owned) it->second.held += count;
}

void ReferenceCounter::AcceptNested(
    const ObjectId& container, const google::protobuf::RepeatedPtrField<proto::NestedRef>& nested,
    const rpc::Address& self_key) {
  AcceptNested(std::vector<ObjectId>{container}, nested, self_key);
}

void ReferenceCounter::AcceptNested(
    const std::vector<ObjectId>& containers,
    const google::protobuf::RepeatedPtrField<proto::NestedRef>& nested,
    const rpc::Address& self_key) {
  std::vector<Release> releases;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& ref : nested) {
      const ObjectId id = ObjectId::FromBinary(ref.object_id());
      auto [it, inserted] = entries_.try_emplace(id);
      if (inserted) it->second.owner = rpc::Address::FromProto(ref.owner());
      for (const ObjectId& container : containers) {
        auto c = entries_.find(container);  // looked up each time: try_emplace may rehash
        if (c == entries_.end()) continue;
        ++entries_.at(id).contained;
        c->second.nested.push_back(id);
      }
      Entry& e = entries_.at(id);
      if (e.owned) {
        auto b = e.borrowers.find(self_key);
        if (b != e.borrowers.end() && --b->second <= 0) e.borrowers.erase(b);
      } else {
        ++e.held;
      }
    }
    for (const auto& ref : nested) MaybeRelease(ObjectId::FromBinary(ref.object_id()), &releases);
  }
  Run(releases);
}

bool ReferenceCounter::HoldForTask(const ObjectId& id, const rpc::Address& owner) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = entries_.try_emplace(id);
  if (inserted) it->second.owner = owner;
  ++it->second.submitted;
  return inserted;
}

void ReferenceCounter::MaybeRelease(const ObjectId& id, std::vector<Release>* out) {
  // Most calls find the object still referenced: answer those without allocating.
  if (auto it = entries_.find(id); it == entries_.end() || InUse(it->second)) return;
  // Iterative: releasing a container may release what it held.
  std::vector<ObjectId> pending{id};
  while (!pending.empty()) {
    const ObjectId current = pending.back();
    pending.pop_back();
    auto it = entries_.find(current);
    if (it == entries_.end()) continue;
    Entry& e = it->second;
    if (InUse(e)) continue;
    out->push_back({current, e.owned, e.owner, e.held});
    std::vector<ObjectId> nested = std::move(e.nested);
    entries_.erase(it);
    for (const auto& n : nested) {
      auto child = entries_.find(n);
      if (child == entries_.end()) continue;
      if (child->second.contained > 0) --child->second.contained;
      pending.push_back(n);
    }
  }
}

void ReferenceCounter::Run(const std::vector<Release>& releases) {
  for (const auto& r : releases) {
    if (r.owned) {
      if (callbacks_.on_free_owned) callbacks_.on_free_owned(r.id);
    } else if (callbacks_.on_release_borrowed) {
      callbacks_.on_release_borrowed(r.id, r.owner, r.held);
    }
  }
}

std::vector<proto::NestedRef> ReferenceCounter::NestedOf(const ObjectId& container,
                                                         const proto::Address& self) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<proto::NestedRef> out;
  auto it = entries_.find(container);
  if (it == entries_.end()) return out;
  for (const auto& id : it->second.nested) {
    auto n = entries_.find(id);
    if (n == entries_.end()) continue;
    proto::NestedRef ref;
    ref.set_object_id(id.Binary());
    if (n->second.owned) {
      *ref.mutable_owner() = self;
    } else {
      n->second.owner.ToProto(ref.mutable_owner());
    }
    out.push_back(std::move(ref));
  }
  return out;
}

size_t ReferenceCounter::NumOwned() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (const auto& [id, e] : entries_) n += e.owned;
  return n;
}

std::vector<ReferenceCounter::Counts> ReferenceCounter::Snapshot(size_t max, size_t* total) const {
  std::vector<Counts> out;
  std::lock_guard<std::mutex> lock(mutex_);
  *total = entries_.size();
  out.reserve(std::min(max, entries_.size()));
  for (const auto& [id, e] : entries_) {
    if (out.size() >= max) break;
    out.push_back({id, e.owned, e.local, e.submitted, e.contained,
                   static_cast<int64_t>(e.borrowers.size())});
  }
  return out;
}

size_t ReferenceCounter::NumTracked() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace moray::core
