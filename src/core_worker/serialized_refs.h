// The refs serialized into values on the calling thread (core_worker_borrowing.cc): the adaptor
// of ObjectRef records each one (CoreWorker::OwnerAddressOf), and whoever sends the value — a task
// submission, a put, a task's return — takes the list and carries it beside the value.
#pragma once

#include <vector>

#include "common.pb.h"

namespace moray::core {

void NoteSerializedRef(proto::NestedRef ref);
std::vector<proto::NestedRef> TakeSerializedRefs();

}  // namespace moray::core
