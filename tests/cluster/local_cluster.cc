#include "tests/cluster/local_cluster.h"

#include <fstream>
#include <regex>

#include "tests/test_env.h"

namespace moray::testing {

std::vector<std::string> LocalCluster::Args(const NodeSpec& node) const {
  std::vector<std::string> args = {"start", "--num-cpus=" + std::to_string(node.num_cpus),
                                   "--object-store-memory=" +
                                       std::to_string(node.object_store_memory)};
  if (node.num_gpus >= 0) args.push_back("--num-gpus=" + std::to_string(node.num_gpus));
  if (!node.resources.empty()) args.push_back("--resources=" + node.resources);
  if (!node.labels.empty()) args.push_back("--labels=" + node.labels);
  if (!node.node_name.empty()) args.push_back("--node-name=" + node.node_name);
  args.insert(args.end(), node.extra_args.begin(), node.extra_args.end());
  return args;
}

bool LocalCluster::Start(const std::vector<NodeSpec>& nodes) {
  if (nodes.empty()) {
    error_ = "a cluster needs at least a head node";
    return false;
  }
  auto args = Args(nodes[0]);
  args.push_back("--head");
  args.push_back("--port=0");
  args.push_back("--dashboard-port=0");  // 8265 may be another test's
  running_ = true;  // whatever started is stopped, even if this fails half way
  auto head = RunMoray(args);
  std::smatch m;
  if (head.exit_code != 0 || !std::regex_search(head.out, m, std::regex("GCS address: (\\S+)"))) {
    error_ = "head: " + head.out + head.err;
    return false;
  }
  address_ = m[1];
  if (std::regex_search(head.out, m, std::regex("Dashboard: (\\S+)"))) dashboard_ = m[1];
  if (!NoteRaylet(head.out)) {
    error_ = "head: no raylet pid in its session: " + head.out;
    return false;
  }
  for (size_t i = 1; i < nodes.size(); ++i) {
    if (!AddNode(nodes[i])) return false;
  }
  return true;
}

bool LocalCluster::AddNode(const NodeSpec& node) {
  auto args = Args(node);
  args.push_back("--address=" + address_);
  auto joined = RunMoray(args);
  if (joined.exit_code != 0) {
    error_ = "worker node: " + joined.out + joined.err;
    return false;
  }
  if (!NoteRaylet(joined.out)) {
    error_ = "worker node: no raylet pid in its session: " + joined.out;
    return false;
  }
  return true;
}

bool LocalCluster::NoteRaylet(const std::string& start_output) {
  std::smatch m;
  pid_t raylet = -1;
  if (std::regex_search(start_output, m, std::regex("Session directory: (\\S+)"))) {
    std::ifstream in(m[1].str() + "/pids");
    pid_t pid;
    std::string name;
    while (in >> pid >> name) {
      if (name == "raylet") raylet = pid;
    }
  }
  raylet_pids_.push_back(raylet);
  return raylet > 0;  // tests signal it: never let -1 (every process) through
}

void LocalCluster::Stop() {
  if (!running_) return;
  running_ = false;
  RunMoray({"stop"});
}

}  // namespace moray::testing
