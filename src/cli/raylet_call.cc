#include "cli/raylet_call.h"

#include <algorithm>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"

namespace moray::cli {

absl::Status CallRaylet(const std::string& ip, int port, uint16_t method, const char* name,
                        const google::protobuf::MessageLite& request,
                        google::protobuf::MessageLite* reply, absl::Duration timeout) {
  const std::string where = absl::StrCat("raylet ", name, " at ", ip, ":", port);
  auto annotate = [&](const absl::Status& status) {
    std::string message(status.message());
    if (absl::StrContains(message, "Connection refused")) {
      message = "connection refused. Is the node's raylet running?";
    }
    return absl::Status(status.code(), absl::StrCat(where, ": ", message));
  };
  rpc::EventLoop loop;
  loop.StartThread("cli_raylet");
  struct Waiter {
    absl::Notification done;
    absl::Status status;
    rpc::Frame frame;
  };
  auto waiter = std::make_shared<Waiter>();
  std::shared_ptr<rpc::Connection> conn;
  {
    auto connected = rpc::Connection::Connect(&loop, ip, port, std::min(timeout, absl::Seconds(5)));
    if (!connected.ok()) {
      loop.Stop();
      return annotate(connected.status());
    }
    conn = *std::move(connected);
  }
  loop.Post([conn, waiter, method, &request] {
    conn->SetHandlers(
        [](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& frame) {
          if (frame.seq != 0)
            c->ReplyError(frame, absl::UnimplementedError("the CLI serves no calls"));
        },
        [](const std::shared_ptr<rpc::Connection>&) {});
    conn->Call(method, request, [waiter](absl::Status status, rpc::Frame&& frame) {
      waiter->status = std::move(status);
      waiter->frame = std::move(frame);
      waiter->done.Notify();
    });
  });
  absl::Status result;
  if (!waiter->done.WaitForNotificationWithTimeout(timeout)) {
    result = absl::DeadlineExceededError(
        absl::StrCat("no reply within ", absl::FormatDuration(timeout)));
  } else if (!waiter->status.ok()) {
    result = waiter->status;
  } else if (auto parsed = waiter->frame.ParseBody(reply); !parsed.ok()) {
    result = absl::InternalError(absl::StrCat("the reply does not parse: ", parsed.message()));
  }
  // Closed on its loop, which then stops; the loop outlives the connection's last callback.
  absl::Notification closed;
  loop.Post([conn, &closed] {
    conn->Close();
    closed.Notify();
  });
  closed.WaitForNotification();
  conn.reset();
  loop.Stop();
  return result.ok() ? result : annotate(result);
}

}  // namespace moray::cli
