// The cluster benchmark (issue 5): several raylets on this machine under one GCS, started with
// the real CLI (`moray start`) in a private session root, and this program as their driver.
//   loopback_tcp_gigabytes          1 GiB through one TCP connection on 127.0.0.1 (the ceiling)
//   cross_node_transfer_1gib_gigabytes  a 1 GiB object sealed on node B, pulled to the driver's
//                                   node A by Get (timed from ready-on-B to readable-on-A)
//   tasks_across_{2,4}_nodes        no-op tasks from one client task per node, all at once
//   dead_node_detection_s           SIGKILL of a raylet -> the GCS lists the node DEAD
//   placement_groups_1000x3_{spread,pack}_4_nodes  1000 groups of 3 bundles created at once on a
//                                   fresh 4-node cluster (groups/s, first create -> all CREATED)
// Usage: cluster_bench [--json PATH] [--filter TEXT] (only the figures whose name contains TEXT,
// and what they need). Needs the moray binary (MORAY_BIN or beside libmoray).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/client_tasks.h"
#include "bench/commands.h"
#include "bench/report.h"
#include "moray/byte_view.h"
#include "ray/api.h"

namespace {

using moray::bench::Clock;
using moray::bench::Moray;
using moray::bench::Report;
using moray::bench::Run;
using moray::bench::SecondsSince;

using moray::bench::ClientBatch;
using moray::bench::Noop;
std::vector<uint8_t> Make(int64_t size) { return std::vector<uint8_t>(size, 7); }
RAY_REMOTE(Noop, ClientBatch, Make);

void StopCluster();

// Starts a head and `nodes - 1` more raylets (1 CPU, `store` bytes and `extra` start flags each);
// returns the GCS address and appends each raylet's pid.
std::string StartCluster(int nodes, long long store, std::vector<pid_t>* raylets,
                         const std::string& extra = "") {
  std::string common = " --num-cpus=1 --object-store-memory=" + std::to_string(store) + extra;
  std::string out = Run(Moray() + " start --head --port=0" + common);
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("GCS address: (\\S+)"))) {
    std::fprintf(stderr, "cannot start the head: %s\n", out.c_str());
    std::exit(1);
  }
  std::string address = m[1];
  auto note = [&](const std::string& text) {
    std::smatch s;
    if (std::regex_search(text, s, std::regex("Session directory: (\\S+)"))) {
      FILE* f = std::fopen((s[1].str() + "/pids").c_str(), "r");
      int pid;
      char name[64];
      while (f && std::fscanf(f, "%d %63s", &pid, name) == 2) {
        if (std::string(name) == "raylet") raylets->push_back(pid);
      }
      if (f) std::fclose(f);
    }
  };
  note(out);
  for (int i = 1; i < nodes; ++i) {
    out = Run(Moray() + " start --address=" + address + " --node-name=node" + std::to_string(i) +
              common);
    note(out);
  }
  if (static_cast<int>(raylets->size()) != nodes) {
    std::fprintf(stderr, "cluster_bench: started %d nodes but found %zu raylet pids in their "
                 "sessions' pids files\n", nodes, raylets->size());
    StopCluster();
    std::exit(1);
  }
  return address;
}

void StopCluster() { Run(Moray() + " stop"); }

// The placement-group figure: on a fresh 4-node cluster (each node 100 of the custom resource
// kGroupResource), kGroups groups of kBundles bundles (0.01 of it each) with `strategy`, all
// created at once, then each waited for; groups/s from the first create to the last group
// CREATED. One round per cluster: removing 1000 groups keeps the GCS busy for minutes (see
// docs/benchmarks.md, "Placement groups"), which a second round would measure instead. A round
// not done within kDeadlineS is reported as FAILED with the groups' states.
constexpr const char* kGroupResource = "pg_bench";
constexpr int kGroups = 1000, kBundles = 3;
constexpr double kDeadlineS = 120;
void PlacementGroupsAcrossNodes(ray::PlacementStrategy strategy, const std::string& name) {
  std::vector<ray::PlacementGroup> groups;
  groups.reserve(kGroups);
  const std::vector<std::unordered_map<std::string, double>> bundles(kBundles,
                                                                     {{kGroupResource, 0.01}});
  auto start = Clock::now();
  for (int i = 0; i < kGroups; ++i) {
    groups.push_back(ray::CreatePlacementGroup({"", bundles, strategy}));
  }
  for (auto& group : groups) {
    int left = static_cast<int>(kDeadlineS - SecondsSince(start));
    if (left > 0 && group.Wait(left)) continue;
    std::map<std::string, int> states;
    const char* names[] = {"PENDING", "PREPARED", "CREATED", "REMOVED", "RESCHEDULING"};
    for (auto& g : groups) {
      int state = ray::GetPlacementGroupById(g.GetID()).GetState();
      ++states[state >= 0 && state <= 4 ? names[state] : "UNRECOGNIZED"];
    }
    std::string counts;
    for (const auto& [state, n] : states) {
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + state;
    }
    Report(moray::bench::Failed(
        name, "not all " + std::to_string(kGroups) + " groups created within " +
                  std::to_string(static_cast<int>(kDeadlineS)) + " s: " + counts));
    return;
  }
  Report({name, kGroups / SecondsSince(start), -1, "groups/s",
          std::to_string(kGroups) + " groups of " + std::to_string(kBundles) +
              " bundles created at once, first create -> all CREATED"});
}

double LoopbackGigabytes(int64_t bytes) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(listener, 1);
  std::thread reader([&] {
    int fd = accept(listener, nullptr, nullptr);
    std::vector<char> buf(8 << 20);
    int64_t got = 0;
    while (got < bytes) {
      ssize_t n = read(fd, buf.data(), buf.size());
      if (n <= 0) break;
      got += n;
    }
    close(fd);
  });
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  std::vector<char> buf(8 << 20, 1);
  auto start = Clock::now();
  int64_t sent = 0;
  while (sent < bytes) {
    ssize_t n = write(fd, buf.data(), std::min<int64_t>(buf.size(), bytes - sent));
    if (n <= 0) break;
    sent += n;
  }
  close(fd);
  reader.join();
  double seconds = SecondsSince(start);
  close(listener);
  return bytes / seconds / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  std::string json, filter;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--json") json = argv[i + 1];
    if (std::string(argv[i]) == "--filter") filter = argv[i + 1];
  }
  auto wanted = [&](const std::string& name) { return name.find(filter) != std::string::npos; };
  if (std::getenv("MORAY_WORKER_MODE") == nullptr) {
    // A private session root: nothing of this run meets other clusters on the machine.
    char dir[] = "/tmp/moray-cluster-bench-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    setenv("MORAY_TMPDIR", dir, 1);
  } else {
    ray::Init();  // a worker: never returns
  }
  std::printf("%-44s %14s   %-10s %s\n", "metric", "value", "± std", "unit");
  if (wanted("loopback_tcp_gigabytes") || wanted("cross_node_transfer_1gib_gigabytes")) {
    std::vector<double> loopback;
    for (int i = 0; i < 3; ++i) loopback.push_back(LoopbackGigabytes(1ll << 30));
    Report({"loopback_tcp_gigabytes", moray::bench::Mean(loopback), moray::bench::StdDev(loopback),
            "GB/s", "1 GiB over one TCP connection on 127.0.0.1, 3 rounds"});
  }

  // Two nodes: the 1 GiB transfer and dead-node detection.
  if (wanted("cross_node_transfer_1gib_gigabytes") || wanted("dead_node_detection_s")) {
    std::vector<pid_t> raylets;
    std::string address = StartCluster(2, 1536ll << 20, &raylets);
    ray::RayConfig config;
    config.address = address;
    ray::Init(config);
    std::string other;
    for (const auto& node : ray::Nodes()) {
      if (!node.is_head) other = node.node_id;
    }
    std::vector<double> rates;
    for (int round = 0; round < 3; ++round) {
      auto made = ray::Task(Make)
                      .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{other})
                      .Remote(1ll << 30);
      ray::Wait(std::vector<ray::ObjectRef<std::vector<uint8_t>>>{made}, 1, -1);  // sealed on B
      ray::ObjectRef<moray::ByteView> view_ref(made.BinaryID());
      auto start = Clock::now();
      auto view = view_ref.Get();  // pulled to A, then a zero-copy view
      rates.push_back(view->size() / SecondsSince(start) / 1e9);
    }
    Report({"cross_node_transfer_1gib_gigabytes", moray::bench::Mean(rates),
            moray::bench::StdDev(rates), "GB/s", "node B's store -> node A's store, 3 rounds"});
    ray::Shutdown();
    auto start = Clock::now();
    kill(raylets.back(), SIGKILL);
    constexpr double kDetectionLimitS = 30;
    double detected = -1;
    std::string nodes;
    while (SecondsSince(start) < kDetectionLimitS) {
      nodes = Run(Moray() + " list nodes --address " + address);
      if (nodes.find("DEAD") != std::string::npos) {
        detected = SecondsSince(start);
        break;
      }
      usleep(50 * 1000);  // polling the CLI: this measures detection, it is not a hot path
    }
    if (detected < 0) {
      // Not a figure: a cluster that never notices a dead node is a failure of the benchmark.
      std::fprintf(stderr,
                   "cluster_bench: FAILED: the raylet (pid %d) was SIGKILLed, but `moray list "
                   "nodes` showed no DEAD node within %.0f s; last listing:\n%s\n",
                   static_cast<int>(raylets.back()), kDetectionLimitS, nodes.c_str());
      StopCluster();
      if (!json.empty()) moray::bench::WriteJson(json);  // what was measured before
      std::filesystem::remove_all(std::getenv("MORAY_TMPDIR"));
      return 1;
    }
    Report({"dead_node_detection_s", detected, -1, "s",
            "SIGKILL of a raylet -> DEAD in `moray list nodes` (checks every 1 s, 5 failures)"});
    StopCluster();
  }

  for (int nodes : {2, 4}) {
    const std::string tasks = "tasks_across_" + std::to_string(nodes) + "_nodes";
    if (!wanted(tasks)) continue;
    std::vector<pid_t> raylets;
    std::string address = StartCluster(nodes, 128ll << 20, &raylets);
    ray::RayConfig config;
    config.address = address;
    ray::Init(config);
    std::vector<std::string> ids;
    for (const auto& node : ray::Nodes()) ids.push_back(node.node_id);
    std::vector<double> rates;
    constexpr int kPerClient = 5000;
    for (int round = 0; round < 4; ++round) {
      auto start = Clock::now();
      std::vector<ray::ObjectRef<int>> clients;
      for (const auto& id : ids) {
        clients.push_back(ray::Task(ClientBatch)
                              .SetResource("CPU", 0.01)
                              .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{id})
                              .Remote(kPerClient));
      }
      ray::Get(clients);
      if (round > 0) rates.push_back(kPerClient * ids.size() / SecondsSince(start));  // 0: warm-up
    }
    Report({tasks, moray::bench::Mean(rates), moray::bench::StdDev(rates), "tasks/s",
            "one client task per node (1 CPU each) submitting no-op tasks"});
    ray::Shutdown();
    StopCluster();
  }

  const std::pair<ray::PlacementStrategy, std::string> group_figures[] = {
      {ray::PlacementStrategy::SPREAD, "placement_groups_1000x3_spread_4_nodes"},
      {ray::PlacementStrategy::PACK, "placement_groups_1000x3_pack_4_nodes"}};
  for (const auto& [strategy, name] : group_figures) {
    if (!wanted(name)) continue;
    std::vector<pid_t> raylets;
    ray::RayConfig config;
    config.address = StartCluster(4, 128ll << 20, &raylets,
                                  std::string(" --resources='{\"") + kGroupResource + "\": 100}'");
    ray::Init(config);
    PlacementGroupsAcrossNodes(strategy, name);
    ray::Shutdown();
    StopCluster();
  }
  if (!json.empty()) moray::bench::WriteJson(json);
  std::filesystem::remove_all(std::getenv("MORAY_TMPDIR"));
  return moray::bench::AnyFailed() ? 1 : 0;
}
