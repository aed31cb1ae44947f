// Metrics end to end (issue 15, item 2): a two-node cluster made with `moray start`, each node's
// GET /metrics scraped over HTTP. Tasks (some failing) and an actor show in moray_tasks and
// moray_actors on the head's endpoint, also after the job ended; store and resource gauges on
// every node; the discovery file lists both endpoints; a C++ task's ray::Counter, Gauge and
// Histogram show with their tags on the endpoint of the node that ran it; a taken
// --metrics-export-port is refused at start.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>

#include "gcs/gcs_client.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "ray/api.h"
#include "rpc/auth.h"
#include "tests/cluster/local_cluster.h"
#include "tests/cluster/pattern.h"
#include "tests/test_env.h"

namespace {

using moray::testing::LocalCluster;
using moray::testing::NodeOf;
using moray::testing::RunMoray;
using moray::testing::WaitFor;

int MetricsOk(int x) { return x + 1; }
int MetricsFail(int x) {
  if (x >= 0) throw std::runtime_error("failing on purpose");
  return x;
}
// Records user metrics in the worker it runs in, and says which node that is.
std::string RecordUserMetrics() {
  ray::Counter requests("test_requests", "Requests served by the test.", "requests", {"route"});
  requests.Inc(2, {{"route", "/a"}});
  requests.Inc(1, {{"route", "/a"}});
  ray::Gauge depth("test_queue_depth", "Queue depth.", "items", {"queue"});
  depth.Set(7, {{"queue", "q\"1"}});
  ray::Histogram latency("test_latency_ms", "Latency.", "ms", {1, 10}, {"route"});
  latency.Observe(0.5, {{"route", "/a"}});
  latency.Observe(5, {{"route", "/a"}});
  latency.Observe(50, {{"route", "/a"}});
  ray::Sum bytes("test_bytes", "Bytes.", "bytes");
  bytes.Record(10);
  bytes.Record(-3);
  try {
    ray::Counter bad("bad-name", "", "");
    return "accepted a bad name";
  } catch (const ray::internal::RayException&) {
  }
  return NodeOf();
}

class Tally {
 public:
  static Tally* Create() { return new Tally(); }
  int Add(int x) { return total_ += x; }

 private:
  int total_ = 0;
};

RAY_REMOTE(MetricsOk, MetricsFail, RecordUserMetrics, NodeOf, Tally::Create, &Tally::Add);

// The token the test's clusters use (every endpoint wants it).
std::string Token() { return moray::rpc::LoadAuthConfig()->token; }

// The body of GET http://<endpoint>/metrics, or "" on failure.
std::string Scrape(const std::string& ip, int port) {
  httplib::Client client(ip, port);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto res = client.Get("/metrics", {{"Authorization", "Bearer " + Token()}});
  if (!res || res->status != 200) return "";
  EXPECT_NE(res->get_header_value("Content-Type").find("version=0.0.4"), std::string::npos);
  return res->body;
}

// The value of the sample line `series` (the metric name and its labels exactly as written), or
// -1 when the text has no such line.
double ValueOf(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// The value of the first sample of `name` whose labels match `labels_regex`, or -1.
double Match(const std::string& text, const std::string& name, const std::string& labels_regex) {
  std::regex re("^" + name + "\\{" + labels_regex + "\\} (\\S+)$");
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, re)) return std::stod(m[1]);
  }
  return -1;
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start({{.num_cpus = 2}, {.num_cpus = 1, .resources = R"({"side": 1})"}}))
        << cluster_.error();
    // The driver first: it loads the cluster's token, which the GCS client below needs too.
    ray::RayConfig config;
    config.address = cluster_.address();
    ray::Init(config);
    auto gcs = moray::gcs::GcsClient::Connect(cluster_.address(), absl::Seconds(10));
    ASSERT_TRUE(gcs.ok()) << gcs.status();
    auto nodes = (*gcs)->GetAllNodes();
    ASSERT_TRUE(nodes.ok()) << nodes.status();
    ASSERT_EQ(nodes->size(), 2u);
    for (const auto& node : *nodes) {
      ASSERT_GT(node.metrics_export_port(), 0);
      if (node.is_head_node()) {
        head_ = node;
      } else {
        side_ = node;
      }
    }
    ASSERT_NE(head_.metrics_export_port(), side_.metrics_export_port());
  }
  void TearDown() override {
    if (ray::IsInitialized()) ray::Shutdown();
    cluster_.Stop();
  }
  std::string ScrapeHead() { return Scrape(head_.node_ip(), head_.metrics_export_port()); }
  std::string ScrapeSide() { return Scrape(side_.node_ip(), side_.metrics_export_port()); }
  static std::string Hex(const std::string& binary) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : binary) {
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
    return out;
  }

  LocalCluster cluster_;
  moray::proto::NodeInfo head_, side_;
};

TEST_F(MetricsTest, EveryNodeExportsTasksActorsStoreResourcesAndUserMetrics) {
  // The discovery file on the head lists both endpoints.
  const std::string discovery = head_.session_dir() + "/prom_metrics_service_discovery.json";
  nlohmann::json listed;
  ASSERT_TRUE(WaitFor([&] {
    std::ifstream in(discovery);
    listed = nlohmann::json::parse(in, nullptr, false);
    return listed.is_array() && listed.size() == 1 && listed[0]["targets"].size() == 2;
  })) << discovery;
  for (const auto& node : {head_, side_}) {
    const std::string target = node.node_ip() + ":" + std::to_string(node.metrics_export_port());
    EXPECT_NE(listed[0]["targets"].dump().find(target), std::string::npos) << listed.dump();
  }

  std::vector<ray::ObjectRef<int>> ok, failed;
  for (int i = 0; i < 5; ++i) ok.push_back(ray::Task(MetricsOk).Remote(i));
  for (int i = 0; i < 3; ++i) failed.push_back(ray::Task(MetricsFail).Remote(i));
  for (auto& ref : ok) EXPECT_GT(*ref.Get(30000), 0);
  for (auto& ref : failed) EXPECT_THROW(ref.Get(30000), ray::internal::RayTaskException);
  auto tally = ray::Actor(Tally::Create).Remote();
  EXPECT_EQ(*tally.Task(&Tally::Add).Remote(3).Get(30000), 3);
  const std::string side_hex =
      *ray::Task(RecordUserMetrics).SetResource("side", 1).Remote().Get(30000);
  ASSERT_EQ(side_hex, Hex(side_.node_id()));

  // The head: cluster-wide task counts by state and name, actors by state and class.
  std::string head;
  ASSERT_TRUE(WaitFor(
      [&] {
        head = ScrapeHead();
        return Match(head, "moray_tasks", "State=\"FINISHED\",Name=\"[^\"]*MetricsOk[^\"]*\"") ==
                   5 &&
               Match(head, "moray_tasks", "State=\"FAILED\",Name=\"[^\"]*MetricsFail[^\"]*\"") ==
                   3 &&
               Match(head, "moray_actors", "State=\"ALIVE\",Name=\"[^\"]*Tally[^\"]*\"") == 1;
      },
      std::chrono::seconds(30)))
      << head;
  EXPECT_NE(head.find("# TYPE moray_tasks gauge\n"), std::string::npos);
  EXPECT_NE(head.find("moray_grpc_server_req_process_time_ms_bucket{Method=\"RAYLET_REQUEST_"
                      "WORKER_LEASE\",Component=\"raylet\",le=\"+Inf\"}"),
            std::string::npos)
      << head;
  EXPECT_NE(head.find("moray_gcs_server_req_process_time_ms_count{Method=\"REGISTER_NODE\","
                      "Component=\"GCS\"}"),
            std::string::npos);

  // The side node: its user metrics with their tags and the worker's id; its own gauges.
  std::string side;
  ASSERT_TRUE(WaitFor(
      [&] {
        side = ScrapeSide();
        return Match(side, "moray_test_requests_total", "route=\"/a\",WorkerId=\"[0-9a-f]+\"") == 3;
      },
      std::chrono::seconds(20)))
      << side;
  EXPECT_NE(side.find("# TYPE moray_test_requests_total counter\n"), std::string::npos);
  EXPECT_EQ(Match(side, "moray_test_queue_depth", "queue=\"q\\\\\"1\",WorkerId=\"[0-9a-f]+\""), 7)
      << side;
  EXPECT_EQ(
      Match(side, "moray_test_latency_ms_bucket", "route=\"/a\",WorkerId=\"[0-9a-f]+\",le=\"1\""),
      1);
  EXPECT_EQ(
      Match(side, "moray_test_latency_ms_bucket", "route=\"/a\",WorkerId=\"[0-9a-f]+\",le=\"10\""),
      2);
  EXPECT_EQ(Match(side, "moray_test_latency_ms_bucket",
                  "route=\"/a\",WorkerId=\"[0-9a-f]+\",le=\"\\+Inf\""),
            3);
  EXPECT_EQ(Match(side, "moray_test_latency_ms_sum", "route=\"/a\",WorkerId=\"[0-9a-f]+\""), 55.5);
  EXPECT_EQ(Match(side, "moray_test_bytes_total", "WorkerId=\"[0-9a-f]+\""), 7);
  EXPECT_EQ(head.find("moray_test_requests_total"), std::string::npos);  // not the head's worker
  EXPECT_EQ(side.find("moray_tasks{"), std::string::npos);  // the head alone exports those
  for (const std::string* text : {&head, &side}) {
    EXPECT_EQ(ValueOf(*text, "moray_object_store_capacity_memory"), 128 << 20) << *text;
    EXPECT_GE(
        ValueOf(*text, "moray_object_store_memory{Location=\"MMAP_SHM\",ObjectState=\"SEALED\"}"),
        0);
    EXPECT_GE(ValueOf(*text, "moray_resources{Name=\"CPU\",State=\"AVAILABLE\"}"), 0);
    EXPECT_GE(ValueOf(*text, "moray_resources{Name=\"CPU\",State=\"USED\"}"), 0);
  }
  EXPECT_EQ(ValueOf(head, "moray_resources_total{Name=\"CPU\"}"), 2);
  EXPECT_EQ(ValueOf(side, "moray_resources_total{Name=\"CPU\"}"), 1);
  EXPECT_EQ(ValueOf(side, "moray_resources_total{Name=\"side\"}"), 1);
  EXPECT_GE(ValueOf(side, "moray_workers{WorkerType=\"WORKER\"}"), 1);

  // The job ends; its task counts stay (they are the cluster's, not the job's).
  ray::Shutdown();
  ASSERT_TRUE(WaitFor(
      [&] {
        head = ScrapeHead();
        return Match(head, "moray_actors", "State=\"DEAD\",Name=\"[^\"]*Tally[^\"]*\"") == 1;
      },
      std::chrono::seconds(30)))
      << head;
  EXPECT_EQ(Match(head, "moray_tasks", "State=\"FINISHED\",Name=\"[^\"]*MetricsOk[^\"]*\""), 5);
  EXPECT_EQ(Match(head, "moray_tasks", "State=\"FAILED\",Name=\"[^\"]*MetricsFail[^\"]*\""), 3);

  // A node that leaves is taken out of the discovery file.
  ASSERT_EQ(kill(cluster_.raylet_pid(1), SIGTERM), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        std::ifstream in(discovery);
        listed = nlohmann::json::parse(in, nullptr, false);
        return listed.is_array() && listed.size() == 1 && listed[0]["targets"].size() == 1;
      },
      std::chrono::seconds(30)))
      << listed.dump();
}

// A socket listening on a free port of 127.0.0.1, held open: a taken port.
int ListenAnywhere(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 1) != 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

TEST(MetricsPortTest, ATakenMetricsPortIsRefusedAtStart) {
  int port = 0;
  const int fd = ListenAnywhere(&port);
  ASSERT_GE(fd, 0);
  auto started = RunMoray({"start", "--head", "--port=0", "--dashboard-port=0", "--num-cpus=1",
                           "--object-store-memory=" + std::to_string(64 << 20),
                           "--metrics-export-port=" + std::to_string(port)});
  RunMoray({"stop"});
  close(fd);
  EXPECT_NE(started.exit_code, 0) << started.out;
  const std::string said = started.out + started.err;
  EXPECT_NE(said.find("--metrics-export-port"), std::string::npos) << said;
  EXPECT_NE(said.find(std::to_string(port)), std::string::npos) << said;
  EXPECT_NE(said.find("in use"), std::string::npos) << said;

  // A bad value is refused with the option's sentence.
  auto bad = RunMoray({"start", "--head", "--metrics-export-port=70000"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE((bad.out + bad.err).find("--metrics-export-port must be a whole number"),
            std::string::npos)
      << bad.out << bad.err;
}

}  // namespace
