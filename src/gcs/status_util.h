// Conversions between gRPC and Abseil status. gRPC and Abseil share the canonical code numbering,
// so the mapping keeps the code and the message; this header is the one place that relies on it.
//
//   grpc::Status s = stub->KvGet(&ctx, request, &reply);
//   if (!s.ok()) return gcs::ToAbslStatus(s);
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace moray::gcs {

absl::Status ToAbslStatus(const grpc::Status& status);
grpc::Status ToGrpcStatus(const absl::Status& status);

// `status` with `context` prepended to its message ("<context>: <message>"), same code.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace moray::gcs
