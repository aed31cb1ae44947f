#include "cli/raylet_call.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/raylet_client.h"

namespace moray::cli {

absl::Status CallRaylet(const std::string& ip, int port, uint16_t method, const char* name,
                        const google::protobuf::MessageLite& request,
                        google::protobuf::MessageLite* reply, absl::Duration timeout) {
  auto annotate = [&](const absl::Status& status) {
    std::string message(status.message());
    if (absl::StrContains(message, "Connection refused")) {
      message = "connection refused. Is the node's raylet running?";
    }
    return absl::Status(status.code(),
                        absl::StrCat("raylet ", name, " at ", ip, ":", port, ": ", message));
  };
  auto raylet = RayletClient::Connect(ip, port);
  if (!raylet.ok()) return annotate(raylet.status());
  absl::Status status = (*raylet)->Call(method, request, reply, timeout);
  return status.ok() ? status : annotate(status);
}

}  // namespace moray::cli
