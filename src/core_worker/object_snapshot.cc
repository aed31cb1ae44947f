#include "core_worker/object_snapshot.h"

#include <algorithm>

#include "common/id.h"

namespace moray::core {
namespace {

// Whether `id` is a put (its index counts from kPutIndexBase) rather than a task return.
bool IsPut(const ObjectId& id) {
  uint32_t index = 0;
  for (int i = 3; i >= 0; --i) index = (index << 8) | id.data()[TaskId::kSize + i];
  return index >= kPutIndexBase;
}

}  // namespace

std::string ReferenceTypeOf(const ReferenceCounter::Counts& c) {
  if (c.local > 0) return "LOCAL_REFERENCE";
  if (!c.owned) return "BORROWED";
  if (c.submitted > 0) return "USED_BY_PENDING_TASK";
  if (c.contained > 0) return "CAPTURED_IN_OBJECT";
  return "PINNED_IN_MEMORY";
}

proto::WorkerObjects BuildObjectSnapshot(const ReferenceCounter& references,
                                         const MemoryStore& store,
                                         const TaskStateLookup& task_state, size_t max_objects) {
  size_t total = 0;
  std::vector<ReferenceCounter::Counts> counts = references.Snapshot(max_objects, &total);
  std::sort(counts.begin(), counts.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  proto::WorkerObjects out;
  out.set_num_truncated(static_cast<int64_t>(total - counts.size()));
  out.mutable_objects()->Reserve(static_cast<int>(counts.size()));
  for (const auto& c : counts) {
    proto::ObjectRecord* o = out.add_objects();
    o->set_object_id(c.id.Binary());
    o->set_is_owner(c.owned);
    o->set_local_refs(c.local);
    o->set_submitted_task_refs(c.submitted);
    o->set_contained_in_refs(c.contained);
    o->set_num_borrowers(c.num_borrowers);
    o->set_reference_type(ReferenceTypeOf(c));
    o->set_call_site("disabled");
    std::optional<StoredObject> value = store.Find(c.id);
    if (value) {
      if (value->is_error()) {
        o->set_object_size(static_cast<int64_t>(value->error.ByteSizeLong()));
        o->set_task_status("FAILED");
      } else {
        o->set_object_size(value->in_plasma || !value->data
                               ? value->size
                               : static_cast<int64_t>(value->data->Size()));
        o->set_task_status("FINISHED");
      }
      continue;
    }
    o->set_object_size(-1);
    if (!c.owned || IsPut(c.id)) {
      o->set_task_status("-");
      continue;
    }
    // A pending return: the submitter's state; before the loop took the task, its first state.
    std::optional<proto::TaskState> state = task_state ? task_state(TaskIdOf(c.id)) : std::nullopt;
    o->set_task_status(proto::TaskState_Name(state && *state != proto::TASK_STATE_NIL
                                                 ? *state
                                                 : proto::PENDING_ARGS_AVAIL));
  }
  return out;
}

}  // namespace moray::core
