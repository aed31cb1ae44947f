#include "ray_metrics.h"

#include <ray/api.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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
using Servers = std::vector<ray::ActorHandle<BenchActor>>;

// The caller of 1_n_actor_calls_async and n_n_actor_calls_with_arg_async, an actor as in Ray's
// benchmark: each batch makes `n` calls to each of its servers, then gets them all. Its servers
// come one per call (Create, AddServer): ray-cpp registers an actor handle that arrives as a
// top-level argument or as an object of its own, but not one inside a vector (its worker aborts:
// "Cannot find an actor handle of id ...", the RayWorkerException of n_n_actor_calls_async on
// 2026-12-02). For the same reason it also lends its servers' handles out (Server).
class BenchClient {
 public:
  static BenchClient* Create(ray::ActorHandle<BenchActor> server) {
    auto* client = new BenchClient();
    client->servers_.push_back(server);
    return client;
  }
  int AddServer(ray::ActorHandle<BenchActor> server) {
    servers_.push_back(server);
    return static_cast<int>(servers_.size());
  }
  int Count() { return static_cast<int>(servers_.size()); }
  ray::ActorHandle<BenchActor> Server(int i) { return servers_.at(i); }
  int SmallBatch(int n) { return Batch(n, false); }
  // Every call takes the same small put object as its argument (an ObjectRef).
  int SmallBatchArg(int n) { return Batch(n, true); }

 private:
  int Batch(int n, bool with_arg) {
    std::vector<ray::ObjectRef<int>> refs;
    refs.reserve(n * servers_.size());
    auto arg = ray::Put(0);
    for (auto& server : servers_) {
      for (int i = 0; i < n; ++i) {
        refs.push_back(with_arg ? server.Task(&BenchActor::SmallArg).Remote(arg)
                                : server.Task(&BenchActor::Small).Remote());
      }
    }
    ray::Get(refs);
    return n;
  }
  Servers servers_;
};

// A caller of n_n_actor_calls_async, a task as in Ray's benchmark: `n` calls spread over all
// the actors `list` holds, in turn, then a Get of all.
int ActorWork(ray::ActorHandle<BenchClient> list, int n) {
  Servers actors;
  const int count = *ray::Get(list.Task(&BenchClient::Count).Remote());
  for (int i = 0; i < count; ++i) {
    actors.push_back(*ray::Get(list.Task(&BenchClient::Server).Remote(i)));
  }
  std::vector<ray::ObjectRef<int>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) {
    refs.push_back(actors[i % actors.size()].Task(&BenchActor::Small).Remote());
  }
  ray::Get(refs);
  return n;
}

RAY_REMOTE(Noop, ClientBatch, PutLarge, PutSmall, MakeRefs, BenchActor::Create, &BenchActor::Small,
           &BenchActor::SmallArg, BenchClient::Create, &BenchClient::AddServer, &BenchClient::Count,
           &BenchClient::Server, &BenchClient::SmallBatch, &BenchClient::SmallBatchArg, ActorWork);

namespace moray::bench {

const std::vector<Variant>& Variants() {
  static const std::vector<Variant> variants = {
      // Small objects stay in the owner's memory by default; Ray's put always goes to its shared
      // store (plasma). 0 bytes of owner memory for small objects: every put goes to the store.
      {"shared_store", "_shared_store",
       {"single_client_put_calls", "single_client_get_calls", "multi_client_put_calls"}, {},
       "--inline-object-memory=0"},
      // Up to 32 short tasks are in flight per leased worker by default; Ray's default is 1.
      {"1_in_flight", "_1_in_flight", {"single_client_tasks_async"},
       {"MORAY_MAX_TASKS_IN_FLIGHT_PER_WORKER=1"}, ""},
  };
  return variants;
}

std::vector<std::string> MetricNames() {
  std::vector<std::string> names = {
      "tcp_roundtrip_64b_baseline",
      "single_client_tasks_sync",
      "single_client_tasks_async",
      "multi_client_tasks_async",
      "single_client_tasks_and_get_batch",
      "single_client_wait_1k_refs",
      "single_client_put_calls",
      "single_client_get_calls",
      "multi_client_put_calls",
      "single_client_put_gigabytes",
      "multi_client_put_gigabytes",
      "1_1_actor_calls_sync",
      "1_1_actor_calls_async",
      "1_1_actor_calls_concurrent",
      "1_n_actor_calls_async",
      "n_n_actor_calls_async",
      "n_n_actor_calls_with_arg_async",
      "actor_creation_100_and_answer",
      "single_client_get_object_containing_10k_refs",
      "placement_group_create/removal",
  };
  for (const Variant& v : Variants()) {
    for (const auto& m : v.metrics) names.push_back(m + v.suffix);
  }
  return names;
}

namespace {

bool AnyWanted(const Options& opt, const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(), [&](const auto& n) { return Wanted(opt, n); });
}

// Runs `fn`; if it throws, each of `names` that is wanted and not yet reported is reported as
// failed with the exception's message (a metric's setup failed, not its timed part).
void Guarded(const Options& opt, const std::vector<std::string>& names,
             const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    for (const auto& name : names) {
      bool reported = std::any_of(Results().begin(), Results().end(), [&](const Result& r) {
        return r.name == FullName(opt, name);
      });
      if (Wanted(opt, name) && !reported) Report(Failed(FullName(opt, name), e.what()));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The Ray metrics (Ray C++ API only).

// Ray's benchmark uses as many actors as half the machine's CPUs (cpu_count() // 2), at least 1.
int RayPerfActorCount() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency() / 2));
}

// Ray's benchmark declares its actors and clients num_cpus=0; ray-cpp rejects an explicit 0
// ("Resource values should be positive"), so both builds use the default, under which an actor
// holds no CPU once it is alive (Moray: 1 CPU to place it, released when it is up).
ray::ActorHandle<BenchActor> NewServer() { return ray::Actor(BenchActor::Create).Remote(); }

// A client of `n` new actors (their handles go to *servers, which keeps them alive too).
ray::ActorHandle<BenchClient> NewClient(int n, Servers* servers) {
  servers->push_back(NewServer());
  auto client = ray::Actor(BenchClient::Create).Remote(servers->back());
  for (int i = 1; i < n; ++i) {
    servers->push_back(NewServer());
    client.Task(&BenchClient::AddServer).Remote(servers->back());
  }
  ray::Get(client.Task(&BenchClient::Count).Remote());  // up, with all its servers
  return client;
}

void RunActorMetrics(const Options& opt) {
  auto actor = NewServer();
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
  const int n_actors = RayPerfActorCount();
  // As Ray's: one client actor calls n actors, 5000 calls to each per batch.
  if (Wanted(opt, "1_n_actor_calls_async")) {
    Servers servers;
    auto client = NewClient(n_actors, &servers);
    constexpr int kCalls = 5000;
    Timeit(opt, "1_n_actor_calls_async",
           [&] { ray::Get(client.Task(&BenchClient::SmallBatch).Remote(kCalls)); },
           1.0 * kCalls * n_actors, "calls/s");
  }
  // As Ray's: 4 caller tasks (default resources: 1 CPU each) each make 5000 calls spread over
  // the n actors.
  if (Wanted(opt, "n_n_actor_calls_async")) {
    Servers servers;
    auto list = NewClient(n_actors, &servers);
    constexpr int kCallers = 4, kCalls = 5000;
    Timeit(opt, "n_n_actor_calls_async",
           [&] {
             std::vector<ray::ObjectRef<int>> callers;
             for (int c = 0; c < kCallers; ++c) {
               callers.push_back(ray::Task(ActorWork).Remote(list, kCalls));
             }
             ray::Get(callers);
           },
           1.0 * kCallers * kCalls, "calls/s");
  }
  // As Ray's: n client actors, each bound to one actor of its own; each batch, every client
  // makes 1000 calls to its actor with a put object as the argument.
  if (Wanted(opt, "n_n_actor_calls_with_arg_async")) {
    Servers servers;
    std::vector<ray::ActorHandle<BenchClient>> clients;
    for (int i = 0; i < n_actors; ++i) {
      clients.push_back(NewClient(1, &servers));
    }
    constexpr int kCalls = 1000;
    Timeit(opt, "n_n_actor_calls_with_arg_async",
           [&] {
             std::vector<ray::ObjectRef<int>> batches;
             for (auto& c : clients) {
               batches.push_back(c.Task(&BenchClient::SmallBatchArg).Remote(kCalls));
             }
             ray::Get(batches);
           },
           1.0 * kCalls * n_actors, "calls/s");
  }
  // Not one of Ray's: 100 actors created and each answering one call, from nothing; the rate
  // over the whole batch (issue 4's target: 100 in <= 2 s, i.e. >= 50 actors/s).
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
    Report({FullName(opt, "actor_creation_100_and_answer"), Mean(rates), StdDev(rates),
            "actors/s", ""});
  }
}

void RunTaskMetrics(const Options& opt) {
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
}

void RunObjectMetrics(const Options& opt) {
  Timeit(opt, "single_client_put_calls", [] { ray::Put(0); }, 1, "puts/s");

  if (Wanted(opt, "single_client_get_calls")) {
    auto value = ray::Put(0);
    Timeit(opt, "single_client_get_calls", [&] { ray::Get(value); }, 1, "gets/s");
  }

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
}

// As Ray's: per iteration, 100 groups of one bundle asking for 0.001 of the custom resource
// kPlacementGroupResource (PACK, Ray's default strategy) are created one after another, then
// waited for in turn (up to 30 s each), then removed in turn. The cluster must have the resource
// (the driver's own cluster does: kDefaultHeadArgs; Ray's benchmark starts one with 100 of it).
void RunPlacementGroupMetric(const Options& opt) {
  constexpr int kGroups = 100;
  Timeit(
      opt, "placement_group_create/removal",
      [] {
        std::vector<ray::PlacementGroup> groups;
        groups.reserve(kGroups);
        for (int i = 0; i < kGroups; ++i) {
          groups.push_back(ray::CreatePlacementGroup(ray::PlacementGroupCreationOptions{
              "", {{{kPlacementGroupResource, 0.001}}}, ray::PlacementStrategy::PACK}));
        }
        bool all_created = true;
        for (auto& group : groups) {
          if (all_created && !group.Wait(30)) all_created = false;
        }
        for (auto& group : groups) ray::RemovePlacementGroup(group.GetID());
        if (!all_created) {
          throw std::runtime_error(
              std::string("a placement group was not created within 30 s: does the cluster "
                          "have the custom resource? (head argument ") +
              kPlacementGroupResourceHeadArg + ")");
        }
      },
      kGroups, "groups/s");
}

}  // namespace

void RunRayMetrics(const Options& opt) {
  // The floor of every synchronous call, first, while the machine is as quiet as it gets.
  if (opt.only.empty() && AnyWanted(opt, {"tcp_roundtrip_64b_baseline", "single_client_tasks_sync",
                                         "1_1_actor_calls_sync"})) {
    TcpRoundTripBaseline(opt);
  }
  RunTaskMetrics(opt);
  RunObjectMetrics(opt);
  const std::vector<std::string> actor_metrics = {
      "1_1_actor_calls_sync",  "1_1_actor_calls_async",          "1_1_actor_calls_concurrent",
      "1_n_actor_calls_async", "n_n_actor_calls_async",          "n_n_actor_calls_with_arg_async",
      "actor_creation_100_and_answer"};
  if (AnyWanted(opt, actor_metrics)) {
    Guarded(opt, actor_metrics, [&] { RunActorMetrics(opt); });
  }
  // Gets of one object that holds 10k refs (a task's return value): each Get deserializes the
  // 10k refs.
  if (Wanted(opt, "single_client_get_object_containing_10k_refs")) {
    Guarded(opt, {"single_client_get_object_containing_10k_refs"}, [&] {
      auto containing = ray::Task(MakeRefs).Remote(10000);
      ray::Get(containing);
      Timeit(opt, "single_client_get_object_containing_10k_refs", [&] { ray::Get(containing); },
             1, "gets/s");
    });
  }
  RunPlacementGroupMetric(opt);
}


}  // namespace moray::bench
