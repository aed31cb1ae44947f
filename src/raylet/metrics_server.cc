#include "raylet/metrics_server.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/ports.h"
#include "httplib.h"
#include "metrics/exposition.h"
#include "rpc/http_auth.h"

namespace moray::raylet {

MetricsServer::MetricsServer() : server_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() { Stop(); }

absl::StatusOr<int> MetricsServer::Bind(const std::string& host, int port, rpc::AuthConfig auth) {
  auth_ = std::move(auth);
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  server_->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    if (auto failure = rpc::CheckBearer(auth_, req.get_header_value("Authorization"))) {
      res.status = failure->http_status;
      res.set_content(failure->message + "\n", "text/plain");
      return;
    }
    res.set_content(render_ ? render_() : std::string(), std::string(metrics::kContentType));
  });
  if (auto free = CheckPortFree(host, port); !free.ok()) {
    return absl::Status(free.code(),
                        absl::StrCat("--metrics-export-port: ", free.message(),
                                     " (the metrics endpoint; give another port, or 0 for any "
                                     "free one)"));
  }
  const int bound =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound > 0) return bound;
  const int error = errno;
  return absl::FailedPreconditionError(absl::StrCat(
      "--metrics-export-port: cannot listen on ", host, ":", port, " for the metrics endpoint (",
      error == EADDRINUSE ? "the port is in use" : std::strerror(error),
      "); give another port, or 0 for any free one"));
}

void MetricsServer::Start(std::function<std::string()> render) {
  render_ = std::move(render);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() before its listener runs is lost (the listener would then never end):
  // return once it runs. It starts at once; the deadline only bounds a broken start.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void MetricsServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace moray::raylet
