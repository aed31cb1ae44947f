// The node's Prometheus endpoint: GET /metrics on --metrics-export-port (cpp-httplib, one thread
// of its own, a small pool for requests). Each scrape calls `render`, which writes the text
// (src/metrics/exposition.h). Behind the cluster token like every port of the cluster
// (rpc/http_auth.h: 401 without `Authorization: Bearer <token>`, 403 wrong; nothing checked with
// RAY_AUTH_MODE=disabled): Prometheus sends it with `authorization: {credentials_file: ...}`.
//
//   MetricsServer server;
//   absl::StatusOr<int> port = server.Bind("127.0.0.1", 0);   // 0: any free port
//   server.Start([] { return text; });
//   server.Stop();
//
// Thread model: Bind, Start and Stop from one controlling thread; `render` runs on the server's
// threads (several scrapes may run at once) and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "rpc/auth.h"

namespace httplib {
class Server;
}

namespace moray::raylet {

class MetricsServer {
 public:
  MetricsServer();
  ~MetricsServer();  // Stop()

  // Listens on host:port (0: a free port). CheckPortFree's codes (AlreadyExists for a port in
  // use, ...) with a sentence naming --metrics-export-port and the port.
  absl::StatusOr<int> Bind(const std::string& host, int port, rpc::AuthConfig auth);
  void Start(std::function<std::string()> render);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::function<std::string()> render_;
  rpc::AuthConfig auth_;
};

}  // namespace moray::raylet
