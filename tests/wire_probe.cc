// wire_probe IP PORT: connects to a Moray port as a driver, with the token in WIRE_PROBE_TOKEN
// (empty or unset: none), calls a method no port has, and prints the status of that call's
// reply: UNAUTHENTICATED when the handshake refused the token, UNIMPLEMENTED (or another status
// a service gives) when the port let the probe in. The token is read from the environment, never
// argv. Used by wire_auth_test.cc.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/synchronization/notification.h"
#include "rpc.pb.h"
#include "rpc/auth.h"
#include "rpc/channel.h"
#include "rpc/handshake.h"

int main(int argc, char** argv) {
  using namespace moray;
  if (argc != 3) {
    std::fprintf(stderr, "usage: wire_probe IP PORT\n");
    return 2;
  }
  const char* token = std::getenv("WIRE_PROBE_TOKEN");
  rpc::SetProcessAuth({rpc::AuthMode::kToken, token ? token : "", "probe"});
  rpc::SetProcessRole(proto::ROLE_DRIVER);
  rpc::EventLoop loop;
  loop.StartThread("probe");
  auto conn = rpc::Connection::Connect(&loop, argv[1], std::atoi(argv[2]), absl::Seconds(5));
  if (!conn.ok()) {
    std::printf("CONNECT_FAILED %s\n", std::string(conn.status().message()).c_str());
    return 1;
  }
  (*conn)->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {}, nullptr);
  absl::Notification done;
  absl::Status result;
  (*conn)->Call(0x7FFE, proto::RpcStatus(), [&](absl::Status status, rpc::Frame&&) {
    result = status;
    done.Notify();
  });
  if (!done.WaitForNotificationWithTimeout(absl::Seconds(10))) {
    std::printf("NO_REPLY\n");
    return 1;
  }
  std::printf("%s %s\n", absl::StatusCodeToString(result.code()).c_str(),
              std::string(result.message()).c_str());
  std::fflush(stdout);
  std::_Exit(0);
}
