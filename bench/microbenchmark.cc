// microbenchmark: Moray's task and object fast paths, measured the way Ray's `ray microbenchmark`
// measures them (same metric names, see ../shared/design/BENCHMARKS.md), plus Moray figures
// (moray_figures.h): cluster start to first task, worker start, memory, zero-copy get latency.
//
//   microbenchmark [--json PATH] [--filter SUBSTRING|moray] [--windows N] [--window-seconds S]
//                  [--no-moray] [--ray_head_args="--num-cpus=4 --object-store-memory=..."]
//
// The program is a driver; workers re-execute it, so main() calls ray::Init before anything else
// (in a worker, Init runs the task loop and never returns). This file uses only the Ray C++ API
// (ray/api.h), so the Ray metrics build against ray-cpp as well: with -DMORAY_BENCH_RAY_API_ONLY
// (microbenchmark.cc + report.cc only, no Moray header) the same source builds against Moray or
// ray-cpp; bench/compare-with-ray.sh builds it both ways and runs them side by side.
//
// Method (as Ray's timeit): a warm-up of ~0.5 s, then `--windows` timed windows of at least
// `--window-seconds` each; each window's rate is units / elapsed; we report mean ± std of the
// windows.
#include <ray/api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#ifndef MORAY_BENCH_RAY_API_ONLY
#include "moray_figures.h"
#endif
#include "client_tasks.h"
#include "report.h"

// ---------------------------------------------------------------------------------------------
// Remote functions.

using moray::bench::ClientBatch;
using moray::bench::Noop;

// Sizes of the large-object metrics (decimal: 1 GB = 1e9 bytes).
constexpr size_t kSinglePutBytes = 800'000'000;  // single_client_put_gigabytes: one 800 MB buffer
constexpr size_t kMultiPutBytes = 80'000'000;    // multi_client_put_gigabytes: puts of 80 MB
constexpr int kMultiPutClients = 10, kMultiPutsPerClient = 10;

// A buffer of `size` bytes whose pages are already touched (allocated once per process and kept;
// WarmBuffer(0) frees it), so a put measures the copy into the object store, not page faults on
// fresh memory.
const std::vector<uint8_t>& WarmBuffer(size_t size) {
  static std::vector<uint8_t> buffer;
  if (size == 0) std::vector<uint8_t>().swap(buffer);  // give the memory back
  if (buffer.size() != size) {
    buffer.assign(size, 0);
    for (size_t i = 0; i < size; i += 4096) buffer[i] = static_cast<uint8_t>(i >> 12);
  }
  return buffer;
}

// A client of multi_client_put_gigabytes: `n` puts of `bytes` from this worker's warm buffer,
// each ref dropped at once (as Ray's benchmark does).
int PutLarge(int n, int64_t bytes) {
  const auto& buffer = WarmBuffer(static_cast<size_t>(bytes));
  for (int i = 0; i < n; ++i) ray::Put(buffer);
  return n;
}

// A client of multi_client_put_calls: `n` puts of a small int.
int PutSmall(int n) {
  for (int i = 0; i < n; ++i) ray::Put(i);
  return n;
}

// The object of single_client_get_object_containing_10k_refs: a task's return value holding
// `n` refs to small objects the task put.
std::vector<ray::ObjectRef<int>> MakeRefs(int n) {
  std::vector<ray::ObjectRef<int>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) refs.push_back(ray::Put(i));
  return refs;
}

// The actor of the actor metrics: methods that do nothing, so the figures are the runtime's.
class BenchActor {
 public:
  static BenchActor* Create() { return new BenchActor(); }
  int Small() { return 0; }
  int SmallArg(int x) { return x; }
};

// A client of the n_n metrics: `calls` async calls spread over `actors`, then Get them all.
int ActorClient(std::vector<ray::ActorHandle<BenchActor>> actors, int calls, bool with_arg) {
  std::vector<ray::ObjectRef<int>> refs;
  refs.reserve(calls);
  auto arg = ray::Put(1);
  for (int i = 0; i < calls; ++i) {
    auto& actor = actors[i % actors.size()];
    refs.push_back(with_arg ? actor.Task(&BenchActor::SmallArg).Remote(arg)
                            : actor.Task(&BenchActor::Small).Remote());
  }
  ray::Get(refs);
  return calls;
}

RAY_REMOTE(Noop, ClientBatch, PutLarge, PutSmall, MakeRefs, BenchActor::Create, &BenchActor::Small,
           &BenchActor::SmallArg, ActorClient);

namespace moray::bench {
namespace {

struct Options {
  std::string json_path;
  std::string filter;
  int windows = 5;
  double window_seconds = 1.0;
  double warmup_seconds = 0.5;
  bool moray_figures = true;
};

bool Wanted(const Options& opt, const std::string& name) {
  return opt.filter.empty() || name.find(opt.filter) != std::string::npos;
}

// `always`: run even if --filter does not match `name` (a baseline of a metric that matched).
void Timeit(const Options& opt, const std::string& name, const std::function<void()>& fn,
            double multiplier, const std::string& unit, bool always = false) {
  if (!always && !Wanted(opt, name)) return;
  auto start = Clock::now();
  long calls = 0;
  while (calls == 0 || SecondsSince(start) < opt.warmup_seconds) {
    fn();
    ++calls;
  }
  // Calls per clock read, so cheap calls are not dominated by reading the clock.
  long step = std::max(1L, calls / 20);
  std::vector<double> rates;
  for (int w = 0; w < opt.windows; ++w) {
    long count = 0;
    start = Clock::now();
    double elapsed = 0;
    do {
      for (long i = 0; i < step; ++i) fn();
      count += step;
      elapsed = SecondsSince(start);
    } while (elapsed < opt.window_seconds);
    rates.push_back(multiplier * count / elapsed);
  }
  Report({name, Mean(rates), StdDev(rates), unit, ""});
}

// The baseline of the put metrics, measured in the same run: memcpy between two warm buffers of
// `bytes` on each of `threads` threads at once (GB/s over all threads). The put of N bytes into
// the store is one such copy plus the store's round trips.
void MemcpyBaseline(const Options& opt, const std::string& name, size_t bytes, int threads) {
  std::vector<std::vector<uint8_t>> src(threads), dst(threads);
  for (int t = 0; t < threads; ++t) {
    src[t].assign(bytes, static_cast<uint8_t>(t + 1));
    dst[t].assign(bytes, 0);
  }
  Timeit(opt, name,
         [&] {
           std::vector<std::thread> copiers;
           for (int t = 1; t < threads; ++t) {
             copiers.emplace_back([&, t] { std::memcpy(dst[t].data(), src[t].data(), bytes); });
           }
           std::memcpy(dst[0].data(), src[0].data(), bytes);
           for (auto& c : copiers) c.join();
         },
         threads * bytes / 1e9, "GB/s", /*always=*/true);
}

// ---------------------------------------------------------------------------------------------
// The Ray metrics (Ray C++ API only).

int NumCpus() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

void RunActorMetrics(const Options& opt) {
  bool any = false;
  for (const char* name : {"1_1_actor_calls_sync", "1_1_actor_calls_async",
                           "1_1_actor_calls_concurrent", "1_n_actor_calls_async",
                           "n_n_actor_calls_async", "n_n_actor_calls_with_arg_async",
                           "actor_creation_100_and_answer"}) {
    any = any || Wanted(opt, name);
  }
  if (!any) return;
  auto actor = ray::Actor(BenchActor::Create).Remote();
  Timeit(opt, "1_1_actor_calls_sync", [&] { ray::Get(actor.Task(&BenchActor::Small).Remote()); },
         1, "calls/s");
  auto async_batch = [](ray::ActorHandle<BenchActor>& a) {
    std::vector<ray::ObjectRef<int>> refs;
    refs.reserve(1000);
    for (int i = 0; i < 1000; ++i) refs.push_back(a.Task(&BenchActor::Small).Remote());
    ray::Get(refs);
  };
  Timeit(opt, "1_1_actor_calls_async", [&] { async_batch(actor); }, 1000, "calls/s");
  if (Wanted(opt, "1_1_actor_calls_concurrent")) {
    auto threaded = ray::Actor(BenchActor::Create).SetMaxConcurrency(16).Remote();
    Timeit(opt, "1_1_actor_calls_concurrent", [&] { async_batch(threaded); }, 1000, "calls/s");
  }
  // As Ray's: as many actors as CPUs, the driver's calls spread over them.
  const int n = NumCpus();
  std::vector<ray::ActorHandle<BenchActor>> actors;
  for (int i = 0; i < n; ++i) actors.push_back(ray::Actor(BenchActor::Create).Remote());
  for (auto& a : actors) ray::Get(a.Task(&BenchActor::Small).Remote());
  Timeit(opt, "1_n_actor_calls_async",
         [&] {
           std::vector<ray::ObjectRef<int>> refs;
           refs.reserve(1000 * actors.size());
           for (int i = 0; i < 1000; ++i) {
             for (auto& a : actors) refs.push_back(a.Task(&BenchActor::Small).Remote());
           }
           ray::Get(refs);
         },
         1000.0 * n, "calls/s");
  // n clients (tasks holding no CPU, like Ray's client actors), each calling all n actors.
  for (bool with_arg : {false, true}) {
    const std::string name =
        with_arg ? "n_n_actor_calls_with_arg_async" : "n_n_actor_calls_async";
    constexpr int kCallsPerClient = 2000;
    Timeit(opt, name,
           [&] {
             std::vector<ray::ObjectRef<int>> clients;
             for (int c = 0; c < n; ++c) {
               clients.push_back(ray::Task(ActorClient)
                                     .SetResource("CPU", 0.01)
                                     .Remote(actors, kCallsPerClient, with_arg));
             }
             ray::Get(clients);
           },
           1.0 * n * kCallsPerClient, "calls/s");
  }
  // Creation: 100 actors created and each answering one call, from nothing; the rate over the
  // whole batch (the target: 100 in <= 2 s, i.e. >= 50 actors/s).
  if (Wanted(opt, "actor_creation_100_and_answer")) {
    std::vector<double> rates;
    for (int round = 0; round < 3; ++round) {
      auto start = Clock::now();
      std::vector<ray::ActorHandle<BenchActor>> batch;
      for (int i = 0; i < 100; ++i) batch.push_back(ray::Actor(BenchActor::Create).Remote());
      std::vector<ray::ObjectRef<int>> answers;
      for (auto& a : batch) answers.push_back(a.Task(&BenchActor::Small).Remote());
      ray::Get(answers);
      rates.push_back(100 / SecondsSince(start));
    }  // the batch's handles go: the actors end
    Report({"actor_creation_100_and_answer", Mean(rates), StdDev(rates), "actors/s", ""});
  }
}

void RunRayMetrics(const Options& opt) {
  Timeit(opt, "single_client_tasks_sync", [] { ray::Get(ray::Task(Noop).Remote()); }, 1,
         "tasks/s");

  Timeit(opt, "single_client_tasks_async",
         [] {
           std::vector<ray::ObjectRef<int>> refs;
           refs.reserve(1000);
           for (int i = 0; i < 1000; ++i) refs.push_back(ray::Task(Noop).Remote());
           ray::Get(refs);
         },
         1000, "tasks/s");

  // Four clients, each a task (on its own worker process) that submits 10k tasks and gets them.
  // The clients ask for a sliver of CPU so all four run at once on any machine (Ray's clients
  // are actors, which hold no CPU while they run); the tasks they submit take 1 CPU as usual.
  Timeit(opt, "multi_client_tasks_async",
         [] {
           constexpr int kClients = 4, kTasksPerClient = 10000;
           std::vector<ray::ObjectRef<int>> clients;
           for (int c = 0; c < kClients; ++c) {
             clients.push_back(
                 ray::Task(ClientBatch).SetResource("CPU", 0.01).Remote(kTasksPerClient));
           }
           ray::Get(clients);
         },
         4 * 10000, "tasks/s");

  Timeit(opt, "single_client_tasks_and_get_batch",
         [] {
           std::vector<ray::ObjectRef<int>> refs;
           refs.reserve(1000);
           for (int i = 0; i < 1000; ++i) refs.push_back(ray::Task(Noop).Remote());
           ray::Get(refs);
         },
         1, "batches/s");

  // As Ray's: 1000 tasks, then Wait for one of the not-yet-ready refs at a time until none is left.
  Timeit(opt, "single_client_wait_1k_refs",
         [] {
           std::vector<ray::ObjectRef<int>> not_ready;
           not_ready.reserve(1000);
           for (int i = 0; i < 1000; ++i) not_ready.push_back(ray::Task(Noop).Remote());
           while (!not_ready.empty()) {
             auto result = ray::Wait(not_ready, 1, -1);
             not_ready.assign(result.unready.begin(), result.unready.end());
           }
         },
         1, "iterations/s");

  Timeit(opt, "single_client_put_calls", [] { ray::Put(0); }, 1, "puts/s");

  auto value = ray::Put(0);
  Timeit(opt, "single_client_get_calls", [&] { ray::Get(value); }, 1, "gets/s");

  // 10 clients (tasks) × 100 puts of a small int.
  Timeit(opt, "multi_client_put_calls",
         [] {
           std::vector<ray::ObjectRef<int>> clients;
           for (int c = 0; c < 10; ++c) clients.push_back(ray::Task(PutSmall).Remote(100));
           ray::Get(clients);
         },
         10 * 100, "puts/s");

  // Large puts: one 800 MB buffer from the driver, and 10 clients × 10 puts of 80 MB. Each ref
  // is dropped right away, so the store reuses the same (warm) memory. The memcpy baselines
  // (same sizes, warm buffers; the multi-client one on as many threads as there are cores, the
  // most that can copy at once) are measured right before, in the same run.
  if (Wanted(opt, "single_client_put_gigabytes")) {
    MemcpyBaseline(opt, "memcpy_800mb_gigabytes_baseline", kSinglePutBytes, 1);
  }
  Timeit(opt, "single_client_put_gigabytes",
         [] { ray::Put(WarmBuffer(kSinglePutBytes)); }, kSinglePutBytes / 1e9, "GB/s");
  if (Wanted(opt, "multi_client_put_gigabytes")) {
    WarmBuffer(0);  // give the 800 MB back
    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    MemcpyBaseline(opt, "memcpy_80mb_gigabytes_baseline", kMultiPutBytes, 1);
    MemcpyBaseline(opt, "memcpy_80mb_x" + std::to_string(cores) + "_gigabytes_baseline",
                   kMultiPutBytes, cores);
  }
  Timeit(opt, "multi_client_put_gigabytes",
         [] {
           std::vector<ray::ObjectRef<int>> clients;
           for (int c = 0; c < kMultiPutClients; ++c) {
             clients.push_back(ray::Task(PutLarge).Remote(kMultiPutsPerClient,
                                                          static_cast<int64_t>(kMultiPutBytes)));
           }
           ray::Get(clients);
         },
         kMultiPutClients * kMultiPutsPerClient * kMultiPutBytes / 1e9, "GB/s");

  RunActorMetrics(opt);

  // Gets of one object that holds 10k refs (a task's return value): each Get deserializes the
  // 10k refs.
  if (Wanted(opt, "single_client_get_object_containing_10k_refs")) {
    auto containing = ray::Task(MakeRefs).Remote(10000);
    ray::Get(containing);
    Timeit(opt, "single_client_get_object_containing_10k_refs", [&] { ray::Get(containing); }, 1,
           "gets/s");
  }
}

// The options ParseOptions reads; InitArgs keeps them from ray::Init (ray-cpp's Init rejects any
// flag it does not know).
bool IsBenchOption(const std::string& arg, bool* takes_next) {
  *takes_next = false;
  for (const char* flag : {"--json", "--filter", "--windows", "--window-seconds"}) {
    if (arg == flag) return *takes_next = true;
    if (arg.rfind(std::string(flag) + "=", 0) == 0) return true;
  }
  return arg == "--no-moray";
}

// argv without the benchmark's own options, for ray::Init.
std::vector<char*> InitArgs(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    bool takes_next = false;
    if (i > 0 && IsBenchOption(argv[i], &takes_next)) {
      if (takes_next) ++i;
      continue;
    }
    args.push_back(argv[i]);
  }
  args.push_back(nullptr);
  return args;
}

Options ParseOptions(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const std::string& flag) -> std::string {
      if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
      if (arg == flag && i + 1 < argc) return argv[++i];
      return "";
    };
    if (arg.rfind("--json", 0) == 0) {
      opt.json_path = value("--json");
    } else if (arg.rfind("--filter", 0) == 0) {
      opt.filter = value("--filter");
    } else if (arg.rfind("--windows", 0) == 0) {
      opt.windows = std::max(1, std::atoi(value("--windows").c_str()));
    } else if (arg.rfind("--window-seconds", 0) == 0) {
      opt.window_seconds = std::atof(value("--window-seconds").c_str());
    } else if (arg == "--no-moray") {
      opt.moray_figures = false;
    }
  }
  return opt;
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
  ray::RayConfig config;
  // A store that holds the largest object of the run (the 1 GiB of zero_copy_get) with room to
  // spare, whatever this machine's default (30% of RAM) is. --ray_head_args replaces this list.
  config.head_args = {"--object-store-memory=4294967296"};
  auto init_start = Clock::now();
  std::vector<char*> init_args = InitArgs(argc, argv);
  ray::Init(config, static_cast<int>(init_args.size()) - 1, init_args.data());  // a worker never
                                                                                // returns from here
  double init_ms = SecondsSince(init_start) * 1000;
#ifndef MORAY_BENCH_RAY_API_ONLY
  if (child == "figures") {
    SetChildMode();
    FiguresChild();
    ray::Shutdown();
    return 0;
  }
#endif
  Options opt = ParseOptions(argc, argv);

  std::printf("%-44s %14s   %-10s %s\n", "metric", "value", "± std", "unit");
  std::printf("-- Ray metrics (%d windows of >= %.1f s after a %.1f s warm-up; mean ± std)\n",
              opt.windows, opt.window_seconds, opt.warmup_seconds);
  RunRayMetrics(opt);
#ifndef MORAY_BENCH_RAY_API_ONLY
  if (opt.moray_figures) {
    std::printf("-- Moray figures (this driver's ray::Init took %.0f ms)\n", init_ms);
    RunMorayFigures(opt.filter, !Results().empty());
  }
#else
  (void)init_ms;
#endif
  if (!opt.json_path.empty()) WriteJson(opt.json_path);
  ray::Shutdown();
  return 0;
}
