// The driver netns_test.cc runs inside the head's network namespace:
//   netns_driver ADDRESS   a task pinned to each node (prints "pinned=<node ip>:<ip it ran on>"
//                          for each), 30 SPREAD tasks (prints "ips=<the node IPs they ran on>"),
//                          then a 64 MiB object made on node "ns3" and read here ("transfer_ok")
//   netns_driver ADDRESS drop 'COMMAND'
//                          an actor "near" on ns2 and, made by a task, a named actor "far" on
//                          ns3 this driver never talked to; runs COMMAND (which makes ns3 drop
//                          every packet), then calls "far" (a connect whose SYNs are dropped)
//                          while another thread calls "near" every 50 ms: prints
//                          "near_calls=<n> near_max_ms=<slowest>" and "far=<outcome>"
// Workers re-execute this program.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ray/api.h"

namespace {
std::string NodeIp() {
  const char* ip = std::getenv("MORAY_NODE_IP");
  return ip ? ip : "";
}
uint8_t PatternByte(int64_t i) { return static_cast<uint8_t>((i * 131 + 7) & 0xFF); }
std::vector<uint8_t> Make(int64_t size) {
  std::vector<uint8_t> out(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) out[i] = PatternByte(i);
  return out;
}
}  // namespace
class Pinger {
 public:
  static Pinger* Create() { return new Pinger(); }
  std::string Ping() { return NodeIp(); }
};

std::string NodeIdNamed(const std::string& name) {
  for (const auto& node : ray::Nodes()) {
    if (node.node_name == name) return node.node_id;
  }
  return "";
}

// Runs on a worker: makes the detached actor "far" on ns3 and waits until it answers.
std::string MakeFar() {
  auto far = ray::Actor(Pinger::Create)
                 .SetName("far")
                 .SetLifetime(ray::ActorLifetime::DETACHED)
                 .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{NodeIdNamed("ns3")})
                 .Remote();
  return *far.Task(&Pinger::Ping).Remote().Get(60000);
}
RAY_REMOTE(NodeIp, Make, Pinger::Create, &Pinger::Ping, MakeFar);

// The "drop" scenario (see the top of the file).
int DropScenario(const std::string& drop_command) {
  auto near = ray::Actor(Pinger::Create)
                  .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{NodeIdNamed("ns2")})
                  .Remote();
  std::printf("near_on=%s\n", near.Task(&Pinger::Ping).Remote().Get(60000)->c_str());
  auto far_ip = ray::Task(MakeFar)
                    .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{NodeIdNamed("ns2")})
                    .Remote()
                    .Get(60000);
  std::printf("far_on=%s\n", far_ip->c_str());
  std::fflush(stdout);
  if (std::system(drop_command.c_str()) != 0) {
    std::printf("drop_command_failed\n");
    return 3;
  }
  std::atomic<bool> done{false};
  std::atomic<int64_t> slowest_ms{0};
  std::atomic<int> calls{0};
  std::thread prober([&] {
    while (!done.load()) {
      auto start = std::chrono::steady_clock::now();
      near.Task(&Pinger::Ping).Remote().Get(60000);
      int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
      if (ms > slowest_ms.load()) slowest_ms.store(ms);
      ++calls;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::string outcome;
  try {
    auto far = ray::GetActor<Pinger>("far");
    if (!far) {
      outcome = "not_found";
    } else {
      auto pong = far->Task(&Pinger::Ping).Remote();
      std::vector<ray::ObjectRef<std::string>> refs{pong};
      // Long enough to cover the connect's own timeout.
      auto waited = ray::Wait(refs, 1, 15000);
      outcome = waited.ready.empty() ? "no_answer" : "answered:" + *pong.Get();
    }
  } catch (const std::exception& e) {
    outcome = std::string("error:") + e.what();
  }
  done = true;
  prober.join();
  std::printf("near_calls=%d near_max_ms=%lld\n", calls.load(),
              static_cast<long long>(slowest_ms.load()));
  std::printf("far=%s\n", outcome.c_str());
  std::fflush(stdout);
  std::_Exit(0);  // "far" cannot be reached for a clean shutdown; the test stops the cluster
}

int main(int argc, char** argv) {
  if (argc < 2) {
    ray::Init();  // a worker never returns from here
    return 2;
  }
  ray::RayConfig config;
  config.address = argv[1];
  ray::Init(config);
  if (argc >= 4 && std::string(argv[2]) == "drop") return DropScenario(argv[3]);
  // Pinned first: a hard affinity waits until the local raylet's view shows the node.
  std::printf("pinned=");
  for (const auto& node : ray::Nodes()) {
    auto ran = ray::Task(NodeIp)
                   .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{node.node_id})
                   .Remote();
    std::printf("%s:%s,", node.node_ip.c_str(), ran.Get(60000)->c_str());
  }
  std::printf("\n");
  std::vector<ray::ObjectRef<std::string>> refs;
  for (int i = 0; i < 30; ++i) {
    refs.push_back(ray::Task(NodeIp).SetSchedulingStrategy(ray::SpreadSchedulingStrategy{}).Remote());
  }
  std::set<std::string> ips;
  for (auto& ip : ray::Get(refs, 60000)) ips.insert(*ip);
  std::printf("ips=");
  for (const auto& ip : ips) std::printf("%s,", ip.c_str());
  std::printf("\n");
  std::string last;
  for (const auto& node : ray::Nodes()) {
    if (node.node_name == "ns3") last = node.node_id;
  }
  const int64_t size = 64ll << 20;
  auto made = ray::Task(Make)
                  .SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{last})
                  .Remote(size);
  auto bytes = made.Get(60000);
  bool ok = static_cast<int64_t>(bytes->size()) == size;
  for (int64_t i = 0; ok && i < size; ++i) ok = (*bytes)[i] == PatternByte(i);
  std::printf("%s\n", ok ? "transfer_ok" : "transfer_corrupt");
  std::fflush(stdout);
  ray::Shutdown();
  return 0;
}
