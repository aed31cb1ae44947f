#include "moray_figures.h"

#include <dirent.h>
#include <moray/byte_view.h>
#include <moray/objects.h>
#include <ray/api.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "report.h"

// ---------------------------------------------------------------------------------------------
// Remote functions of the figures.

int Pid() { return static_cast<int>(getpid()); }

int NapPid(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return static_cast<int>(getpid());
}

// Returns once `path` exists (a gate the driver opens by creating the file).
int GateOpen(std::string path) {
  while (access(path.c_str(), F_OK) != 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return 1;
}

int Consume(int gate) { return gate; }

// Gets the object behind refs[0] as a moray::ByteView in this (worker) process `n` times;
// returns the nanoseconds of each Get (the first maps the object's pages into this process).
std::vector<int64_t> TimeViewGets(std::vector<ray::ObjectRef<moray::ByteView>> refs, int n) {
  std::vector<int64_t> ns;
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto view = refs.at(0).Get();
    ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count());
    if (view->size() == 0) ns.back() = -1;
  }
  return ns;
}

RAY_REMOTE(Pid, NapPid, GateOpen, Consume, TimeViewGets);

namespace moray::bench {
namespace {

// /proc helpers.

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A field of /proc/<pid>/status in MB ("VmRSS", "RssAnon", ...), or -1.
double StatusMb(int pid, const std::string& field) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atof(line.c_str() + field.size() + 1) / 1024.0;
  }
  return -1;
}

double RssMb(int pid) { return StatusMb(pid, "VmRSS"); }

// VmRSS = RssAnon + RssFile + RssShmem; the raylet's RSS includes the object store's shared
// memory that it has touched.
std::string RssBreakdown(int pid) {
  char note[128];
  std::snprintf(note, sizeof(note), "anon %.1f, file %.1f, shmem %.1f", StatusMb(pid, "RssAnon"),
                StatusMb(pid, "RssFile"), StatusMb(pid, "RssShmem"));
  return note;
}

std::vector<int> ChildrenOf(int pid) {
  std::vector<int> out;
  std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(task_dir.c_str());
  if (!dir) return out;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::istringstream in(ReadFile(task_dir + "/" + entry->d_name + "/children"));
    int child;
    while (in >> child) out.push_back(child);
  }
  closedir(dir);
  return out;
}

std::string Cmdline(int pid) {
  std::string s = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

struct ClusterPids {
  int gcs = -1;
  int raylet = -1;
};

ClusterPids FindClusterPids() {
  ClusterPids pids;
  for (int child : ChildrenOf(getpid())) {
    std::string cmd = Cmdline(child);
    if (cmd.find(" gcs-server") != std::string::npos) pids.gcs = child;
    if (cmd.find(" raylet") != std::string::npos) pids.raylet = child;
  }
  return pids;
}

std::set<int> WorkerPids(const ClusterPids& cluster) {
  std::vector<int> children = ChildrenOf(cluster.raylet);
  return std::set<int>(children.begin(), children.end());
}

// ---------------------------------------------------------------------------------------------
// Moray figures.

void MeasureStartToFirstTask() {
  std::vector<double> inside, outside;
  for (int i = 0; i < 5; ++i) {
    double exec_ms = -1;
    auto child = RunChild({"--child=first-task"}, {}, nullptr, &exec_ms);
    if (child.empty()) continue;
    inside.push_back(child[0].value);
    outside.push_back(exec_ms);
  }
  if (inside.empty()) return;
  Report({"cluster_start_to_first_task_ms", Median(inside), -1, "ms",
          "median of " + std::to_string(inside.size()) + ", before ray::Init() to first result"});
  Report({"cluster_start_to_first_task_exec_ms", Median(outside), -1, "ms",
          "same, from before fork+exec of the process"});
}

// A task that needs a worker that does not exist yet: every live worker is first given a 1 s
// nap (a separate function, so a separate lease), then a probe task is timed from Remote() to its
// result; the probe counts only if it ran in a process that did not exist before.
void MeasureWorkerStart(const ClusterPids& cluster) {
  std::vector<double> cold, warm;
  for (int i = 0; i < 5; ++i) {
    // Let the previous round's leases go back to the raylet (the submitter keeps an idle lease
    // for 200 ms).
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    std::set<int> before = WorkerPids(cluster);
    std::vector<ray::ObjectRef<int>> naps;
    for (size_t j = 0; j < before.size(); ++j) {
      naps.push_back(ray::Task(NapPid).SetResource("CPU", 0.01).Remote(1000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // naps leased and running
    auto start = Clock::now();
    int pid = *ray::Get(ray::Task(Pid).SetResource("CPU", 0.01).Remote());
    double ms = SecondsSince(start) * 1000;
    if (!before.count(pid)) cold.push_back(ms);
    // The same shape again, now that the worker exists (and its lease is still held).
    start = Clock::now();
    ray::Get(ray::Task(Pid).SetResource("CPU", 0.01).Remote());
    warm.push_back(SecondsSince(start) * 1000);
    ray::Get(naps);
  }
  if (cold.empty()) {
    std::printf("worker_start_ms: no probe landed on a fresh worker\n");
    return;
  }
  Report({"worker_start_ms", Median(cold), -1, "ms",
          "median of " + std::to_string(cold.size()) +
              ": task on a fresh worker, Remote() to result"});
  Report({"worker_warm_task_ms", Median(warm), -1, "ms", "same task on the now-existing worker"});
}

// A task in a runtime env no worker has yet (fresh env_vars each round): the raylet prepares the
// env (its agent thread) and starts a worker in it; then the same env again, its worker warm.
void MeasureRuntimeEnvWorkerStart() {
  std::vector<double> cold, warm;
  for (int i = 0; i < 5; ++i) {
    ray::RuntimeEnv env;
    env.Set("env_vars",
            std::map<std::string, std::string>{
                {"MORAY_BENCH_ENV", std::to_string(getpid()) + "-" + std::to_string(i)}});
    auto start = Clock::now();
    ray::Get(ray::Task(Pid).SetRuntimeEnv(env).SetResource("CPU", 0.01).Remote());
    cold.push_back(SecondsSince(start) * 1000);
    start = Clock::now();
    ray::Get(ray::Task(Pid).SetRuntimeEnv(env).SetResource("CPU", 0.01).Remote());
    warm.push_back(SecondsSince(start) * 1000);
  }
  Report({"worker_start_new_runtime_env_ms", Median(cold), -1, "ms",
          "median of 5: first task of a fresh env_vars env, Remote() to result"});
  Report({"worker_task_warm_runtime_env_ms", Median(warm), -1, "ms",
          "the next task of that env, on its warm worker"});
}

// Every worker of the job, after a task ran on at least one of them and all went idle: the RSS of
// a worker that has run tasks, not only of a just-started one.
void MeasureIdleWorkerRss(const ClusterPids& cluster) {
  int task_pid = *ray::Get(ray::Task(Pid).Remote());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // finished: idle now
  std::vector<double> rss;
  double task_worker_mb = RssMb(task_pid);
  for (int pid : WorkerPids(cluster)) {
    double mb = RssMb(pid);
    if (mb > 0) rss.push_back(mb);
  }
  if (rss.empty()) return;
  char note[200];
  std::snprintf(note, sizeof(note),
                "median VmRSS of %zu idle workers (max %.1f); pid %d from a task: %.1f = ",
                rss.size(), *std::max_element(rss.begin(), rss.end()), task_pid, task_worker_mb);
  Report({"idle_worker_rss_mb", Median(rss), -1, "MB", note + RssBreakdown(task_pid)});
}

// 100k tasks that all depend on a gate task's result: they queue in the owner (this driver's
// task submitter waits for their argument), and each one's PENDING_ARGS_AVAIL event travels to
// the raylet and on to the GCS. Then the gate opens and the 100k run.
void MeasureQueuedTasks(const ClusterPids& cluster) {
  constexpr int kTasks = 100000;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Report({"gcs_rss_at_rest_mb", RssMb(cluster.gcs), -1, "MB", RssBreakdown(cluster.gcs)});
  Report({"raylet_rss_at_rest_mb", RssMb(cluster.raylet), -1, "MB", RssBreakdown(cluster.raylet)});
  Report({"raylet_rss_anon_at_rest_mb", StatusMb(cluster.raylet, "RssAnon"), -1, "MB",
          "the raylet's private memory"});
  Report({"driver_rss_at_rest_mb", RssMb(getpid()), -1, "MB", RssBreakdown(getpid())});

  std::string gate_path = "/tmp/moray-bench-gate-" + std::to_string(getpid());
  unlink(gate_path.c_str());
  auto gate = ray::Task(GateOpen).Remote(gate_path);
  auto start = Clock::now();
  std::vector<ray::ObjectRef<int>> refs;
  refs.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) refs.push_back(ray::Task(Consume).Remote(gate));
  double submit_s = SecondsSince(start);
  // Task events are flushed every 100 ms by the driver and again by the raylet; give them time.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Report({"queued_100k_submit_rate", kTasks / submit_s, -1, "tasks/s",
          "Remote() of 100k tasks waiting on an unfinished argument"});
  Report({"gcs_rss_100k_queued_mb", RssMb(cluster.gcs), -1, "MB", RssBreakdown(cluster.gcs)});
  Report({"raylet_rss_100k_queued_mb", RssMb(cluster.raylet), -1, "MB",
          RssBreakdown(cluster.raylet)});
  Report({"raylet_rss_anon_100k_queued_mb", StatusMb(cluster.raylet, "RssAnon"), -1, "MB", ""});
  Report({"driver_rss_100k_queued_mb", RssMb(getpid()), -1, "MB",
          "the owner, where the tasks queue: " + RssBreakdown(getpid())});

  start = Clock::now();
  { std::ofstream(gate_path) << "open"; }
  ray::Get(refs);
  double drain_s = SecondsSince(start);
  unlink(gate_path.c_str());
  Report({"queued_100k_drain_s", drain_s, -1, "s", "gate opens -> all 100k results back"});
  refs.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Report({"gcs_rss_after_drain_mb", RssMb(cluster.gcs), -1, "MB", RssBreakdown(cluster.gcs)});
  Report({"raylet_rss_after_drain_mb", RssMb(cluster.raylet), -1, "MB",
          RssBreakdown(cluster.raylet)});
}

// Zero-copy get of a 1 GiB object: moray::PutBytes once, then ObjectRef<moray::ByteView>::Get()
// timed from this driver (which put it, so the pages are mapped here) and from a worker (first
// Get there maps the pages; later Gets are round trips). The view must point into the store's
// shared memory.
void MeasureZeroCopyGet() {
  constexpr size_t kBytes = size_t(1) << 30;
  ray::ObjectRef<moray::ByteView> ref;
  {
    std::vector<uint8_t> data(kBytes);
    for (size_t i = 0; i < kBytes; i += 4096) data[i] = static_cast<uint8_t>(i >> 12);
    ref = moray::PutBytes(data.data(), data.size());
  }
  std::vector<double> ms;
  bool in_place = true;
  for (int i = 0; i < 21; ++i) {
    auto start = Clock::now();
    auto view = ref.Get();
    ms.push_back(SecondsSince(start) * 1000);
    in_place = in_place && view->size() == kBytes &&
               moray::GetObjectStoreMapping().Contains(view->data()) &&
               view->data()[4096] == 1;
  }
  if (!in_place) {
    std::printf("zero_copy_get_1gib_ms: the view is not the object in shared memory\n");
    return;
  }
  double first = ms.front();
  ms.erase(ms.begin());
  char note[160];
  std::snprintf(note, sizeof(note), "driver (the putter): median of %zu, max %.3f; first %.3f",
                ms.size(), *std::max_element(ms.begin(), ms.end()), first);
  Report({"zero_copy_get_1gib_ms", Median(ms), -1, "ms", note});

  auto worker_ns = *ray::Task(TimeViewGets).Remote(std::vector{ref}, 21).Get();
  if (worker_ns.empty() || *std::min_element(worker_ns.begin(), worker_ns.end()) < 0) return;
  std::vector<double> warm;
  for (size_t i = 1; i < worker_ns.size(); ++i) warm.push_back(worker_ns[i] / 1e6);
  Report({"zero_copy_get_1gib_worker_first_ms", worker_ns[0] / 1e6, -1, "ms",
          "another process's first Get: maps the 1 GiB into it"});
  Report({"zero_copy_get_1gib_worker_ms", Median(warm), -1, "ms",
          "same process, later Gets: median of " + std::to_string(warm.size())});
}

}  // namespace

void RunMorayFigures(const std::string& filter, bool after_other_metrics) {
  auto wanted = [&](const std::string& name) {
    return filter.empty() || filter == "moray" || name.find(filter) != std::string::npos;
  };
  ClusterPids cluster = FindClusterPids();
  if (cluster.gcs < 0 || cluster.raylet < 0) {
    std::printf("(Moray figures skipped: no embedded GCS/raylet among this process's children)\n");
    return;
  }
  if (after_other_metrics) {
    // What the Ray metrics above (about a million tasks) left behind in this driver's cluster.
    Report({"gcs_rss_after_ray_metrics_mb", RssMb(cluster.gcs), -1, "MB",
            "this driver's cluster, after the Ray metrics"});
    Report({"raylet_rss_after_ray_metrics_mb", RssMb(cluster.raylet), -1, "MB",
            RssBreakdown(cluster.raylet)});
  }
  if (wanted("zero_copy")) MeasureZeroCopyGet();
  if (wanted("start")) MeasureStartToFirstTask();
  // On a fresh cluster, so "at rest" means at rest.
  if (wanted("worker") || wanted("rss") || wanted("queued")) {
    for (Result& r : RunChild({"--child=figures"})) Report(std::move(r));
  }
}

// The child of the "figures" run: a fresh driver and cluster.
void FiguresChild() {
  ClusterPids cluster = FindClusterPids();
  if (cluster.gcs < 0 || cluster.raylet < 0) return;
  ray::Get(ray::Task(Pid).Remote());
  MeasureWorkerStart(cluster);
  MeasureRuntimeEnvWorkerStart();
  MeasureIdleWorkerRss(cluster);
  MeasureQueuedTasks(cluster);
}

// The child of MeasureStartToFirstTask: a fresh driver; reports ms from before Init to a result.
// Its workers re-execute it with the same arguments and stay inside ray::Init.
int FirstTaskChild(int argc, char** argv) {
  auto start = Clock::now();
  ray::RayConfig config;
  ray::Init(config, argc, argv);
  ray::Get(ray::Task(Pid).Remote());
  Report({"first_task", SecondsSince(start) * 1000, -1, "ms", ""});
  ray::Shutdown();
  return 0;
}

}  // namespace moray::bench
