// The objects a core worker tracks, as one snapshot for the state API (`moray list objects`).
// Built on the I/O loop's timer from the ReferenceCounter's counts and the MemoryStore's values —
// nothing on the Put/Get/submit paths — and sent to the raylet (REPORT_OBJECTS) when it differs
// from the last one sent; the raylet forwards it to the GCS, which keeps the latest per worker.
//
// Per object:
//   object_size     bytes: the shared-memory store's size for large values, the byte size of
//                   inline values, the serialized size of a stored error; -1 while this process
//                   has no value (a pending task return, a borrowed object not fetched).
//   task_status     owned: FINISHED once ready (FAILED if it holds an error); a pending task
//                   return shows its task's state as the owner knows it (PENDING_ARGS_AVAIL,
//                   PENDING_NODE_ASSIGNMENT, SUBMITTED_TO_WORKER). Borrowed: FINISHED/FAILED if
//                   a copy is here, else "-" (only the owner knows).
//   reference_type  the first that applies:
//                     LOCAL_REFERENCE       ObjectRef handles exist in this process;
//                     BORROWED              a borrowed object (held by a task running here, a
//                                           task this process submitted, or a containing value);
//                     USED_BY_PENDING_TASK  owned, held by tasks not finished yet;
//                     CAPTURED_IN_OBJECT    owned, held by values that contain a ref to it;
//                     PINNED_IN_MEMORY      owned, held only by borrowers in other processes.
//   call_site       "disabled" (call sites are not recorded, as in Ray by default).
//
// Bounded: at most `max_objects` objects; the rest are counted in num_truncated.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "common/id.h"
#include "core_worker/memory_store.h"
#include "core_worker/reference_counter.h"
#include "gcs.pb.h"

namespace moray::core {

// The state of a pending task owned here (nullopt: not pending).
using TaskStateLookup = std::function<std::optional<proto::TaskState>(const TaskId& task_id)>;

// The reference type of one object's counts (see above).
std::string ReferenceTypeOf(const ReferenceCounter::Counts& counts);

// The snapshot's objects, sorted by id (so equal contents serialize equally). Identity fields
// (worker, node, job, pid, ip, is_driver) are left to the caller.
proto::WorkerObjects BuildObjectSnapshot(const ReferenceCounter& references,
                                         const MemoryStore& store,
                                         const TaskStateLookup& task_state, size_t max_objects);

}  // namespace moray::core
