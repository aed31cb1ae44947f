// microbenchmark: Moray's task and object fast paths, measured the way Ray's `ray microbenchmark`
// measures them (same metric names, see ../shared/design/BENCHMARKS.md), plus a few Moray figures:
// cluster start to first task, worker start, and the memory of the GCS, the raylet and workers.
//
//   microbenchmark [--json PATH] [--filter SUBSTRING|moray] [--windows N] [--window-seconds S]
//                  [--no-moray] [--ray_head_args="--num-cpus=4"]
//
// The program is a driver; workers re-execute it, so main() calls ray::Init before anything else
// (in a worker, Init runs the task loop and never returns). The "Ray metrics" part is written only
// against the Ray C++ API (ray/api.h), so the same source builds against ray-cpp. The "Moray
// figures" part also reads /proc: the embedded cluster's GCS and raylet are children of this
// process, and workers are children of the raylet.
//
// Method (as Ray's timeit): a warm-up of ~0.5 s, then `--windows` timed windows of at least
// `--window-seconds` each; each window's rate is units / elapsed; we report mean ± std of the
// windows.
#include <ray/api.h>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

// ---------------------------------------------------------------------------------------------
// Remote functions.

int Noop() { return 0; }

// A "client": submits `n` no-op tasks from inside a worker, then gets them all (Ray's benchmark
// does this from actors; any process that owns tasks is a client).
int ClientBatch(int n) {
  std::vector<ray::ObjectRef<int>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) refs.push_back(ray::Task(Noop).Remote());
  ray::Get(refs);
  return n;
}

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

RAY_REMOTE(Noop, ClientBatch, Pid, NapPid, GateOpen, Consume);

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
  std::string json_path;
  std::string filter;
  int windows = 5;
  double window_seconds = 1.0;
  double warmup_seconds = 0.5;
  bool moray_figures = true;
};

struct Result {
  std::string name;
  double value = 0;
  double std = 0;  // < 0: not applicable (a single figure, e.g. a median)
  std::string unit;
  std::string note;
};

std::vector<Result> results;
// In a child driver (--child=...), results go to stdout as tab-separated lines for the parent.
bool child_mode = false;

void Report(Result r) {
  if (child_mode) {
    std::printf("R\t%s\t%.6f\t%s\t%s\n", r.name.c_str(), r.value, r.unit.c_str(), r.note.c_str());
    std::fflush(stdout);
    return;
  }
  char line[256];
  if (r.std >= 0) {
    std::snprintf(line, sizeof(line), "%-44s %14.1f ± %-10.1f %s", r.name.c_str(), r.value, r.std,
                  r.unit.c_str());
  } else {
    std::snprintf(line, sizeof(line), "%-44s %14.1f   %-10s %s", r.name.c_str(), r.value, "",
                  r.unit.c_str());
  }
  std::printf("%s%s%s\n", line, r.note.empty() ? "" : "   # ", r.note.c_str());
  std::fflush(stdout);
  results.push_back(std::move(r));
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / v.size();
}

double StdDev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = Mean(v), sq = 0;
  for (double x : v) sq += (x - m) * (x - m);
  return std::sqrt(sq / (v.size() - 1));
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Ray's timeit: `fn` does `multiplier` units of work per call.
void Timeit(const Options& opt, const std::string& name, const std::function<void()>& fn,
            double multiplier, const std::string& unit) {
  if (!opt.filter.empty() && name.find(opt.filter) == std::string::npos) return;
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

// ---------------------------------------------------------------------------------------------
// The Ray metrics (Ray C++ API only).

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
             clients.push_back(ray::Task(ClientBatch).SetResource("CPU", 0.01).Remote(kTasksPerClient));
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
}

// ---------------------------------------------------------------------------------------------
// Moray figures: /proc helpers.

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

// Runs this program as a fresh driver with `--child=<mode>`: it starts its own private cluster.
// Returns the results it printed (empty if it failed) and, in *first_line_ms, the time from
// before fork+exec until its first line of output.
std::vector<Result> RunChild(const std::string& mode, double* first_line_ms = nullptr) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  std::string flag = "--child=" + mode;
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl("/proc/self/exe", "microbenchmark", flag.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
    out.append(buf, n);
    if (first_line_ms && *first_line_ms < 0 && out.find('\n') != std::string::npos) {
      *first_line_ms = SecondsSince(start) * 1000;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  std::vector<Result> parsed;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, '\t')) f.push_back(field);
    if (f.size() >= 4 && f[0] == "R") {
      parsed.push_back({f[1], std::atof(f[2].c_str()), -1, f[3], f.size() > 4 ? f[4] : ""});
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::printf("(child driver --child=%s failed: status %d)\n", mode.c_str(), status);
  }
  return parsed;
}

void MeasureStartToFirstTask() {
  std::vector<double> inside, outside;
  for (int i = 0; i < 5; ++i) {
    double exec_ms = -1;
    auto child = RunChild("first-task", &exec_ms);
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
          "median of " + std::to_string(cold.size()) + ": task on a fresh worker, Remote() to result"});
  Report({"worker_warm_task_ms", Median(warm), -1, "ms", "same task on the now-existing worker"});
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
                "median VmRSS of %zu idle workers (max %.1f); pid %d from a task: %.1f, of it "
                "RssAnon %.1f, RssFile %.1f",
                rss.size(), *std::max_element(rss.begin(), rss.end()), task_pid, task_worker_mb,
                StatusMb(task_pid, "RssAnon"), StatusMb(task_pid, "RssFile"));
  Report({"idle_worker_rss_mb", Median(rss), -1, "MB", note});
}

// 100k tasks that all depend on a gate task's result: they queue in the owner (this driver's
// task submitter waits for their argument), and each one's PENDING_ARGS_AVAIL event travels to
// the raylet and on to the GCS. Then the gate opens and the 100k run.
void MeasureQueuedTasks(const ClusterPids& cluster) {
  constexpr int kTasks = 100000;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double gcs0 = RssMb(cluster.gcs), raylet0 = RssMb(cluster.raylet), driver0 = RssMb(getpid());
  Report({"gcs_rss_at_rest_mb", gcs0, -1, "MB", ""});
  Report({"raylet_rss_at_rest_mb", raylet0, -1, "MB", ""});
  Report({"driver_rss_at_rest_mb", driver0, -1, "MB", ""});

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
  double gcs1 = RssMb(cluster.gcs), raylet1 = RssMb(cluster.raylet), driver1 = RssMb(getpid());
  Report({"queued_100k_submit_rate", kTasks / submit_s, -1, "tasks/s",
          "Remote() of 100k tasks waiting on an unfinished argument"});
  Report({"gcs_rss_100k_queued_mb", gcs1, -1, "MB", ""});
  Report({"raylet_rss_100k_queued_mb", raylet1, -1, "MB", ""});
  Report({"driver_rss_100k_queued_mb", driver1, -1, "MB", "the owner: where the tasks queue"});

  start = Clock::now();
  { std::ofstream(gate_path) << "open"; }
  ray::Get(refs);
  double drain_s = SecondsSince(start);
  unlink(gate_path.c_str());
  Report({"queued_100k_drain_s", drain_s, -1, "s", "gate opens -> all 100k results back"});
  refs.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Report({"gcs_rss_after_drain_mb", RssMb(cluster.gcs), -1, "MB", ""});
  Report({"raylet_rss_after_drain_mb", RssMb(cluster.raylet), -1, "MB", ""});
}

void RunMorayFigures(const Options& opt) {
  auto wanted = [&](const std::string& name) {
    return opt.filter.empty() || opt.filter == "moray" ||
           name.find(opt.filter) != std::string::npos;
  };
  ClusterPids cluster = FindClusterPids();
  if (cluster.gcs < 0 || cluster.raylet < 0) {
    std::printf("(Moray figures skipped: no embedded GCS/raylet among this process's children)\n");
    return;
  }
  if (!results.empty()) {
    // What the Ray metrics above (a few million tasks) left behind in this driver's cluster.
    Report({"gcs_rss_after_ray_metrics_mb", RssMb(cluster.gcs), -1, "MB",
            "this driver's cluster, after the Ray metrics"});
    Report({"raylet_rss_after_ray_metrics_mb", RssMb(cluster.raylet), -1, "MB", ""});
  }
  if (wanted("start")) MeasureStartToFirstTask();
  // On a fresh cluster, so "at rest" means at rest.
  if (wanted("worker") || wanted("rss") || wanted("queued")) {
    for (Result& r : RunChild("figures")) Report(std::move(r));
  }
}

// The child of the "figures" run: a fresh driver and cluster.
void FiguresChild() {
  ClusterPids cluster = FindClusterPids();
  if (cluster.gcs < 0 || cluster.raylet < 0) return;
  ray::Get(ray::Task(Noop).Remote());
  MeasureWorkerStart(cluster);
  MeasureIdleWorkerRss(cluster);
  MeasureQueuedTasks(cluster);
}

void WriteJson(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return;
  }
  std::fprintf(f, "{\n");
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    std::fprintf(f, "  \"%s\": {\"value\": %.3f, \"unit\": \"%s\"", r.name.c_str(), r.value,
                 r.unit.c_str());
    if (r.std >= 0) std::fprintf(f, ", \"std\": %.3f", r.std);
    std::fprintf(f, "}%s\n", i + 1 < results.size() ? "," : "");
  }
  std::fprintf(f, "}\n");
  std::fclose(f);
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

// The child of MeasureStartToFirstTask: a fresh driver; reports ms from before Init to a result.
// Its workers re-execute it with the same arguments and stay inside ray::Init.
int FirstTaskChild(int argc, char** argv) {
  auto start = Clock::now();
  ray::RayConfig config;
  ray::Init(config, argc, argv);
  ray::Get(ray::Task(Noop).Remote());
  Report({"first_task", SecondsSince(start) * 1000, -1, "ms", ""});
  ray::Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string child;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--child=", 0) == 0) child = arg.substr(8);
  }
  if (child == "first-task") {
    child_mode = true;
    return FirstTaskChild(argc, argv);
  }
  ray::RayConfig config;
  auto init_start = Clock::now();
  ray::Init(config, argc, argv);  // a worker never returns from here
  double init_ms = SecondsSince(init_start) * 1000;
  if (child == "figures") {
    child_mode = true;
    FiguresChild();
    ray::Shutdown();
    return 0;
  }
  Options opt = ParseOptions(argc, argv);

  std::printf("%-44s %14s   %-10s %s\n", "metric", "value", "± std", "unit");
  std::printf("-- Ray metrics (%d windows of >= %.1f s after a %.1f s warm-up; mean ± std)\n",
              opt.windows, opt.window_seconds, opt.warmup_seconds);
  RunRayMetrics(opt);
  if (opt.moray_figures) {
    std::printf("-- Moray figures (this driver's ray::Init took %.0f ms)\n", init_ms);
    RunMorayFigures(opt);
  }
  if (!opt.json_path.empty()) WriteJson(opt.json_path);
  ray::Shutdown();
  return 0;
}
