// DebugService: the raylet's debugging methods for the CLI (docs/observability.md, "Debugging").
//
//   RAYLET_DUMP_STACK          the native stacks of every thread of one of this node's live
//                              workers: `eu-stack -p PID`, or `gdb -batch -ex "thread apply all
//                              bt" -p PID` when eu-stack is not installed, with a time limit.
//   RAYLET_LIST_STORE_OBJECTS  the objects in this node's shared-memory store, with its usage.
//
// Only pids of workers this raylet started and that still run are dumped: the raylet is their
// parent, and each worker names the raylet as its ptracer (process.cc, PR_SET_PTRACER), so the
// tool — the raylet's child — may attach even under Yama's ptrace_scope=1; anything else is
// refused (NotFound) before any tool runs.
//
//   DebugService debug(&loop, {.worker_of_pid = ..., .list_store_objects = ...});
//   debug.RegisterMethods(&service);   // before the first Dispatch
//
// Thread model: handlers run on the raylet's loop, which only checks the pid and queues the
// work; the tools and store listings run one at a time on the service's own thread
// ("raylet_debug"), and the replies are posted back to the loop. Destroying the service kills a
// tool still running and joins the thread (Stop).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "raylet.pb.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"

namespace moray::raylet {

struct DebugServiceOptions {
  // Loop thread: the live worker this raylet started that runs as `pid`, or nullopt.
  std::function<std::optional<WorkerId>(pid_t pid)> worker_of_pid;
  // The service's thread: this node's store contents (at most `limit` objects); null: no store.
  std::function<absl::StatusOr<proto::ListStoreObjectsReply>(int64_t limit)> list_store_objects;
  // The stack tools tried in order, by name (found on PATH) or path; the first one found runs.
  std::vector<std::string> stack_tools = {"eu-stack", "gdb"};
  absl::Duration default_stack_timeout = absl::Seconds(30);
  absl::Duration max_stack_timeout = absl::Minutes(5);
  size_t max_output_bytes = 8 << 20;  // more is cut, with a note
  int64_t max_store_objects = 10000;  // the cap of one listing
};

class DebugService {
 public:
  // `loop` (the raylet's) must outlive this object.
  DebugService(rpc::EventLoop* loop, DebugServiceOptions options);
  ~DebugService();
  DebugService(const DebugService&) = delete;
  DebugService& operator=(const DebugService&) = delete;

  // Registers RAYLET_DUMP_STACK and RAYLET_LIST_STORE_OBJECTS for the CLI role.
  void RegisterMethods(rpc::Service* service);
  // Kills a tool still running, drops queued work and joins the thread; later calls are
  // answered Unavailable. Idempotent.
  void Stop();

  // The command that dumps `pid` with the first installed tool of `tools` (argv), or
  // FailedPrecondition naming the tools looked for. Exposed for tests.
  static absl::StatusOr<std::vector<std::string>> StackCommand(
      const std::vector<std::string>& tools, pid_t pid);

 private:
  // Runs `job` on the service's thread (in order); false once stopped.
  bool Queue(std::function<void()> job);
  void Loop();
  // The service's thread: runs the tool and returns its output.
  absl::StatusOr<proto::DumpStackReply> DumpStack(pid_t pid, absl::Duration timeout);

  rpc::EventLoop* const loop_;  // not owned
  const DebugServiceOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // guarded by mutex_
  bool stopping_ = false;                   // guarded by mutex_
  std::atomic<pid_t> running_tool_{0};      // the tool's pid while it runs (killed on stop)
  // Cleared (on the loop thread's side) when destroyed: replies posted after that are dropped.
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  std::thread thread_;
};

}  // namespace moray::raylet
