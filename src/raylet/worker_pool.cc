#include "raylet/worker_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/id.h"
#include "raylet/process.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {

std::string WorkerPoolKey(proto::Language language, const std::string& env_hash) {
  return language == proto::PYTHON ? absl::StrCat("python:", env_hash) : env_hash;
}

WorkerPool::WorkerPool(rpc::EventLoop* loop, WorkerPoolOptions options, Callbacks callbacks,
                       RuntimeEnvAgent* agent)
    : loop_(loop), agent_(agent), options_(std::move(options)), callbacks_(std::move(callbacks)) {
  options_.max_starting = std::max(1, options_.max_starting);
}

WorkerPool::~WorkerPool() {
  *alive_ = false;
  if (reap_timer_ != 0) loop_->CancelTimer(reap_timer_);
  for (auto& [id, worker] : workers_) {
    if (worker->register_timer != 0) loop_->CancelTimer(worker->register_timer);
    if (worker->kill_timer != 0) loop_->CancelTimer(worker->kill_timer);
    SignalProcessGroup(worker->pid, SIGKILL);
    int status;
    while (waitpid(worker->pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (worker->pidfd >= 0) {
      if (loop_->InLoopThread()) loop_->Unwatch(worker->pidfd);
      close(worker->pidfd);
    }
  }
}

void WorkerPool::Post(std::function<void()> fn) {
  loop_->Post([alive = alive_, fn = std::move(fn)] {
    if (*alive) fn();
  });
}

void WorkerPool::AddJob(const JobId& job_id, const proto::JobInfo& job) {
  jobs_[job_id].info = job;
  // Back while its detached actor's worker still ran (the actor restarting here): the job's
  // references were kept for that worker and now stay with the job.
  leaving_.erase(job_id);
}

void WorkerPool::MarkActorWorker(const WorkerId& worker_id, bool detached) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  it->second->actor = true;
  it->second->detached_actor = detached;
}

bool WorkerPool::RemoveJob(const JobId& job_id) {
  if (jobs_.erase(job_id) == 0) return false;
  std::vector<Worker*> doomed;
  bool survivors = false;
  for (auto& [id, worker] : workers_) {
    if (worker->job_id != job_id) continue;
    if (worker->detached_actor) {
      survivors = true;
    } else {
      doomed.push_back(worker.get());
    }
  }
  for (Worker* worker : doomed) Terminate(*worker, kIntendedUserExit);
  agent_->ClearLocalDriver(job_id);
  if (survivors) {
    // A detached actor's worker runs from the job's cached code and env: they go when it exits.
    leaving_.insert(job_id);
    spdlog::info("job {} ended; its cached code and env stay while its detached actors run",
                 job_id.Hex());
  } else {
    agent_->RemoveJob(job_id);
  }
  return true;
}

void WorkerPool::ReleaseIfLeft(const JobId& job_id) {
  if (!leaving_.contains(job_id)) return;
  for (const auto& [id, worker] : workers_) {
    if (worker->job_id == job_id) return;
  }
  leaving_.erase(job_id);
  agent_->RemoveJob(job_id);
}

WorkerPool::EnvPool* WorkerPool::PoolOf(const Worker& worker) {
  auto job = jobs_.find(worker.job_id);
  if (job == jobs_.end()) return nullptr;
  auto pool = job->second.pools.find(worker.pool_key);
  return pool == job->second.pools.end() ? nullptr : &pool->second;
}

std::optional<LeasableWorker> WorkerPool::PopIdleWorker(const JobId& job_id,
                                                        const std::string& pool_key) {
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return std::nullopt;
  auto pool = job->second.pools.find(pool_key);
  if (pool == job->second.pools.end() || pool->second.idle.empty()) return std::nullopt;
  // Most recently used first: keeps warm workers busy and lets the oldest idle ones time out.
  Worker& worker = *workers_.at(pool->second.idle.back());
  pool->second.idle.pop_back();
  worker.state = State::kLeased;
  return LeasableWorker{worker.id, worker.address, worker.pid};
}

void WorkerPool::PrepareJobEnv(const JobId& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.info.runtime_env().hash().empty()) return;
  StartWorkers(job_id, it->second.info.runtime_env(), JobLanguage(it->second.info), 0);
}

void WorkerPool::StartWorkers(const JobId& job_id, const proto::RuntimeEnvInfo& env,
                              proto::Language language, int wanted) {
  const std::string hash = WorkerPoolKey(language, env.hash());
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    Post([this, job_id, hash] {
      callbacks_.on_start_failed(job_id, hash,
                                 absl::StrCat("could not start a worker for job ", job_id.Hex(),
                                              ": the job has no driver on this node"));
    });
    return;
  }
  Job& job = it->second;
  EnvPool& pool = job.pools[hash];
  pool.language = language;
  if (!pool.prepared) {
    if (env.hash().empty() && !RuntimeEnvAgent::NeedsPreparation(job.info)) {
      absl::StatusOr<PreparedEnv> program =
          ForLanguage(agent_->ProgramOf(job.info), job.info, language);
      if (program.ok()) {
        pool.prepared = *std::move(program);
      } else {
        std::string error = absl::StrCat("could not start a worker for job ", job_id.Hex(), ": ",
                                         program.status().message());
        spdlog::error("{}", error);
        Post([this, job_id, hash, error] { callbacks_.on_start_failed(job_id, hash, error); });
        return;
      }
    } else {
      pool.wanted_when_prepared = std::max(pool.wanted_when_prepared, wanted);
      if (!pool.preparing) {
        // The workers wait for their env; the agent answers on the loop.
        pool.preparing = true;
        pool.env = env;
        agent_->Prepare(job_id, job.info, env,
                        [this, alive = alive_, job_id, hash, language,
                         info = job.info](const absl::StatusOr<PreparedEnv>& prepared) {
                          if (*alive) {
                            OnEnvPrepared(job_id, hash, ForLanguage(prepared, info, language));
                          }
                        });
      }
      return;
    }
  }
  while (pool.starting < wanted && num_starting_ < options_.max_starting) {
    absl::Status status = StartOne(job_id, pool);
    if (!status.ok()) {
      std::string error =
          absl::StrCat("could not start a worker for job ", job_id.Hex(), ": ", status.message());
      spdlog::error("{}", error);
      pool.consecutive_failures = 0;
      Post([this, job_id, hash, error] { callbacks_.on_start_failed(job_id, hash, error); });
      return;
    }
  }
}

void WorkerPool::OnEnvPrepared(const JobId& job_id, const std::string& hash,
                               const absl::StatusOr<PreparedEnv>& prepared) {
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return;
  auto pool = job->second.pools.find(hash);
  if (pool == job->second.pools.end()) return;
  pool->second.preparing = false;
  if (!prepared.ok()) {
    pool->second.wanted_when_prepared = 0;
    // Not kept: the next request for this env prepares it again.
    callbacks_.on_start_failed(job_id, hash, std::string(prepared.status().message()));
    return;
  }
  pool->second.prepared = *prepared;
  const int wanted = std::exchange(pool->second.wanted_when_prepared, 0);
  if (wanted > 0) StartWorkers(job_id, pool->second.env, pool->second.language, wanted);
  callbacks_.on_workers_changed();
}

absl::Status WorkerPool::StartOne(const JobId& job_id, EnvPool& pool) {
  const PreparedEnv& prepared = *pool.prepared;
  SpawnSpec spec;
  spec.argv = prepared.argv;
  spec.cwd = prepared.cwd;
  const WorkerId worker_id = WorkerId::FromRandom();
  const std::string hex = worker_id.Hex();
  // With the log agent: pipes it reads (it names the files once the pid is known). Without
  // (in-process tests): files named the same way, written by the worker itself.
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (options_.log_agent != nullptr) {
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
      const int err = errno;
      for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
        if (fd >= 0) close(fd);
      }
      return absl::ResourceExhaustedError(absl::StrCat("pipe: ", strerror(err)));
    }
    spec.stdout_fd = out_pipe[1];
    spec.stderr_fd = err_pipe[1];
  } else if (!options_.session_dir.empty()) {
    spec.stdout_path =
        absl::StrCat(options_.session_dir, "/logs/worker-", hex, "-", job_id.Hex(), ".out");
    spec.stderr_path =
        absl::StrCat(options_.session_dir, "/logs/worker-", hex, "-", job_id.Hex(), ".err");
  }
  std::vector<std::string> env = {
      "MORAY_WORKER_MODE=1",
      absl::StrCat("MORAY_RAYLET_ADDRESS=", options_.node_ip, ":", options_.raylet_port),
      absl::StrCat("MORAY_WORKER_ID=", hex),
      absl::StrCat("MORAY_JOB_ID=", job_id.Hex()),
      absl::StrCat("MORAY_NODE_ID=", options_.node_id.Hex()),
      absl::StrCat("MORAY_NODE_IP=", options_.node_ip),
      absl::StrCat("MORAY_GCS_ADDRESS=", options_.gcs_address),
      absl::StrCat("MORAY_SESSION_DIR=", options_.session_dir),
      absl::StrCat("MORAY_CODE_SEARCH_PATH=", absl::StrJoin(prepared.library_paths, ":")),
      absl::StrCat("MORAY_NAMESPACE=", jobs_.at(job_id).info.ray_namespace()),
  };
  for (std::string& var : EnvironmentEntries(options_.worker_env)) env.push_back(std::move(var));
  // The runtime env's variables and MORAY_RUNTIME_ENV; never over the worker's own settings
  // above (the first of two same-named entries is the one a process sees).
  const size_t own = env.size();
  for (const auto& [name, value] : prepared.env) {
    const std::string prefix = name + "=";
    bool taken = false;
    for (size_t i = 0; i < own && !taken; ++i) taken = absl::StartsWith(env[i], prefix);
    if (!taken) env.push_back(prefix + value);
  }
  spec.env = EnvironmentWith(env);
  absl::StatusOr<Child> child = Spawn(spec);
  if (options_.log_agent != nullptr) {
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (child.ok()) {
      options_.log_agent->AddWorker(worker_id, job_id, child->pid, out_pipe[0], err_pipe[0]);
    } else {
      close(out_pipe[0]);
      close(err_pipe[0]);
    }
  }
  if (!child.ok()) return child.status();

  auto worker = std::make_unique<Worker>();
  worker->id = worker_id;
  worker->job_id = job_id;
  worker->env_hash = pool.env.hash();
  worker->pool_key = WorkerPoolKey(pool.language, worker->env_hash);
  agent_->AddWorker(worker->env_hash);
  worker->pid = child->pid;
  worker->pidfd = child->pidfd;
  worker->register_timer = loop_->RunAfter(
      options_.register_timeout, [this, alive = alive_, worker_id] {
        if (!*alive) return;
        auto it = workers_.find(worker_id);
        if (it == workers_.end() || it->second->state != State::kStarting) return;
        it->second->register_timer = 0;
        StartFailed(*it->second, absl::StrCat("the worker did not register within ",
                                              absl::FormatDuration(options_.register_timeout)));
      });
  loop_->Watch(worker->pidfd, EPOLLIN, [this, worker_id](uint32_t) { OnProcessExit(worker_id); });
  spdlog::info("started worker {} pid {} for job {}: {}", hex, worker->pid, job_id.Hex(),
               absl::StrJoin(spec.argv, " "));
  workers_[worker_id] = std::move(worker);
  ++pool.starting;
  ++num_starting_;
  return absl::OkStatus();
}

void WorkerPool::StopStarting(Worker& worker) {
  if (!worker.counted_starting) return;
  worker.counted_starting = false;
  if (worker.register_timer != 0) {
    loop_->CancelTimer(worker.register_timer);
    worker.register_timer = 0;
  }
  --num_starting_;
  if (EnvPool* pool = PoolOf(worker)) --pool->starting;
  // A start slot is free: scheduling may want another worker.
  Post([this] { callbacks_.on_workers_changed(); });
}

absl::StatusOr<JobId> WorkerPool::RegisterWorker(const WorkerId& worker_id, int pid,
                                                 const proto::Address& address) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end() || it->second->state != State::kStarting || it->second->signalled) {
    return absl::NotFoundError(
        absl::StrCat("no worker ", worker_id.Hex(), " is starting on this node"));
  }
  Worker& worker = *it->second;
  if (pid != 0 && pid != worker.pid) {
    spdlog::warn("worker {} registered with pid {} but was spawned as pid {}", worker_id.Hex(), pid,
                 worker.pid);
  }
  StopStarting(worker);
  worker.address = address;
  worker.state = State::kIdle;
  worker.idle_since = absl::Now();
  if (EnvPool* pool = PoolOf(worker)) {
    pool->consecutive_failures = 0;
    pool->idle.push_back(worker_id);
  }
  ScheduleReap();
  return worker.job_id;
}

void WorkerPool::ReturnWorker(const WorkerId& worker_id, bool reuse) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  Worker& worker = *it->second;
  if (worker.state != State::kLeased) return;
  EnvPool* pool = PoolOf(worker);
  if (!reuse || pool == nullptr) {
    Terminate(worker, reuse ? kIntendedUserExit : kSystemError);
    return;
  }
  worker.state = State::kIdle;
  worker.idle_since = absl::Now();
  pool->idle.push_back(worker_id);
  ScheduleReap();
  Post([this] { callbacks_.on_workers_changed(); });
}

void WorkerPool::KillWorker(const WorkerId& worker_id, const std::string& exit_type) {
  auto it = workers_.find(worker_id);
  if (it != workers_.end()) Terminate(*it->second, exit_type);
}

void WorkerPool::LeaveIdle(Worker& worker) {
  if (worker.state != State::kIdle) return;
  EnvPool* pool = PoolOf(worker);
  if (pool == nullptr) return;
  auto& idle = pool->idle;
  idle.erase(std::remove(idle.begin(), idle.end(), worker.id), idle.end());
}

void WorkerPool::Terminate(Worker& worker, const std::string& exit_type) {
  if (worker.signalled) return;
  worker.signalled = true;
  if (worker.exit_type.empty()) worker.exit_type = exit_type;
  LeaveIdle(worker);
  StopStarting(worker);
  SignalProcessGroup(worker.pid, SIGTERM);
  const pid_t pid = worker.pid;
  worker.kill_timer = loop_->RunAfter(options_.kill_grace, [this, alive = alive_, id = worker.id,
                                                            pid] {
    if (!*alive) return;
    auto it = workers_.find(id);
    if (it == workers_.end()) return;  // exited in time
    it->second->kill_timer = 0;
    spdlog::warn("worker {} pid {} ignored SIGTERM; sending SIGKILL", id.Hex(), pid);
    SignalProcessGroup(pid, SIGKILL);
  });
}

void WorkerPool::StartFailed(Worker& worker, const std::string& reason) {
  EnvPool* pool = PoolOf(worker);
  std::string error =
      absl::StrCat("could not start a worker for job ", worker.job_id.Hex(), ": ", reason);
  if (!options_.session_dir.empty()) {
    const std::string file =
        options_.log_agent != nullptr
            ? LogAgent::WorkerFileName(worker.id, worker.job_id, worker.pid, /*err=*/true)
            : absl::StrCat("worker-", worker.id.Hex(), "-", worker.job_id.Hex(), ".err");
    absl::StrAppend(&error, " (see ", options_.session_dir, "/logs/", file, ")");
  }
  spdlog::error("{}", error);
  if (pool != nullptr && ++pool->consecutive_failures >= options_.max_start_failures) {
    pool->consecutive_failures = 0;
    Post([this, job_id = worker.job_id, hash = worker.pool_key, error] {
      callbacks_.on_start_failed(job_id, hash, error);
    });
  }
  worker.exit_type = kSystemError;
  if (worker.pidfd >= 0 && !worker.signalled) Terminate(worker, kSystemError);
  StopStarting(worker);
}

void WorkerPool::OnProcessExit(const WorkerId& worker_id) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  Worker& worker = *it->second;
  int status = 0;
  if (!Reap(worker.pid, &status)) return;  // spurious wake-up
  loop_->Unwatch(worker.pidfd);
  close(worker.pidfd);
  worker.pidfd = -1;
  if (worker.kill_timer != 0) loop_->CancelTimer(worker.kill_timer);
  const std::string how = DescribeWaitStatus(status);
  spdlog::info("worker {} pid {} exited: {}", worker_id.Hex(), worker.pid, how);
  const State state = worker.state;
  if (state == State::kStarting && !worker.signalled) {
    StartFailed(worker, absl::StrCat("the worker exited before registering (", how, ")"));
  }
  StopStarting(worker);
  LeaveIdle(worker);
  if (worker.exit_type.empty()) worker.exit_type = kSystemError;
  RecordDead(InfoOf(worker, /*alive=*/false));
  const bool was_registered = state == State::kIdle || state == State::kLeased;
  const std::string env_hash = worker.env_hash;
  const JobId job_id = worker.job_id;
  workers_.erase(it);
  agent_->RemoveWorker(env_hash);
  ReleaseIfLeft(job_id);
  if (was_registered) {
    Post([this, worker_id] { callbacks_.on_worker_dead(worker_id); });
  }
}

void WorkerPool::MarkIntendedExit(const WorkerId& worker_id) {
  auto it = workers_.find(worker_id);
  if (it != workers_.end() && it->second->exit_type.empty()) {
    it->second->exit_type = kIntendedUserExit;
  }
}

void WorkerPool::OnWorkerDisconnected(const WorkerId& worker_id) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  Worker& worker = *it->second;
  const bool was_registered = worker.state == State::kIdle || worker.state == State::kLeased;
  if (!was_registered) return;
  LeaveIdle(worker);
  worker.state = State::kDisconnected;
  // Give a worker that announced its exit the grace period to leave on its own.
  if (worker.exit_type == kIntendedUserExit) {
    if (!worker.signalled) {
      worker.signalled = true;
      worker.kill_timer = loop_->RunAfter(options_.kill_grace, [this, alive = alive_, worker_id] {
        if (!*alive) return;
        auto w = workers_.find(worker_id);
        if (w == workers_.end()) return;
        w->second->kill_timer = 0;
        SignalProcessGroup(w->second->pid, SIGKILL);
      });
    }
  } else {
    Terminate(worker, kSystemError);
  }
  Post([this, worker_id] { callbacks_.on_worker_dead(worker_id); });
}

void WorkerPool::ScheduleReap() {
  if (reap_timer_ != 0) return;
  reap_timer_ = loop_->RunAfter(options_.idle_timeout, [this, alive = alive_] {
    if (!*alive) return;
    reap_timer_ = 0;
    ReapIdle();
  });
}

void WorkerPool::ReapIdle() {
  const absl::Time now = absl::Now();
  bool more = false;
  for (auto& [job_id, job] : jobs_) {
    for (auto& [hash, pool] : job.pools) {
      // Oldest idle first; keep the newest keep_idle_per_job of the job env's workers (those
      // prestarted), none of other envs'. Only while the job's driver is on this node: another
      // node hears of the job's end only from the GCS (RAYLET_JOB_FINISHED, one-way), so it
      // keeps no idle workers it would have to be told to end.
      const int keep =
          hash == WorkerPoolKey(JobLanguage(job.info), job.info.runtime_env().hash()) &&
                  HasLocalDriver(job_id)
              ? options_.keep_idle_per_job
              : 0;
      while (static_cast<int>(pool.idle.size()) > keep) {
        Worker& oldest = *workers_.at(pool.idle.front());
        if (now - oldest.idle_since < options_.idle_timeout) {
          more = true;
          break;
        }
        spdlog::info("worker {} idle for {}; stopping it", oldest.id.Hex(),
                     absl::FormatDuration(now - oldest.idle_since));
        Terminate(oldest, kIdleExit);  // removes it from pool.idle
      }
    }
  }
  if (more) ScheduleReap();
}

bool WorkerPool::HasLocalDriver(const JobId& job_id) const {
  const std::string binary = job_id.Binary();
  for (const auto& [id, info] : drivers_) {
    if (info.job_id() == binary) return true;
  }
  return false;
}

void WorkerPool::AddDriver(const WorkerId& worker_id, const JobId& job_id, int pid) {
  proto::WorkerInfo& info = drivers_[worker_id];
  info.set_worker_id(worker_id.Binary());
  info.set_pid(pid);
  info.set_is_alive(true);
  info.set_worker_type("DRIVER");
  info.set_job_id(job_id.Binary());
  agent_->SetLocalDriver(job_id, pid);  // its process is a source of the job's code here
}

void WorkerPool::DriverExited(const WorkerId& worker_id) {
  auto it = drivers_.find(worker_id);
  if (it == drivers_.end()) return;
  proto::WorkerInfo info = std::move(it->second);
  drivers_.erase(it);
  info.set_is_alive(false);
  info.set_exit_type(kIntendedUserExit);
  RecordDead(std::move(info));
}

void WorkerPool::RecordDead(proto::WorkerInfo info) {
  dead_.push_back(std::move(info));
  while (dead_.size() > options_.max_dead_records) dead_.pop_front();
}

proto::WorkerInfo WorkerPool::InfoOf(const Worker& worker, bool alive) const {
  proto::WorkerInfo info;
  info.set_worker_id(worker.id.Binary());
  info.set_pid(worker.pid);
  info.set_is_alive(alive);
  info.set_worker_type("WORKER");
  if (!alive) info.set_exit_type(worker.exit_type);
  info.set_job_id(worker.job_id.Binary());
  return info;
}

std::vector<proto::WorkerInfo> WorkerPool::WorkerInfos() const {
  std::vector<proto::WorkerInfo> infos(dead_.begin(), dead_.end());
  for (const auto& [id, info] : drivers_) infos.push_back(info);
  for (const auto& [id, worker] : workers_) {
    if (worker->state != State::kStarting) infos.push_back(InfoOf(*worker, /*alive=*/true));
  }
  return infos;
}

int WorkerPool::num_idle(const JobId& job_id) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return 0;
  int idle = 0;
  for (const auto& [hash, pool] : it->second.pools) idle += static_cast<int>(pool.idle.size());
  return idle;
}

std::vector<pid_t> WorkerPool::WorkerPids(const JobId& job_id) const {
  std::vector<pid_t> pids;
  for (const auto& [id, worker] : workers_) {
    if (worker->job_id == job_id) pids.push_back(worker->pid);
  }
  return pids;
}

void WorkerPool::KillAll(absl::Duration grace) {
  for (auto& [id, worker] : workers_) {
    if (worker->exit_type.empty()) worker->exit_type = kIntendedUserExit;
    SignalProcessGroup(worker->pid, SIGTERM);
  }
  const absl::Time deadline = absl::Now() + grace;
  for (auto& [id, worker] : workers_) {
    int status;
    while (!Reap(worker->pid, &status)) {
      const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
      if (left_ms <= 0) {
        SignalProcessGroup(worker->pid, SIGKILL);
        while (waitpid(worker->pid, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      pollfd pfd{worker->pidfd, POLLIN, 0};
      poll(&pfd, 1, static_cast<int>(left_ms));
    }
    if (worker->register_timer != 0) loop_->CancelTimer(worker->register_timer);
    if (worker->kill_timer != 0) loop_->CancelTimer(worker->kill_timer);
    loop_->Unwatch(worker->pidfd);
    close(worker->pidfd);
    RecordDead(InfoOf(*worker, /*alive=*/false));
  }
  workers_.clear();
  for (auto& [id, job] : jobs_) {
    for (auto& [hash, pool] : job.pools) {
      pool.idle.clear();
      pool.starting = 0;
    }
  }
  num_starting_ = 0;
}

}  // namespace moray::raylet
