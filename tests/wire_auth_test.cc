// Every TCP port a real cluster listens on — the GCS, the raylets, the workers, the driver —
// refuses a client without the cluster's token and one with a wrong token, and lets in one with
// the right token (issue 11). The ports are found from the system (ss), not from what Moray says
// it listens on, so a port nobody thought of is probed too. The dashboard's port speaks HTTP: it
// answers 401 without the token, 403 with a wrong one, and serves the right one.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "gcs/gcs_client.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "ray/api.h"
#include "rpc/auth.h"
#include "tests/cluster/local_cluster.h"
#include "tests/test_env.h"

namespace {

using moray::testing::RunShell;

class Echo {
 public:
  static Echo* Create() { return new Echo(); }
  int Ping() { return 1; }
};
RAY_REMOTE(Echo::Create, &Echo::Ping);

// Listening TCP ports (ip, port) of this test's processes: those whose environment carries this
// test's private session root (services and workers inherit it), found with ss.
std::set<std::pair<std::string, int>> ListeningPorts() {
  const std::string ours = std::string("MORAY_TMPDIR=") + std::getenv("MORAY_TMPDIR");
  std::set<std::pair<std::string, int>> ports;
  auto ss = RunShell("ss -ltnpH");
  std::regex line_re(R"((\d+\.\d+\.\d+\.\d+|\*|\[::\]):(\d+)\s+\S+\s+users:\(\(\"[^\"]+\",pid=(\d+))");
  const std::string self = std::to_string(getpid());  // setenv does not show in its environ
  for (std::sregex_iterator it(ss.out.begin(), ss.out.end(), line_re), end; it != end; ++it) {
    const std::string ip = (*it)[1] == "*" || (*it)[1] == "[::]" || (*it)[1] == "0.0.0.0"
                               ? "127.0.0.1"
                               : (*it)[1].str();
    if ((*it)[3] == self) {
      ports.emplace(ip, std::stoi((*it)[2]));
      continue;
    }
    std::ifstream environ("/proc/" + (*it)[3].str() + "/environ", std::ios::binary);
    std::string entry;
    while (std::getline(environ, entry, '\0')) {
      if (entry == ours) {
        ports.emplace(ip, std::stoi((*it)[2]));
        break;
      }
    }
  }
  return ports;
}

std::string Probe(const std::string& ip, int port, const std::string& token_env) {
  auto result = RunShell(token_env + " " + WIRE_PROBE + " " + ip + " " + std::to_string(port));
  return result.out;
}

TEST(WireAuthTest, EveryListeningPortRefusesAMissingOrWrongTokenAndServesTheRightOne) {
  moray::testing::LocalCluster cluster;
  ASSERT_TRUE(cluster.Start({{.num_cpus = 2}, {.num_cpus = 1}})) << cluster.error();
  ray::RayConfig config;
  config.address = cluster.address();
  ray::Init(config);
  auto echo = ray::Actor(Echo::Create).Remote();  // a worker, with its own port
  ASSERT_EQ(*echo.Task(&Echo::Ping).Remote().Get(60000), 1);

  auto ports = ListeningPorts();
  // A GCS, two raylets, the actor's worker and this driver at least.
  ASSERT_GE(ports.size(), 5u) << RunShell("ss -ltnp").out;
  const std::string token = moray::rpc::LoadAuthConfig()->token;
  ASSERT_FALSE(token.empty());
  std::printf("probing %zu listening ports\n", ports.size());
  ASSERT_FALSE(cluster.dashboard().empty());
  const int dashboard_port =
      std::stoi(cluster.dashboard().substr(cluster.dashboard().rfind(':') + 1));
  // The dashboard is among the listening ports, so its HTTP checks below run.
  ASSERT_TRUE(std::any_of(ports.begin(), ports.end(), [&](const auto& p) {
    return p.second == dashboard_port;
  })) << RunShell("ss -ltnp").out;
  // Each node's Prometheus endpoint (GET /metrics), HTTP behind the token like the dashboard.
  std::map<int, std::string> http_paths = {{dashboard_port, "/api/jobs/"}};
  auto gcs = moray::gcs::GcsClient::Connect(cluster.address(), absl::Seconds(10));
  ASSERT_TRUE(gcs.ok()) << gcs.status();
  auto nodes = (*gcs)->GetAllNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  for (const auto& node : *nodes) {
    ASSERT_GT(node.metrics_export_port(), 0);
    http_paths[node.metrics_export_port()] = "/metrics";
  }
  for (const auto& [ip, port] : ports) {
    SCOPED_TRACE(ip + ":" + std::to_string(port));
    if (auto path = http_paths.find(port); path != http_paths.end()) {
      httplib::Client http(ip, port);
      auto none = http.Get(path->second);
      auto wrong = http.Get(path->second, {{"Authorization", "Bearer wrong-token"}});
      auto right = http.Get(path->second, {{"Authorization", "Bearer " + token}});
      ASSERT_TRUE(none && wrong && right);
      EXPECT_EQ(none->status, 401);
      EXPECT_EQ(wrong->status, 403);
      EXPECT_EQ(right->status, 200);
      continue;
    }
    EXPECT_EQ(Probe(ip, port, "WIRE_PROBE_TOKEN=").rfind("UNAUTHENTICATED", 0), 0u);
    EXPECT_EQ(Probe(ip, port, "WIRE_PROBE_TOKEN=wrong-token").rfind("UNAUTHENTICATED", 0), 0u);
    const std::string served = Probe(ip, port, "WIRE_PROBE_TOKEN=" + token);
    EXPECT_EQ(served.find("UNAUTHENTICATED"), std::string::npos) << served;
    EXPECT_EQ(served.rfind("UNIMPLEMENTED", 0), 0u) << served;
  }
  ray::Shutdown();
}

}  // namespace
