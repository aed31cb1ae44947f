// The store's handshake: right after accept, the store sends one message carrying the region's
// size (u64) and its memfd (SCM_RIGHTS); the client receives it before speaking frames.
#pragma once

#include <cstdint>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace moray::object_store {

// Receives {memfd (CLOEXEC, owned by the caller), region size} on `socket_fd`, waiting up to
// `timeout`.
absl::StatusOr<std::pair<int, uint64_t>> ReceiveStoreRegion(int socket_fd, absl::Duration timeout);

}  // namespace moray::object_store
