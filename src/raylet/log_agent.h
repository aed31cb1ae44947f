// LogAgent: the node's worker output (docs/observability.md, "Logs"). Workers start with their
// stdout and stderr on pipes; the agent reads them on its own thread and
//   - appends what they write to <log_dir>/worker-<worker id>-<job id>-<pid>.out / .err,
//     rotating a file that would grow past rotation_bytes (.out.1 is the newest old one, at most
//     backup_count are kept), always at a line boundary;
//   - strips the name markers (common/log_marker.h) the worker writes when what it runs
//     changes, and remembers the name;
//   - batches complete lines per job (at most every batch_interval or batch_bytes) and sends
//     them one-way to the GCS (PUBLISH_WORKER_LOGS), which passes them to the job's drivers;
//   - serves the CLI's RAYLET_LIST_LOGS and RAYLET_READ_LOG (a read at the end of a file may
//     wait for new bytes: inotify on the directory wakes it; no polling).
//
//   LogAgent agent({.log_dir = session + "/logs", .gcs_address = "10.0.0.1:6379", ...});
//   agent.Start();
//   agent.AddMethods(&service);                          // before the raylet serves
//   agent.AddWorker(worker_id, job_id, pid, out_read_fd, err_read_fd);  // after the spawn
//
// Worker output never waits for the GCS or a driver: when the GCS connection is down or its
// backlog is past max_queued_bytes, batches are dropped (counted in the next batch's
// dropped_lines); the files have every line. A line longer than max_line_bytes is cut there.
//
// Thread model: one thread (its own rpc::EventLoop, "raylet_logs") owns every stream, file and
// waiting read. AddWorker and the method handlers may be called from any thread; they post.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "raylet.pb.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"

namespace moray::raylet {

struct LogAgentOptions {
  std::string log_dir;  // <session>/logs; must exist
  NodeId node_id;
  std::string node_ip;
  std::string gcs_address;  // host:port; empty: lines are not streamed
  int64_t rotation_bytes = 512ll << 20;
  int backup_count = 5;
  absl::Duration batch_interval = absl::Milliseconds(100);
  size_t batch_bytes = 64 << 10;
  size_t max_queued_bytes = 8 << 20;  // the GCS connection's unsent bytes before batches drop
  size_t max_line_bytes = 64 << 10;
};

class LogAgent {
 public:
  explicit LogAgent(LogAgentOptions options);
  ~LogAgent();  // Stop()

  // Starts the thread (and the directory watch). InvalidArgument if log_dir is not a directory.
  [[nodiscard]] absl::Status Start();
  // Reads what the pipes still hold, closes every file, answers waiting reads. Idempotent.
  void Stop();

  // The worker's output: the read ends of its stdout and stderr pipes (owned from now on).
  void AddWorker(const WorkerId& worker_id, const JobId& job_id, pid_t pid, int out_fd, int err_fd);
  // RAYLET_LIST_LOGS and RAYLET_READ_LOG for the CLI.
  void AddMethods(rpc::Service* service);

  // The files a worker's streams go to (no directory).
  static std::string WorkerFileName(const WorkerId& worker_id, const JobId& job_id, pid_t pid,
                                    bool err);

 private:
  struct Stream;
  struct Worker;
  struct JobBatch;
  struct Waiter;

  // Agent thread.
  void OnReadable(Stream& stream);
  void HandleLine(Stream& stream, std::string_view line);
  void WriteFile(Stream& stream, std::string_view bytes);
  void Rotate(Stream& stream);
  void CloseStream(Stream& stream);
  void AddToBatch(const Worker& worker, bool is_err, std::string_view line);
  void FlushBatch(const JobId& job_id);
  void FlushAll();
  std::shared_ptr<rpc::Connection> Gcs();
  void OnDirectoryEvents();
  void WakeWaiters(const std::string& name);
  proto::ListLogsReply List() const;
  void Read(proto::ReadLogRequest request, rpc::Responder<proto::ReadLogReply> respond);
  // Answers `waiter` if its file has bytes past its offset (or `force`); true if answered.
  bool TryAnswer(Waiter& waiter, bool force);

  LogAgentOptions options_;
  rpc::EventLoop loop_;
  bool started_ = false;
  bool stopped_ = false;
  std::string gcs_ip_;
  int gcs_port_ = 0;
  // Agent thread from here on.
  int inotify_fd_ = -1;
  std::map<pid_t, std::unique_ptr<Worker>> workers_;  // every worker seen (by pid)
  std::map<std::string, Stream*> streams_by_file_;    // a live worker's current files
  std::map<JobId, std::unique_ptr<JobBatch>> batches_;
  std::multimap<std::string, std::unique_ptr<Waiter>> waiters_;  // by file name
  std::shared_ptr<rpc::Connection> gcs_;
  absl::Time gcs_retry_after_ = absl::InfinitePast();
  int64_t dropped_lines_ = 0;
};

}  // namespace moray::raylet
