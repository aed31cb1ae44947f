// WorkerLogPrinter: a driver's side of worker output (docs/observability.md, "Logs"). The GCS
// pushes the job's worker lines (WORKER_LOGS batches); each is written to the driver's stdout
// (stderr for a worker's stderr) as `(name pid=N) line`, with `, ip=A` inside the parentheses
// for a worker of another node (Ray's look; `(pid=N)` before the worker ran anything named).
// Repeats across processes are folded by LogDeduplicator (log_dedup.h). A batch whose
// dropped_lines grew says so once per node on stderr (the lines are in the files:
// `moray logs`).
//
//   WorkerLogPrinter printer(&loop, own_node_id, {.out_fd = 1, .err_fd = 2});
//   printer.OnBatch(batch);   // loop thread
//   printer.Finish();         // at shutdown: the folded repeats still pending
//
// Thread model: the core worker's I/O loop thread only (it arms a timer there for the folds).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/id.h"
#include "core_worker/log_dedup.h"
#include "gcs.pb.h"
#include "rpc/event_loop.h"

namespace moray::core {

struct WorkerLogPrinterOptions {
  int out_fd = 1;
  int err_fd = 2;
  bool dedup = true;
  absl::Duration window = absl::Seconds(5);
};

class WorkerLogPrinter {
 public:
  // `loop` must outlive the printer.
  WorkerLogPrinter(rpc::EventLoop* loop, NodeId own_node, WorkerLogPrinterOptions options = {});
  ~WorkerLogPrinter();

  void OnBatch(const proto::WorkerLogBatch& batch);
  // Prints the folded repeats not printed yet; later batches are ignored.
  void Finish();

  // "(f pid=12)" or "(f pid=12, ip=10.0.0.2)".
  static std::string Prefix(const std::string& name, int pid, const std::string& ip);

 private:
  void Print(const LogOutput& line);
  void ArmTimer();

  rpc::EventLoop* const loop_;
  const NodeId own_node_;
  const WorkerLogPrinterOptions options_;
  LogDeduplicator dedup_;
  uint64_t timer_ = 0;
  absl::Time timer_at_ = absl::InfiniteFuture();
  bool finished_ = false;
  std::map<std::string, int64_t> dropped_by_node_;
};

}  // namespace moray::core
