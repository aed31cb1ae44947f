// A blocking client of one raylet's CLI methods (proto/raylet.proto, ROLE_CLI), for commands
// that ask a node about itself (`moray logs`). One connection on a private event loop thread.
//
//   auto raylet = RayletClient::Connect("10.0.0.2", 41000);
//   proto::ListLogsReply files;
//   absl::Status s = (*raylet)->Call(proto::RAYLET_LIST_LOGS, proto::ListLogsRequest{}, &files,
//                                    absl::Seconds(10));
//
// Thread model: Call from one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"

namespace moray::cli {

class RayletClient {
 public:
  // The process's role and auth must be set (rpc::SetProcessRole/SetProcessAuth).
  static absl::StatusOr<std::unique_ptr<RayletClient>> Connect(const std::string& ip, int port);
  ~RayletClient();

  // Sends `request` and waits for the reply (up to `timeout`: DeadlineExceeded). An error
  // reply's status is returned as is; a lost connection is Unavailable naming the raylet.
  absl::Status Call(uint16_t method, const google::protobuf::MessageLite& request,
                    google::protobuf::MessageLite* reply, absl::Duration timeout);

 private:
  RayletClient() = default;
  std::string address_;
  rpc::EventLoop loop_;
  std::shared_ptr<rpc::Connection> conn_;
};

}  // namespace moray::cli
