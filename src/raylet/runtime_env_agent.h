// RuntimeEnvAgent: prepares, off the raylet's event loop, what a worker of (job, runtime env)
// needs before it starts (docs/runtime_env.md, "On the node"): the env's working_dir package
// fetched and unpacked once into <cache>/pkg/<package hash>/, its variables expanded from the
// raylet's own environment, and the program to run with its libraries: for a job whose JobInfo
// carries `code`, the copies its CodeAgent (code_agent.h) put in <cache>/code/ — for the empty
// env too — else the job's driver binary, or `moray worker` with its code search path, as named.
//
//   RuntimeEnvAgent agent(&loop, options);
//   agent.Prepare(job_id, job_info, env, [](const absl::StatusOr<PreparedEnv>& prepared) {
//     // on the loop: spawn with prepared->program, ->cwd, ->env ...
//   });
//   agent.AddWorker(env.hash());     // a worker of the env started
//   agent.RemoveWorker(env.hash());  // ... and exited
//   agent.RemoveJob(job_id);         // the job left the node
//
// Concurrent Prepare calls for one env share one preparation. A preparation that fails or
// outlives config.setup_timeout_seconds answers every waiter with a SetupFailure status
// ("runtime env setup failed: ...", runtime_env.h); failures are not cached, so the next
// Prepare tries again. A prepared env stays while a job that asked for it is on the node or a
// worker uses it; when both counts reach zero its unpacked package is deleted (unless another
// env still uses the same package).
//
// Thread model: every method, and every callback, runs on the loop thread. Preparations run on
// a thread each (joined at destruction; fetches poll a cancel flag).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common.pb.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "raylet/code_agent.h"
#include "rpc/event_loop.h"

namespace moray::raylet {

// What a worker of one (job, env) is started with.
struct PreparedEnv {
  std::string program;                     // what to execute (argv[0])
  std::vector<std::string> argv;           // the whole command line, argv[0] == program
  std::vector<std::string> library_paths;  // the job's code search path
  std::string cwd;                         // empty: the raylet's
  // Over the raylet's environment: the env's expanded variables, then MORAY_RUNTIME_ENV (the
  // canonical JSON) so the worker's own submissions inherit the env.
  std::vector<std::pair<std::string, std::string>> env;
};

// The language of a job's driver: PYTHON when it named a Python interpreter.
proto::Language JobLanguage(const proto::JobInfo& job);

// How a worker of `language` starts in a prepared env: C++ workers as `prepared` says; Python
// workers as `<job.python_executable> -m moray._worker`, with the job's python_path and its
// code_search_path directories (and the env's working_dir first, as the cwd) in PYTHONPATH.
// A job that named no interpreter (a C++ driver's) gets DefaultPython(); FailedPrecondition
// when there is none (docs/python.md, "Across languages").
absl::StatusOr<PreparedEnv> ForLanguage(absl::StatusOr<PreparedEnv> prepared,
                                        const proto::JobInfo& job, proto::Language language);

struct RuntimeEnvAgentOptions {
  std::string cache_dir;     // <session>/runtime_resources
  std::string moray_binary;  // `moray worker`, for jobs with a code search path
  // Fetches the package `uri` (pkg://<hash>) and unpacks it into `dest_dir` (atomically: the
  // directory appears complete or not at all). Blocking, on a preparation thread; waits for a
  // package still being uploaded until `cancelled()` turns true. Null: working_dir is refused.
  using FetchFn = std::function<absl::Status(const std::string& uri, const std::string& dest_dir,
                                             const std::function<bool()>& cancelled)>;
  FetchFn fetch_package;
  // The package store for shipped code (thread-safe; outlives the agent); null: a job's code
  // comes only from this machine (its driver's process, the paths it names).
  runtime_env::KvAccess* package_store = nullptr;
  std::string moray_lib_dir;  // where this raylet's libmoray is (runtime_env::MorayLibraryDir)
  // Reads the raylet's environment for ${VAR}; null: ::getenv.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

class RuntimeEnvAgent {
 public:
  using Callback = std::function<void(const absl::StatusOr<PreparedEnv>&)>;

  // `loop` must outlive this object.
  RuntimeEnvAgent(rpc::EventLoop* loop, RuntimeEnvAgentOptions options);
  ~RuntimeEnvAgent();  // cancels and joins running preparations; their callbacks never run

  // The program and libraries of the job's workers as the JobInfo names them, nothing else: what
  // the empty env of a job without `code` needs (synchronous: no thread, no cache).
  // FailedPrecondition when the job names no program.
  absl::StatusOr<PreparedEnv> ProgramOf(const proto::JobInfo& job) const;
  // Whether a worker of `job` needs Prepare even in the empty env (its code must be cached).
  static bool NeedsPreparation(const proto::JobInfo& job) { return job.code_size() > 0; }
  // The interpreter of Python workers whose job's driver named none (C++ drivers calling
  // Python): the raylet's MORAY_PYTHON, else `python3` on its PATH; "" if neither.
  static std::string DefaultPython();

  // Prepares (job, env) and posts the result to `done` on the loop; records that the job asked.
  // A job with `code`: its code is brought into the cache first (once per job; the empty env
  // needs only that), and the result runs it from there.
  void Prepare(const JobId& job_id, const proto::JobInfo& job, const proto::RuntimeEnvInfo& env,
               Callback done);
  // The job's driver runs on this node (registered here): its process is a source of its code.
  void SetLocalDriver(const JobId& job_id, int pid) { local_drivers_[job_id] = pid; }
  void ClearLocalDriver(const JobId& job_id) { local_drivers_.erase(job_id); }

  // References of workers running in an env (by hash); an empty hash is ignored.
  void AddWorker(const std::string& env_hash);
  void RemoveWorker(const std::string& env_hash);
  // The job left the node: its references go (and unused envs with them).
  void RemoveJob(const JobId& job_id);

  // The directory a package is unpacked into (tests).
  std::string PackageDir(const std::string& uri) const;
  // Envs currently prepared or preparing (tests).
  size_t num_envs() const { return envs_.size(); }

 private:
  struct Parts {  // what the env itself gives, independent of the job
    std::string cwd;
    std::vector<std::pair<std::string, std::string>> env;
  };
  struct Entry {
    proto::RuntimeEnvInfo info;
    std::string package_uri;  // working_dir, "" if none
    bool ready = false;
    uint64_t generation = 0;  // tells a stale preparation's result from the current one
    std::shared_ptr<std::atomic<bool>> cancelled;
    uint64_t timer = 0;
    std::vector<std::pair<proto::JobInfo, Callback>> waiters;
    Parts parts;
    std::set<JobId> jobs;
    int workers = 0;
  };

  // Prepare without the code step.
  void PrepareEnv(const JobId& job_id, const proto::JobInfo& job, const proto::RuntimeEnvInfo& env,
                  Callback done);
  // On a preparation thread.
  absl::StatusOr<Parts> PrepareParts(const proto::RuntimeEnvInfo& info,
                                     const std::function<bool()>& cancelled) const;
  void StartPreparation(Entry& entry);
  void Finish(const std::string& hash, uint64_t generation, absl::StatusOr<Parts> parts);
  void Answer(const proto::JobInfo& job, const Parts& parts, const Callback& done) const;
  void MaybeRelease(const std::string& hash);

  rpc::EventLoop* const loop_;  // not owned
  const RuntimeEnvAgentOptions options_;
  std::map<std::string, Entry> envs_;         // by env hash
  std::map<std::string, int> package_users_;  // package uri -> envs using it
  uint64_t next_generation_ = 1;
  struct Running {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
    std::shared_ptr<std::atomic<bool>> cancelled;
  };
  std::vector<Running> threads_;  // finished ones are joined when the next one starts
  std::map<JobId, int> local_drivers_;  // jobs whose driver registered here: its pid
  std::unique_ptr<CodeAgent> code_;     // shipped code (its own thread)
  // Set on destruction; posted results check it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace moray::raylet
