// Status helpers of the GCS and its clients.
//
//   return Annotate(status, "GCS KvGet at 127.0.0.1:6379");  // "GCS KvGet at ...: <message>"
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace moray::gcs {

// `status` with `context` prepended to its message ("<context>: <message>"), same code.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace moray::gcs
