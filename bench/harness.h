// The microbenchmark's harness (Ray C++ API free, so it builds against Moray and ray-cpp alike):
// options, Ray's timeit method, the same-run baselines of this machine (memcpy, TCP round trip),
// and child drivers (this program re-executed with --child=<mode>).
//
//   Options opt = ParseOptions(argc, argv, MetricNames());
//   Timeit(opt, "single_client_tasks_sync", [] { ... }, 1, "tasks/s");
//
// Thread model: the driver's main thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "report.h"

namespace moray::bench {

struct Options {
  std::string json_path;   // --json: all results as one JSON object at the end
  std::string jsonl_path;  // --jsonl: one JSON line per result, appended as it is measured
  std::string filter;      // --filter: metrics whose name contains this text
  std::vector<std::string> metrics;  // --metric (repeatable): exactly these metrics
  int windows = 5;
  double window_seconds = 1.0;
  double warmup_seconds = 0.5;  // --warmup-seconds
  bool moray_figures = true;  // --no-moray turns them off
  bool list = false;          // --list: print the metric names and exit
  bool baselines = false;     // --baselines: only this machine's limits (no cluster), then exit
  std::vector<std::string> known;  // every metric name this program measures
  // A variant's child driver measures only `only` (base names), reported as name + suffix.
  std::vector<std::string> only;
  std::string suffix;
};

// Whether the metric `base` (+ opt.suffix) is to be measured in this process.
bool Wanted(const Options& opt, const std::string& base);
// The name `base` is reported under in this process.
std::string FullName(const Options& opt, const std::string& base);

// Ray's timeit: a warm-up of opt.warmup_seconds, then opt.windows windows of at least
// opt.window_seconds; `fn` does `multiplier` units of work per call. Reports mean ± std of the
// windows' rates and returns the rates; empty if not wanted or failed (an exception from `fn`
// is reported as the metric's failure, and the run goes on). `always`: measure even if
// --filter/--metric do not name it (the baseline of a metric that is wanted).
std::vector<double> Timeit(const Options& opt, const std::string& base,
                           const std::function<void()>& fn, double multiplier,
                           const std::string& unit, bool always = false);

// memcpy between two warm buffers of `bytes` on each of `threads` threads at once (GB/s over
// all threads): the ceiling of a put of that size.
void MemcpyBaseline(const Options& opt, const std::string& name, size_t bytes, int threads);

// A blocking ping-pong of 64-byte messages between this process and a forked one over TCP on
// 127.0.0.1 (TCP_NODELAY): tcp_roundtrip_64b_baseline (round trips/s) and
// tcp_roundtrip_64b_us_baseline (µs each): the floor of any synchronous call between processes.
void TcpRoundTripBaseline(const Options& opt);

// Runs this program again as a child driver with `args` (after argv[0]) and `env` ("NAME=value",
// added to this process's environment). Returns what it reported (ParseChildResults) and, in
// *failure, why it did not exit 0 ("" if it did). *first_line_ms: ms from before fork+exec to its
// first line of output.
std::vector<Result> RunChild(const std::vector<std::string>& args,
                             const std::vector<std::string>& env = {},
                             std::string* failure = nullptr, double* first_line_ms = nullptr);

// The options ParseOptions reads, and argv without them (for ray::Init: ray-cpp's Init rejects
// any flag it does not know). `known` are the metric names --metric accepts and --list prints;
// an unknown one is an error (exit 2).
Options ParseOptions(int argc, char** argv, const std::vector<std::string>& known);
std::vector<std::string> InitArgs(int argc, char** argv);
// The value of `--flag=value` / `--flag value` in argv, or "" (e.g. --ray_head_args).
std::string FlagValue(int argc, char** argv, const std::string& flag);

}  // namespace moray::bench
