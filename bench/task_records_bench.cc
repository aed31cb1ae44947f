// Task records at scale (issue 15.5): a real GCS process (`moray start --head` with
// --task-events-max-num-task-in-gcs=1000000) loaded with 1,000,000 task records over its
// REPORT_TASK_EVENTS method, then the state queries timed as `moray list tasks` and
// `moray summary tasks` make them (each the median of several calls, client to GCS and back):
//   task_records_load_per_s                 records/s merged by the GCS while loading
//   list_tasks_1m_filtered_limit100_ms      state=FAILED and func_or_class_name=f7, limit 100
//   list_tasks_1m_by_task_id_ms             task_id=<one id> (ids compared as bytes)
//   list_tasks_1m_offset_900000_limit100_ms no filter, offset 900,000, limit 100
//   list_tasks_1m_filtered_offset_limit100_ms  func_or_class_name=f1, offset 90,000, limit 100
//   summarize_tasks_1m_ms                   SUMMARIZE_TASKS over every record
//   moray_list_tasks_1m_cli_ms / moray_summary_tasks_1m_cli_ms  the commands, process start
//                                           included
//   gcs_rss_1m_records_mib                  the GCS's resident memory holding them
//   gcs_rpc_floor_ms                        same-run limit: GetTasks limit 1 (no scan)
// Usage: task_records_bench [--json PATH] [--records N]. Needs the moray binary (MORAY_BIN or
// beside this program).
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/commands.h"
#include "bench/report.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "gcs/gcs_client.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"

namespace {

using moray::bench::Clock;
using moray::bench::Median;
using moray::bench::Moray;
using moray::bench::Report;
using moray::bench::Run;
using moray::bench::SecondsSince;
namespace proto = moray::proto;

constexpr int kFunctions = 10, kWorkers = 8, kRepeats = 7;

// Task ids: the counter in the first bytes of a fixed-size id.
std::string TaskIdBytes(int64_t n) {
  std::string id(moray::TaskId::kSize, '\x5a');
  for (int b = 0; b < 8; ++b) id[b] = static_cast<char>(n >> (8 * b));
  return id;
}

// One coalesced event per task, as a core worker sends a finished task: descriptive and
// execution fields, PENDING/RUNNING as earlier states, then FINISHED (every 20th FAILED).
proto::TaskEvent Event(int64_t n, const std::string& node_id, const std::string& job_id) {
  proto::TaskEvent e;
  e.set_task_id(TaskIdBytes(n));
  e.set_job_id(job_id);
  const int64_t t0 = 1'700'000'000'000'000'000 + n * 1000;
  const bool failed = n % 20 == 7;
  e.set_state(failed ? proto::FAILED : proto::FINISHED);
  e.set_timestamp_ns(t0 + 900);
  (*e.mutable_earlier_states())[proto::PENDING_NODE_ASSIGNMENT] = t0;
  (*e.mutable_earlier_states())[proto::RUNNING] = t0 + 100;
  e.set_has_descriptive_fields(true);
  const std::string f = "f" + std::to_string(n % kFunctions);
  e.set_name(f);
  e.set_func_or_class_name(f);
  e.set_type(proto::NORMAL_TASK);
  (*e.mutable_required_resources())["CPU"] = 1;
  e.set_node_id(node_id);
  const int worker = static_cast<int>(n % kWorkers);
  e.set_worker_id(std::string(moray::WorkerId::kSize, static_cast<char>('A' + worker)));
  e.set_worker_pid(10000 + worker);
  if (failed) {
    e.set_error_type("TASK_EXECUTION_EXCEPTION");
    e.set_error_message("boom");
  }
  return e;
}

proto::StateFilter Filter(const std::string& key, const std::string& value) {
  proto::StateFilter f;
  f.set_key(key);
  f.set_op("=");
  f.set_value(value);
  return f;
}

// The median of kRepeats calls of `call`, in ms; exits if a call fails.
template <typename Call>
double MedianMs(const std::string& what, Call call) {
  std::vector<double> ms;
  for (int i = 0; i < kRepeats; ++i) {
    auto start = Clock::now();
    if (!call()) {
      std::fprintf(stderr, "%s failed\n", what.c_str());
      Run(Moray() + " stop");
      std::exit(1);
    }
    ms.push_back(SecondsSince(start) * 1000);
  }
  return Median(ms);
}

int64_t RssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string json;
  int64_t records = 1'000'000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--json") json = argv[i + 1];
    if (std::string(argv[i]) == "--records") records = std::atoll(argv[i + 1]);
  }
  char dir[] = "/tmp/moray-task-records-bench-XXXXXX";  // a private session root
  if (!mkdtemp(dir)) return 1;
  setenv("MORAY_TMPDIR", dir, 1);
  std::string out = Run(Moray() + " start --head --port=0 --num-cpus=0 --include-dashboard=false " +
                        "--object-store-memory=100000000 --task-events-max-num-task-in-gcs=" +
                        std::to_string(records));
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("GCS address: (\\S+)"))) {
    std::fprintf(stderr, "cannot start the head: %s\n", out.c_str());
    return 1;
  }
  const std::string address = m[1];
  pid_t gcs_pid = 0;
  if (std::regex_search(out, m, std::regex("Session directory: (\\S+)"))) {
    std::ifstream pids(m[1].str() + "/pids");
    int pid;
    std::string name;
    while (pids >> pid >> name) {
      if (name == "gcs_server") gcs_pid = pid;
    }
  }
  auto auth = moray::rpc::LoadAuthConfig();
  if (!auth.ok()) {
    std::fprintf(stderr, "%s\n", auth.status().ToString().c_str());
    return 1;
  }
  moray::rpc::SetProcessAuth(*auth);
  moray::rpc::SetProcessRole(proto::ROLE_DRIVER);  // task events come from core workers
  auto client = moray::gcs::GcsClient::Connect(address, absl::Seconds(10));
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    Run(Moray() + " stop");
    return 1;
  }
  auto& gcs = **client;
  std::printf("%-44s %14s   %-10s %s\n", "metric", "value", "± std", "unit");

  const std::string node_id(moray::NodeId::kSize, '\x4e');
  const std::string job_id(moray::JobId::kSize, '\x01');
  auto load_start = Clock::now();
  constexpr int64_t kBatch = 10000;
  for (int64_t first = 0; first < records; first += kBatch) {
    std::vector<proto::TaskEvent> batch;
    for (int64_t n = first; n < std::min(records, first + kBatch); ++n) {
      batch.push_back(Event(n, node_id, job_id));
    }
    if (auto s = gcs.ReportTaskEvents(std::move(batch)); !s.ok()) {
      std::fprintf(stderr, "loading: %s\n", s.ToString().c_str());
      Run(Moray() + " stop");
      return 1;
    }
  }
  const double load_s = SecondsSince(load_start);
  auto check = gcs.GetTasks({}, 1);
  if (!check.ok() || check->total() != records) {
    std::fprintf(stderr, "the GCS holds %lld records, not %lld\n",
                 check.ok() ? static_cast<long long>(check->total()) : -1LL,
                 static_cast<long long>(records));
    Run(Moray() + " stop");
    return 1;
  }
  Report({"task_records_load_per_s", records / load_s, -1, "records/s",
          "1M coalesced events in batches of 10,000, one client"});

  const std::string n = records % 1'000'000 == 0 ? std::to_string(records / 1'000'000) + "m"
                                                 : std::to_string(records / 1000) + "k";
  Report({"gcs_rpc_floor_ms", MedianMs("floor", [&] { return gcs.GetTasks({}, 1).ok(); }), -1, "ms",
          "same-run limit: GetTasks limit 1, no filter (nothing scanned)"});
  const auto rare = std::vector<proto::StateFilter>{Filter("state", "FAILED"),
                                                    Filter("func_or_class_name", "f7")};
  Report({"list_tasks_" + n + "_filtered_limit100_ms",
          MedianMs("filtered",
                   [&] {
                     auto r = gcs.GetTasks(rare, 100);
                     return r.ok() && r->tasks_size() > 0;
                   }),
          -1, "ms", "state=FAILED, func_or_class_name=f7, limit 100"});
  const std::string some_id = moray::ToHex(TaskIdBytes(records / 2));
  Report({"list_tasks_" + n + "_by_task_id_ms",
          MedianMs("by id",
                   [&] {
                     auto r = gcs.GetTasks({Filter("task_id", some_id)}, 100);
                     return r.ok() && r->tasks_size() == 1;
                   }),
          -1, "ms", "task_id=<id>"});
  Report({"list_tasks_" + n + "_offset_900000_limit100_ms",
          MedianMs("offset",
                   [&] {
                     auto r = gcs.GetTasks({}, 100, records * 9 / 10);
                     return r.ok() && r->tasks_size() == std::min<int64_t>(100, records / 10);
                   }),
          -1, "ms", "no filter, offset 9/10 of the records, limit 100"});
  Report({"list_tasks_" + n + "_filtered_offset_limit100_ms",
          MedianMs("filtered offset",
                   [&] {
                     auto r = gcs.GetTasks({Filter("func_or_class_name", "f1")}, 100, records / 11);
                     return r.ok() && r->tasks_size() == 100;
                   }),
          -1, "ms", "func_or_class_name=f1, offset records/11, limit 100"});
  Report({"summarize_tasks_" + n + "_ms",
          MedianMs("summary",
                   [&] {
                     auto r = gcs.SummarizeTasks();
                     return r.ok() && r->total_tasks() == records;
                   }),
          -1, "ms", "SUMMARIZE_TASKS over every record"});
  const std::string addr = " --address=" + address + " >/dev/null";
  Report({"moray_list_tasks_" + n + "_cli_ms",
          MedianMs("cli list",
                   [&] {
                     return std::system((Moray() +
                                         " list tasks --filter state=FAILED --filter "
                                         "func_or_class_name=f7 --limit 100" +
                                         addr + " 2>&1")
                                            .c_str()) == 0;
                   }),
          -1, "ms", "`moray list tasks` with the filters above, process start included"});
  Report({"moray_summary_tasks_" + n + "_cli_ms",
          MedianMs("cli summary",
                   [&] {
                     return std::system((Moray() + " summary tasks" + addr + " 2>&1").c_str()) == 0;
                   }),
          -1, "ms", "`moray summary tasks`, process start included"});
  if (gcs_pid > 0) {
    Report({"gcs_rss_" + n + "_records_mib", static_cast<double>(RssKib(gcs_pid)) / 1024.0, -1,
            "MiB", "the GCS process's VmRSS holding the records"});
  }
  Run(Moray() + " stop");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // the private session root
  if (!json.empty()) moray::bench::WriteJson(json);
  return moray::bench::AnyFailed() ? 1 : 0;
}
