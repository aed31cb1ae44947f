// The Ray metrics of the microbenchmark: the definitions of Ray's `ray microbenchmark`
// (python/ray/_private/ray_perf.py: the same callers, actors and calls per batch), written against
// the Ray C++ API only so they build against ray-cpp too, plus the variants that measure a metric
// again with Ray's defaults (see docs/benchmarks.md).
#pragma once

#include <string>
#include <vector>

#include "harness.h"

namespace moray::bench {

// The custom resource each bundle of placement_group_create/removal asks for (0.001 of it), as in
// Ray's benchmark; the cluster needs some (kPlacementGroupResourceHeadArg gives it 100).
inline constexpr const char* kPlacementGroupResource = "custom";
inline constexpr const char* kPlacementGroupResourceHeadArg = "--resources={\"custom\":100}";

// A metric measured again in a child driver configured as Ray's default is, reported as the
// metric's name + suffix, so that figure and Ray's are the same work.
struct Variant {
  std::string mode;    // --child=variant:<mode>
  std::string suffix;  // of the metric names
  std::vector<std::string> metrics;
  std::vector<std::string> env;  // the child driver's (its cluster's processes inherit it)
  std::string head_arg;          // added to the child's head arguments
};

const std::vector<Variant>& Variants();

// Every metric RunRayMetrics measures, in the order they run (--list prints them, --metric
// accepts them), variants included. The memcpy baselines run with their put metric and are not
// listed.
std::vector<std::string> MetricNames();

// Measures the wanted metrics (opt.only / opt.suffix: a variant's child driver).
void RunRayMetrics(const Options& opt);

}  // namespace moray::bench
