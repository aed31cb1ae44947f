// WorkerPool: the node's worker processes, per (job, runtime env hash, language). Starts them
// (C++: re-executing the job's driver binary, or `moray worker` for jobs with a code search path;
// Python: `<the driver's python> -m moray._worker` with its sys.path), matches their
// registration to the spawned process, keeps idle ones for reuse, reaps idle ones beyond the
// prestart count, and detects their exit through pidfds watched by the event loop.
//
//   WorkerPool pool(&loop, options, callbacks);
//   pool.AddJob(job_id, job_info);
//   pool.StartWorkers(job_id, env, proto::CPP, 2);      // asynchronous
//   // ... the worker connects and sends REGISTER_CLIENT:
//   pool.RegisterWorker(worker_id, pid, address);       // now idle; callbacks.on_workers_changed()
//   auto w = pool.PopIdleWorker(job_id, WorkerPoolKey(proto::CPP, env.hash()));
//
// Runtime envs: a worker of a non-empty env starts only once the RuntimeEnvAgent prepared the
// env (its variables, its cwd, MORAY_RUNTIME_ENV); an idle worker is reused only for its own
// env; a setup failure fails that (job, env)'s requests (on_start_failed). The empty env goes
// straight to the spawn, as before envs existed.
//
// A start fails if exec fails (reported at once), if the worker exits before registering, or if
// it does not register within register_timeout. After max_start_failures consecutive failures of
// a job (or one exec failure) callbacks.on_start_failed tells the scheduler to fail the job's
// waiting requests.
//
// Thread model: the raylet's event loop thread only (it forks, and children die with it).
// Callbacks are posted to the loop, never run inside the pool's own methods.
#pragma once

#include <sys/types.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "raylet/log_agent.h"
#include "raylet/runtime_env_agent.h"
#include "raylet/worker_source.h"
#include "rpc/event_loop.h"

namespace moray::raylet {

struct WorkerPoolOptions {
  NodeId node_id;
  std::string node_ip;
  int raylet_port = 0;  // where workers connect back; set before the first start
  std::string gcs_address;
  std::string session_dir;   // worker logs go to <session_dir>/logs
  // Reads workers' stdout/stderr through pipes and writes their files (not owned; outlives the
  // pool); null: workers write <session_dir>/logs/worker-*.out/.err themselves, or /dev/null.
  LogAgent* log_agent = nullptr;
  std::string moray_binary;  // for `moray worker` (jobs with a code search path)
  // Set in every worker's environment (over the raylet's own): the node's auth
  // (rpc::AuthEnvironment), so workers present the raylet's token. Never on their command line.
  std::vector<std::pair<std::string, std::string>> worker_env;
  int max_starting = 1;      // concurrent starts, node-wide
  // Idle workers of the job env kept beyond idle_timeout (the prestart count), on the node of
  // the job's driver only.
  int keep_idle_per_job = 0;
  absl::Duration idle_timeout = absl::Seconds(1);
  absl::Duration register_timeout = absl::Seconds(60);
  absl::Duration kill_grace = absl::Seconds(2);  // SIGTERM -> SIGKILL
  int max_start_failures = 3;
  size_t max_dead_records = 1000;
};

class WorkerPool : public WorkerSource {
 public:
  struct Callbacks {
    // Scheduling may progress: a worker became idle, or a start slot freed up.
    std::function<void()> on_workers_changed;
    // Workers of the job's pool `pool_key` (WorkerPoolKey) cannot be started, or its env cannot
    // be set up; `error` is the reason to give its requests.
    std::function<void(const JobId& job_id, const std::string& pool_key, const std::string& error)>
        on_start_failed;
    // A registered worker died or disconnected (its lease, if any, must be freed).
    std::function<void(const WorkerId& worker_id)> on_worker_dead;
  };

  // `loop` and `agent` must outlive this object.
  WorkerPool(rpc::EventLoop* loop, WorkerPoolOptions options, Callbacks callbacks,
             RuntimeEnvAgent* agent);
  ~WorkerPool();  // SIGKILLs and reaps every remaining worker

  void set_raylet_port(int port) { options_.raylet_port = port; }

  // Jobs whose workers may start here.
  void AddJob(const JobId& job_id, const proto::JobInfo& job);
  bool HasJob(const JobId& job_id) const { return jobs_.contains(job_id); }
  // The job's info as registered here; nullptr if unknown.
  const proto::JobInfo* JobInfoOf(const JobId& job_id) const {
    auto it = jobs_.find(job_id);
    return it == jobs_.end() ? nullptr : &it->second.info;
  }
  // The job ended here: its workers end (SIGTERM, then SIGKILL after kill_grace) except
  // detached actors' workers, and the agent drops the job's env references and cached code —
  // once the last of those surviving workers exits, if any. False (and nothing changes) for a
  // job this pool does not have, e.g. one removed already.
  bool RemoveJob(const JobId& job_id);

  // WorkerSource.
  std::optional<LeasableWorker> PopIdleWorker(const JobId& job_id,
                                              const std::string& pool_key) override;
  void StartWorkers(const JobId& job_id, const proto::RuntimeEnvInfo& env, proto::Language language,
                    int wanted) override;
  // eager_install: prepares the job's env now, before any request asks for it.
  void PrepareJobEnv(const JobId& job_id);
  void ReturnWorker(const WorkerId& worker_id, bool reuse) override;
  void KillWorker(const WorkerId& worker_id, const std::string& exit_type) override;

  // A spawned worker said hello. NotFound if no starting worker has that id.
  [[nodiscard]] absl::StatusOr<JobId> RegisterWorker(const WorkerId& worker_id, int pid,
                                                     const proto::Address& address);
  // The worker announced its exit (DISCONNECT_CLIENT).
  void MarkIntendedExit(const WorkerId& worker_id);
  // The leased worker now hosts an actor: never reused; a detached actor's worker also survives
  // RemoveJob (the job's driver exiting).
  void MarkActorWorker(const WorkerId& worker_id, bool detached);
  // The worker's connection closed: it is useless now, so it is killed if still running.
  void OnWorkerDisconnected(const WorkerId& worker_id);

  // Drivers are not spawned here but are listed with the workers.
  void AddDriver(const WorkerId& worker_id, const JobId& job_id, int pid);
  void DriverExited(const WorkerId& worker_id);

  // Shutdown: SIGTERM to every worker, waits up to `grace` for them, then SIGKILL. Blocks.
  void KillAll(absl::Duration grace);

  // Live and recently dead workers and drivers, for the node report.
  std::vector<proto::WorkerInfo> WorkerInfos() const;
  int num_starting() const { return num_starting_; }
  int num_idle(const JobId& job_id) const;
  // Pids of live worker processes of a job (tests).
  std::vector<pid_t> WorkerPids(const JobId& job_id) const;
  RuntimeEnvAgent* agent() const { return agent_; }

 private:
  enum class State { kStarting, kIdle, kLeased, kDisconnected };
  struct Worker {
    WorkerId id;
    JobId job_id;
    std::string env_hash;  // "" for the empty env
    std::string pool_key;  // WorkerPoolKey(language, env_hash)
    pid_t pid = -1;
    int pidfd = -1;
    State state = State::kStarting;
    proto::Address address;
    absl::Time idle_since;
    std::string exit_type;   // set when we decide why it ends
    bool signalled = false;  // SIGTERM sent
    bool actor = false;            // dedicated to an actor
    bool detached_actor = false;   // ... that outlives its job
    bool counted_starting = true;  // holds a start slot (num_starting_, Job::starting)
    uint64_t register_timer = 0;
    uint64_t kill_timer = 0;
  };
  // The workers of one (job, env, language).
  struct EnvPool {
    proto::RuntimeEnvInfo env;
    proto::Language language = proto::CPP;
    std::deque<WorkerId> idle;  // oldest first
    int starting = 0;
    int consecutive_failures = 0;
    bool preparing = false;               // the agent is preparing the env
    int wanted_when_prepared = 0;         // workers to start then (prestart; requests re-ask)
    std::optional<PreparedEnv> prepared;  // how its workers start, once known
  };
  struct Job {
    proto::JobInfo info;
    std::map<std::string, EnvPool> pools;  // by WorkerPoolKey
  };
  EnvPool* PoolOf(const Worker& worker);
  // Whether a driver of the job registered with this raylet and is still connected.
  bool HasLocalDriver(const JobId& job_id) const;

  absl::Status StartOne(const JobId& job_id, EnvPool& pool);
  void OnEnvPrepared(const JobId& job_id, const std::string& pool_key,
                     const absl::StatusOr<PreparedEnv>& prepared);
  void OnProcessExit(const WorkerId& worker_id);
  void StartFailed(Worker& worker, const std::string& reason);
  void Terminate(Worker& worker, const std::string& exit_type);
  void LeaveIdle(Worker& worker);
  void StopStarting(Worker& worker);
  void ScheduleReap();
  // A removed job's last surviving worker exited: its references go now.
  void ReleaseIfLeft(const JobId& job_id);
  void ReapIdle();
  void RecordDead(proto::WorkerInfo info);
  proto::WorkerInfo InfoOf(const Worker& worker, bool alive) const;
  void Post(std::function<void()> fn);

  rpc::EventLoop* const loop_;  // not owned
  RuntimeEnvAgent* const agent_;  // not owned
  WorkerPoolOptions options_;
  Callbacks callbacks_;
  std::map<JobId, Job> jobs_;
  // Removed jobs whose detached actors' workers still run: the agent keeps their references.
  std::set<JobId> leaving_;
  absl::flat_hash_map<WorkerId, std::unique_ptr<Worker>> workers_;  // live processes
  std::map<WorkerId, proto::WorkerInfo> drivers_;                   // live drivers
  std::deque<proto::WorkerInfo> dead_;  // most recent last
  int num_starting_ = 0;
  uint64_t reap_timer_ = 0;
  // Set on destruction; posted callbacks check it (they may run after the pool is gone).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace moray::raylet
