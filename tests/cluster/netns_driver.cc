// The driver netns_test.cc runs inside the head's network namespace:
//   netns_driver ADDRESS   a task pinned to each node (prints "pinned=<node ip>:<ip it ran on>"
//                          for each), 30 SPREAD tasks (prints "ips=<the node IPs they ran on>"),
//                          then a 64 MiB object made on node "ns3" and read here ("transfer_ok")
// Workers re-execute this program.
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
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
RAY_REMOTE(NodeIp, Make);

int main(int argc, char** argv) {
  if (argc < 2) {
    ray::Init();  // a worker never returns from here
    return 2;
  }
  ray::RayConfig config;
  config.address = argv[1];
  ray::Init(config);
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
