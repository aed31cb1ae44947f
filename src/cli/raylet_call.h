// One synchronous call from this process (the CLI role) to a node's raylet, for the commands that
// act through a node (`moray stack`, `moray memory`; docs/observability.md, "Debugging").
//
//   proto::DumpStackReply reply;
//   absl::Status s = CallRaylet(where.node_ip, where.raylet_port, proto::RAYLET_DUMP_STACK,
//                               "DumpStack", request, &reply, absl::Seconds(40));
//
// Errors keep the raylet's canonical code, with a message naming the method and the node's
// address; Unavailable when the raylet cannot be reached ("... connection refused. Is the node's
// raylet running?"), DeadlineExceeded when it does not answer within `timeout`.
//
// Thread model: blocks the calling thread (never call it on an event loop). One call over a
// RayletClient (raylet_client.h) of its own; use a RayletClient directly for several calls.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"

namespace moray::cli {

absl::Status CallRaylet(const std::string& ip, int port, uint16_t method, const char* name,
                        const google::protobuf::MessageLite& request,
                        google::protobuf::MessageLite* reply, absl::Duration timeout);

}  // namespace moray::cli
