// microbenchmark: Moray's task and object fast paths, measured the way Ray's `ray microbenchmark`
// measures them (same metric names and definitions, see ../shared/design/BENCHMARKS.md and
// docs/benchmarks.md), plus Moray figures (moray_figures.h): cluster start to first task, worker
// start, memory, zero-copy get latency.
//
//   microbenchmark [--json PATH] [--jsonl PATH] [--filter SUBSTRING|moray] [--metric NAME]...
//                  [--windows N] [--window-seconds S] [--warmup-seconds S] [--no-moray] [--list]
//                  [--baselines]
//                  [--ray_head_args="--num-cpus=4 --object-store-memory=..."]
//
// The program is a driver; workers re-execute it, so main() calls ray::Init before anything else
// (in a worker, Init runs the task loop and never returns). The Ray metrics (ray_metrics.h) use
// only the Ray C++ API: with -DMORAY_BENCH_RAY_API_ONLY (microbenchmark.cc, ray_metrics.cc,
// harness.cc, report.cc; no Moray header) the same source builds against Moray or ray-cpp;
// bench/compare-with-ray.sh builds it both ways and runs them side by side.
//
// Method (as Ray's timeit, harness.h): a warm-up, then `--windows` timed windows of at least
// `--window-seconds` each; each window's rate is units / elapsed; we report mean ± std of the
// windows. Variants (ray_metrics.h) measure a metric again in a child driver whose cluster is
// configured as Ray's default is, so that figure and Ray's are the same work.
#include <ray/api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#ifndef MORAY_BENCH_RAY_API_ONLY
#include "moray_figures.h"
#endif
#include "harness.h"
#include "ray_metrics.h"
#include "report.h"

// Built against Moray (the Moray-only headers are on the include path) or against ray-cpp.
#if __has_include(<moray/byte_view.h>)
constexpr bool kBuiltAgainstMoray = true;
#else
constexpr bool kBuiltAgainstMoray = false;
#endif

namespace moray::bench {
namespace {

// The head arguments of this driver's own cluster unless --ray_head_args replaces them: a store
// that holds the largest object of the run (the 1 GiB of zero_copy_get) with room to spare,
// whatever this machine's default (30% of RAM) is, and the custom resource the bundles of
// placement_group_create/removal ask for (as Ray's benchmark gives its cluster).
const std::vector<std::string>& DefaultHeadArgs() {
  static const std::vector<std::string> args = {"--object-store-memory=4294967296",
                                                kPlacementGroupResourceHeadArg};
  return args;
}

// ---------------------------------------------------------------------------------------------
// Variants: child drivers.

// The child driver's arguments: this driver's, without the result files, with the variant's
// head argument added to the cluster's head arguments.
std::vector<std::string> VariantArgs(int argc, char** argv, const Variant& variant) {
  std::vector<std::string> args = {"--child=variant:" + variant.mode};
  std::string head_args = FlagValue(argc, argv, "--ray_head_args");
  if (head_args.empty()) {
    for (const auto& arg : DefaultHeadArgs()) head_args += (head_args.empty() ? "" : " ") + arg;
  }
  if (!variant.head_arg.empty()) head_args += " " + variant.head_arg;
  args.push_back("--ray_head_args=" + head_args);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool with_value = false;
    for (const char* flag : {"--json", "--jsonl", "--ray_head_args"}) {
      if (arg == flag) with_value = true;
      if (arg == flag || arg.rfind(std::string(flag) + "=", 0) == 0) arg.clear();
    }
    if (with_value) ++i;
    if (!arg.empty() && arg != "--list") args.push_back(arg);
  }
  return args;
}

void RunVariants(int argc, char** argv, const Options& opt) {
  const bool own_cluster = FlagValue(argc, argv, "--ray_address").empty() &&
                           std::getenv("RAY_ADDRESS") == nullptr;
  for (const Variant& variant : Variants()) {
    std::vector<std::string> wanted;
    for (const auto& m : variant.metrics) {
      if (Wanted(opt, m + variant.suffix)) wanted.push_back(m + variant.suffix);
    }
    if (wanted.empty()) continue;
    std::string failure;
    std::vector<Result> results;
    // Against ray-cpp the child measures Ray's default, which is what the variant sets; against
    // Moray a head argument needs a cluster this driver starts.
    if (kBuiltAgainstMoray && !variant.head_arg.empty() && !own_cluster) {
      failure = variant.head_arg + " is a head argument: this variant needs the driver's own "
                "cluster (no --ray_address / RAY_ADDRESS)";
    } else {
      results = RunChild(VariantArgs(argc, argv, variant), variant.env, &failure);
    }
    for (Result& r : results) {
      wanted.erase(std::remove(wanted.begin(), wanted.end(), r.name), wanted.end());
      Report(std::move(r));
    }
    for (const auto& name : wanted) {
      Report(Failed(name, failure.empty() ? "the child driver reported nothing" : failure));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ratios to this machine's limits, measured in the same run.

void PrintRatios() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const Result* tcp = FindResult("tcp_roundtrip_64b_baseline");
  bool header = false;
  auto line = [&](const std::string& text) {
    if (!header) std::printf("-- Ratios to this machine's limits, measured in this run\n");
    header = true;
    std::printf("%s\n", text.c_str());
  };
  char text[256];
  for (const char* sync : {"single_client_tasks_sync", "1_1_actor_calls_sync"}) {
    const Result* r = FindResult(sync);
    if (!r || !tcp || r->value <= 0) continue;
    std::snprintf(text, sizeof(text),
                  "%-44s %14.3f   × TCP round trips/s: each call takes %.1f round trips' time",
                  sync, r->value / tcp->value, tcp->value / r->value);
    line(text);
  }
  const std::pair<std::string, std::string> puts[] = {
      {"single_client_put_gigabytes", "memcpy_800mb_gigabytes_baseline"},
      {"multi_client_put_gigabytes",
       "memcpy_80mb_x" + std::to_string(cores) + "_gigabytes_baseline"}};
  for (const auto& [metric, baseline] : puts) {
    const Result* r = FindResult(metric);
    const Result* b = FindResult(baseline);
    if (!r || !b || b->value <= 0) continue;
    std::snprintf(text, sizeof(text), "%-44s %14.3f   × %s", metric.c_str(), r->value / b->value,
                  baseline.c_str());
    line(text);
  }
}

}  // namespace
}  // namespace moray::bench

int main(int argc, char** argv) {
  using namespace moray::bench;
  std::string child;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--child=", 0) == 0) child = arg.substr(8);
  }
#ifndef MORAY_BENCH_RAY_API_ONLY
  if (child == "first-task") {
    SetChildMode();
    return FirstTaskChild(argc, argv);
  }
#endif
  // Before ray::Init, which would start a cluster (and which workers never return from).
  Options opt = ParseOptions(argc, argv, MetricNames());
  if (opt.list) {
    for (const auto& name : MetricNames()) std::printf("%s\n", name.c_str());
    return 0;
  }
  if (opt.baselines) {
    // This machine's limits alone, without a cluster: what bench/python/microbenchmark.py
    // reports beside its figures (the TCP round trip, then a warm memcpy of the large put's size).
    if (!opt.jsonl_path.empty() && !SetJsonLines(opt.jsonl_path)) {
      std::fprintf(stderr, "microbenchmark: cannot append to %s\n", opt.jsonl_path.c_str());
      return 2;
    }
    TcpRoundTripBaseline(opt);
    MemcpyBaseline(opt, "memcpy_800mb_gigabytes_baseline", 800'000'000, 1);  // as ray_metrics.cc
    if (!opt.json_path.empty()) WriteJson(opt.json_path);
    return AnyFailed() ? 1 : 0;
  }
  ray::RayConfig config;
  config.head_args = DefaultHeadArgs();  // --ray_head_args replaces the list
  auto init_start = Clock::now();
  std::vector<std::string> init_strings = InitArgs(argc, argv);
  std::vector<char*> init_args = {argv[0]};
  for (auto& s : init_strings) init_args.push_back(s.data());
  init_args.push_back(nullptr);
  try {
    // A worker never returns from here.
    ray::Init(config, static_cast<int>(init_args.size()) - 1, init_args.data());
  } catch (const std::exception& e) {
    // A variant's child says why to its parent, which records it for each metric it wanted.
    if (child.rfind("variant:", 0) == 0) {
      SetChildMode();
      for (const Variant& v : Variants()) {
        for (const auto& m : v.metrics) {
          if ("variant:" + v.mode == child && Wanted(opt, m + v.suffix)) {
            Report(Failed(m + v.suffix, std::string("ray::Init: ") + e.what()));
          }
        }
      }
    }
    std::fprintf(stderr, "microbenchmark: ray::Init failed: %s\n", e.what());
    return 1;
  }
  double init_ms = SecondsSince(init_start) * 1000;
#ifndef MORAY_BENCH_RAY_API_ONLY
  if (child == "figures") {
    SetChildMode();
    FiguresChild();
    ray::Shutdown();
    return 0;
  }
#endif
  if (child.rfind("variant:", 0) == 0) {
    SetChildMode();
    for (const Variant& v : Variants()) {
      if ("variant:" + v.mode != child) continue;
      opt.only = v.metrics;
      opt.suffix = v.suffix;
      RunRayMetrics(opt);
    }
    ray::Shutdown();
    return 0;
  }
  if (!opt.jsonl_path.empty() && !SetJsonLines(opt.jsonl_path)) {
    std::fprintf(stderr, "microbenchmark: cannot append to %s\n", opt.jsonl_path.c_str());
    return 2;
  }

  std::printf("%-44s %14s   %-10s %s\n", "metric", "value", "± std", "unit");
  std::printf("-- Ray metrics (%d windows of >= %.1f s after a %.1f s warm-up; mean ± std)\n",
              opt.windows, opt.window_seconds, opt.warmup_seconds);
  RunRayMetrics(opt);
  RunVariants(argc, argv, opt);
#ifndef MORAY_BENCH_RAY_API_ONLY
  if (opt.moray_figures && opt.metrics.empty()) {
    std::printf("-- Moray figures (this driver's ray::Init took %.0f ms)\n", init_ms);
    RunMorayFigures(opt.filter, !Results().empty());
  }
#else
  (void)init_ms;
#endif
  PrintRatios();
  if (!opt.json_path.empty()) WriteJson(opt.json_path);
  ray::Shutdown();
  return AnyFailed() ? 1 : 0;
}
