#include "dashboard/dashboard_main.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/service_signals.h"
#include "dashboard/browser_sessions.h"
#include "dashboard/log_api.h"
#include "dashboard/metrics_sampler.h"
#include "dashboard/state_api.h"
#include "dashboard/web_access.h"
#include "dashboard/web_dir.h"
#include "gcs/gcs_client.h"
#include "httplib.h"
#include "jobs/job_http.h"
#include "jobs/job_store.h"
#include "jobs/job_supervisor.h"
#include "jobs/working_dir.h"
#include "runtime_env/package_store.h"
#include "spdlog/spdlog.h"

namespace moray::dashboard {
namespace {

constexpr size_t kHttpThreads = 32;

// The total CPUs of the alive nodes.
absl::StatusOr<double> ClusterCpus(gcs::GcsClient& gcs) {
  auto nodes = gcs.GetAllNodes();
  if (!nodes.ok()) return nodes.status();
  double cpus = 0;
  for (const auto& node : *nodes) {
    if (node.state() != proto::NODE_ALIVE) continue;
    auto it = node.resources_total().find("CPU");
    if (it != node.resources_total().end()) cpus += it->second;
  }
  return cpus;
}

int Fail(const DashboardOptions& options, const std::string& message) {
  spdlog::error("{}", message);
  std::fprintf(stderr, "moray dashboard: %s\n", message.c_str());
  if (options.ready_fd >= 0) close(options.ready_fd);  // the starter sees EOF, not a hang
  return 1;
}

// A submission's ref to its working_dir package (docs/runtime_env.md, "References").
absl::Status HoldPackage(runtime_env::KvAccess& kv, const std::string& id, const std::string& uri) {
  std::optional<std::string> hash = runtime_env::HashOfUri(uri);
  if (!hash) return absl::OkStatus();
  return runtime_env::AddPackageRef(kv, *hash, runtime_env::SubmissionRefOwner(id));
}

// Dropping it makes the GCS collect: the package goes unless a running driver still refers to it.
void ReleasePackage(runtime_env::KvAccess& kv, const std::string& id, const std::string& uri) {
  std::optional<std::string> hash = runtime_env::HashOfUri(uri);
  if (!hash) return;
  absl::Status dropped =
      runtime_env::DropPackageRef(kv, *hash, runtime_env::SubmissionRefOwner(id));
  if (!dropped.ok()) spdlog::warn("job {}: {}", id, dropped.ToString());
}

}  // namespace

int RunDashboard(const DashboardOptions& options, const rpc::AuthConfig& auth) {
  InitLogging("dashboard",
              options.session_dir.empty() ? "" : options.session_dir + "/logs/dashboard.log");
  absl::StatusOr<int> stop_fd = InstallStopSignalPipe();
  if (!stop_fd.ok()) return Fail(options, std::string(stop_fd.status().message()));
  auto gcs = gcs::GcsClient::Connect(options.gcs_address, absl::Seconds(10));
  if (!gcs.ok()) return Fail(options, std::string(gcs.status().message()));

  jobs::GcsJobStore store(gcs->get());
  runtime_env::GcsKvAccess packages(gcs->get());
  jobs::JobSupervisor supervisor(
      {.session_dir = options.session_dir,
       .gcs_address = options.gcs_address,
       .store = &store,
       .prepare_working_dir =
           [&](const std::string& uri) {
             return jobs::FetchWorkingDir(**gcs, uri,
                                          options.session_dir + "/runtime_resources/pkg");
           },
       .cluster_cpus = [&] { return ClusterCpus(**gcs); },
       .hold_package = [&](const std::string& id,
                           const std::string& uri) { return HoldPackage(packages, id, uri); },
       .release_package = [&](const std::string& id,
                              const std::string& uri) { ReleasePackage(packages, id, uri); }});
  if (auto recovered = supervisor.Recover(); !recovered.ok()) {
    spdlog::warn("could not read earlier jobs: {}", recovered.ToString());
  }

  std::atomic<bool> stopping{false};
  httplib::Server server;
  // A log tail holds a worker while its job runs: more workers than httplib's default (8), so a
  // few followers never starve the other requests.
  server.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  BrowserSessions sessions;
  InstallWebAccess(server, auth, sessions);
  jobs::AddJobRoutes(server, supervisor, &stopping);
  jobs::AddPackageRoutes(server, packages);
  AddStateRoutes(server, **gcs);
  AddLogRoutes(server, **gcs);
  MetricsSampler sampler(**gcs);
  AddMetricsRoutes(server, sampler);
  if (auto web = FindWebDir(); web.ok()) {
    server.set_mount_point("/", *web);
  } else {
    // The Jobs API works without the pages (an install without share/); a browser is told why.
    spdlog::warn("{}", std::string(web.status().message()));
    server.Get("/", [message = std::string(web.status().message())](const httplib::Request&,
                                                                    httplib::Response& res) {
      res.status = 404;
      res.set_content(message + "\n", "text/plain");
    });
  }
  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
  } else if (!server.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return Fail(options, absl::StrCat("cannot listen on ", options.host, ":", options.port, ": ",
                                      std::strerror(errno)));
  }
  // A wildcard bind is reached at the node's address (the GCS's host).
  const bool wildcard = options.host == "0.0.0.0" || options.host == "::";
  const std::string address = absl::StrCat(
      wildcard ? options.gcs_address.substr(0, options.gcs_address.rfind(':')) : options.host, ":",
      port);
  if (auto put = (*gcs)->KvPut(kClusterNamespace, kDashboardAddressKey, address, true); !put.ok()) {
    return Fail(options, absl::StrCat("cannot record the dashboard's address in the GCS: ",
                                      put.status().message()));
  }
  std::thread http([&server] { server.listen_after_bind(); });
  spdlog::info("dashboard serving on http://{}", address);
  ReportReady(options.ready_fd, port, "dashboard");

  while (true) {
    pollfd pfd{*stop_fd, POLLIN, 0};
    int n = poll(&pfd, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) {
      spdlog::info("received signal {}, shutting down", ReadStopSignal(*stop_fd));
    }
    break;
  }
  stopping = true;
  supervisor.Shutdown();
  server.stop();
  http.join();
  // Only if the address is still ours (a newer dashboard may have replaced it).
  auto recorded = (*gcs)->KvGet(kClusterNamespace, kDashboardAddressKey);
  if (recorded.ok() && recorded->has_value() && **recorded == address) {
    (void)(*gcs)->KvDel(kClusterNamespace, kDashboardAddressKey, false);
  }
  return 0;
}

}  // namespace moray::dashboard
