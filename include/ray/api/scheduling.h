// Beyond Ray's C++ API: where tasks and actors run, and what the cluster has.
//
//   ray::Task(f).SetSchedulingStrategy(ray::SpreadSchedulingStrategy{}).Remote();
//   ray::Task(f).SetSchedulingStrategy(ray::NodeAffinitySchedulingStrategy{node_id, /*soft=*/true})
//       .Remote();
//   for (const ray::Node& node : ray::Nodes()) ...;   // every node, alive or dead
//   double cpus = ray::ClusterResources()["CPU"];     // totals over the alive nodes
//   double free = ray::AvailableResources()["CPU"];   // as last reported by the raylets
//
// DefaultSchedulingStrategy: stay on the caller's node until it is about half busy, then the
// least-loaded node with the resources. SpreadSchedulingStrategy: round-robin over the nodes
// that can run it, one task per lease. NodeAffinitySchedulingStrategy: on `node_id` (hex, as
// ray::Nodes() gives it); hard (default) fails the task with RayException-carrying errors if the
// node is gone or can never run it, soft falls back to the default.
#pragma once

#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace ray {

struct DefaultSchedulingStrategy {};
struct SpreadSchedulingStrategy {};
struct NodeAffinitySchedulingStrategy {
  std::string node_id;  // hex
  bool soft = false;
};
using SchedulingStrategy =
    std::variant<DefaultSchedulingStrategy, SpreadSchedulingStrategy, NodeAffinitySchedulingStrategy>;

struct Node {
  std::string node_id;  // hex
  std::string node_ip;
  std::string node_name;
  bool alive = false;
  bool is_head = false;
  std::string state_message;  // why a dead node died
  std::unordered_map<std::string, double> resources;  // totals
  std::unordered_map<std::string, std::string> labels;
};

}  // namespace ray
