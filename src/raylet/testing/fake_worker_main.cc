// A stand-in worker for raylet tests: connects to the raylet named by MORAY_RAYLET_ADDRESS,
// registers as MORAY_WORKER_ID with a listening address of its own, then idles until killed or
// until the raylet closes the connection.
//
// Knobs (environment): FAKE_WORKER_EXIT_CODE=<n> exits with n before registering.
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/synchronization/notification.h"
#include "common/id.h"
#include "common/session.h"
#include "raylet.pb.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"
#include "rpc/handshake.h"

namespace {

const char* Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

int main() {
  using namespace moray;
  if (*Env("FAKE_WORKER_EXIT_CODE") != '\0') return std::atoi(Env("FAKE_WORKER_EXIT_CODE"));
  std::string host;
  int port = 0;
  if (!ParseHostPort(Env("MORAY_RAYLET_ADDRESS"), &host, &port).ok()) return 10;

  // The raylet gave this process the node's auth in its environment, as it does a real worker.
  auto auth = rpc::LoadAuthConfig();
  if (!auth.ok()) return 14;
  rpc::SetProcessAuth(*auth);
  rpc::SetProcessRole(proto::ROLE_WORKER);
  rpc::EventLoop loop;
  loop.StartThread("fake-worker");
  auto server = rpc::Server::Listen(&loop, "127.0.0.1", 0, [](std::shared_ptr<rpc::Connection> c) {
    c->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                   [](const std::shared_ptr<rpc::Connection>&) {});
  });
  if (!server.ok()) return 11;
  auto conn = rpc::Connection::Connect(&loop, host, port, absl::Seconds(10));
  if (!conn.ok()) return 12;
  absl::Notification closed;
  (*conn)->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                       [&](const std::shared_ptr<rpc::Connection>&) { closed.Notify(); });

  proto::RegisterClientRequest request;
  request.set_worker_id(FromHex(Env("MORAY_WORKER_ID")));
  request.set_pid(getpid());
  request.mutable_address()->set_ip("127.0.0.1");
  request.mutable_address()->set_port((*server)->port());
  int exit_code = 0;
  absl::Notification replied;
  (*conn)->Call(proto::RAYLET_REGISTER_CLIENT, request, [&](absl::Status status, rpc::Frame&& frame) {
    proto::RegisterClientReply reply;
    if (!status.ok() || !frame.ParseBody(&reply).ok()) exit_code = 13;
    replied.Notify();
  });
  replied.WaitForNotification();
  if (exit_code != 0) _exit(exit_code);
  closed.WaitForNotification();
  _exit(0);  // skip destructors: the loop thread may still be running callbacks
}
