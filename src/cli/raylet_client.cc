#include "cli/raylet_client.h"

#include <future>

#include "absl/strings/str_cat.h"

namespace moray::cli {

absl::StatusOr<std::unique_ptr<RayletClient>> RayletClient::Connect(const std::string& ip,
                                                                    int port) {
  std::unique_ptr<RayletClient> client(new RayletClient());
  client->address_ = absl::StrCat(ip, ":", port);
  client->loop_.StartThread("cli_raylet");
  auto conn = rpc::Connection::Connect(&client->loop_, ip, port, absl::Seconds(5));
  if (!conn.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the raylet at ", client->address_,
                                               ": ", conn.status().message()));
  }
  client->conn_ = *conn;
  client->conn_->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                             [](const std::shared_ptr<rpc::Connection>&) {});
  return client;
}

RayletClient::~RayletClient() {
  if (conn_) conn_->Close();
  loop_.Stop();
}

absl::Status RayletClient::Call(uint16_t method, const google::protobuf::MessageLite& request,
                                google::protobuf::MessageLite* reply, absl::Duration timeout) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<rpc::Frame>>>();
  auto future = promise->get_future();
  conn_->Call(method, request, [promise](absl::Status status, rpc::Frame&& frame) {
    if (status.ok()) {
      promise->set_value(std::move(frame));
    } else {
      promise->set_value(status);
    }
  });
  if (future.wait_for(absl::ToChronoSeconds(timeout) + std::chrono::seconds(1)) !=
      std::future_status::ready) {
    return absl::DeadlineExceededError(absl::StrCat(
        "the raylet at ", address_, " did not answer within ", absl::FormatDuration(timeout)));
  }
  absl::StatusOr<rpc::Frame> frame = future.get();
  if (!frame.ok()) {
    if (frame.status().code() == absl::StatusCode::kUnavailable) {
      return absl::UnavailableError(
          absl::StrCat("the raylet at ", address_, ": ", frame.status().message()));
    }
    return frame.status();
  }
  return frame->ParseBody(reply);
}

}  // namespace moray::cli
