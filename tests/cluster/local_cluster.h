// LocalCluster: an N-node Moray cluster on this machine for a test, made with the real CLI — a
// head (`moray start --head`) and worker nodes (`moray start --address=...`), each raylet with its
// own port, session directory and object store. Stop() (also run by the destructor, so a failing
// test leaves nothing behind) runs `moray stop`, which ends every service and worker of the test's
// private session root.
//
//   LocalCluster cluster;
//   ASSERT_TRUE(cluster.Start({{.num_cpus = 1}, {.num_cpus = 2, .resources = R"({"gpu_box": 1})"}}));
//   config.address = cluster.address();
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace moray::testing {

struct NodeSpec {
  double num_cpus = 1;
  int num_gpus = -1;      // -1: not given (the GPUs the machine has)
  std::string resources;  // JSON object, e.g. {"custom": 1}; empty: none
  std::string labels;     // JSON object of strings; empty: none
  std::string node_name;  // empty: the default (its IP address)
  long long object_store_memory = 128ll << 20;
  std::vector<std::string> extra_args;  // more `moray start` flags
};

class LocalCluster {
 public:
  LocalCluster() = default;
  ~LocalCluster() { Stop(); }
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // nodes[0] is the head. Returns false (with the reason in error()) if any node fails to start.
  bool Start(const std::vector<NodeSpec>& nodes);
  // Adds a worker node to the running cluster.
  bool AddNode(const NodeSpec& node);
  void Stop();

  const std::string& address() const { return address_; }
  // The head's dashboard ("http://ip:port"; on a free port).
  const std::string& dashboard() const { return dashboard_; }
  // The raylet process of node `i` (0: the head), in start order.
  pid_t raylet_pid(size_t i) const { return raylet_pids_.at(i); }  // always > 0
  const std::string& error() const { return error_; }

 private:
  std::vector<std::string> Args(const NodeSpec& node) const;
  // Records the raylet pid from the session directory `moray start` printed.
  bool NoteRaylet(const std::string& start_output);  // false: no raylet pid found

  std::string address_;
  std::string dashboard_;
  std::string error_;
  bool running_ = false;
  std::vector<pid_t> raylet_pids_;
};

}  // namespace moray::testing
