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
// node is gone or can never run it, soft falls back to the default. NodeLabelSchedulingStrategy:
// the default policy over the nodes whose labels (`moray start --labels`) match every entry of
// `hard`: "v" (equals), "!v" (absent or differs), "in(a,b)" (one of), "!in(a,b)" (none of); a
// task no alive node matches fails with RayException naming the selector, an actor waits for one.
//
//   ray::Task(f).SetSchedulingStrategy(ray::NodeLabelSchedulingStrategy{{{"zone", "in(a,b)"}}});
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
struct NodeLabelSchedulingStrategy {
  std::unordered_map<std::string, std::string> hard;  // label -> condition
};
using SchedulingStrategy =
    std::variant<DefaultSchedulingStrategy, SpreadSchedulingStrategy,
                 NodeAffinitySchedulingStrategy, NodeLabelSchedulingStrategy>;

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
