#include "jobs/job_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/environment.h"
#include "jobs/job_runtime_env.h"
#include "spdlog/spdlog.h"

namespace moray::jobs {
namespace fs = std::filesystem;
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Names the cluster too: two clusters on one machine may both run a job with the same id, and
// stopping one must not find the other's processes.
std::string Marker(const std::string& gcs_address, const std::string& id) {
  return absl::StrCat("MORAY_JOB_MARKER=", gcs_address, "/", id);
}

absl::Status CheckMetadata(const nlohmann::json& metadata) {
  if (metadata.is_null()) return absl::OkStatus();
  bool ok = metadata.is_object();
  if (ok) {
    for (const auto& [key, value] : metadata.items()) ok = ok && value.is_string();
  }
  return ok ? absl::OkStatus()
            : absl::InvalidArgumentError("metadata must be a JSON object of strings");
}

}  // namespace

JobSupervisor::JobSupervisor(JobSupervisorOptions options) : options_(std::move(options)) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  monitor_ = std::thread([this] { MonitorLoop(); });
}

JobSupervisor::~JobSupervisor() { Shutdown(); }

std::string JobSupervisor::LogPath(const std::string& submission_id) const {
  return absl::StrCat(options_.session_dir, "/logs/job-driver-", submission_id, ".log");
}

absl::Status JobSupervisor::Recover() {
  auto jobs = options_.store->List();
  if (!jobs.ok()) return jobs.status();
  for (JobRecord& job : *jobs) {
    if (IsTerminal(job.status)) continue;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (jobs_.count(job.submission_id)) continue;  // ours
    }
    job.status = JobStatus::kFailed;
    job.message =
        "The dashboard that supervised this job stopped before the job ended; its processes may "
        "still be running.";
    job.error_type = "JOB_SUPERVISOR_ACTOR_DIED";
    job.end_time_ms = NowMs();
    if (auto put = options_.store->Put(job); !put.ok()) return put;
    ReleasePackage(job);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> JobSupervisor::Submit(SubmitRequest request) {
  if (request.entrypoint.empty()) return absl::InvalidArgumentError("the entrypoint is empty");
  if (request.submission_id.empty()) request.submission_id = NewSubmissionId();
  if (auto s = CheckSubmissionId(request.submission_id); !s.ok()) return s;
  if (request.runtime_env.is_null()) request.runtime_env = nlohmann::json::object();
  if (request.metadata.is_null()) request.metadata = nlohmann::json::object();
  if (auto s = CheckJobRuntimeEnv(request.runtime_env, /*require_uploaded=*/true); !s.ok()) {
    return s;
  }
  if (auto s = CheckMetadata(request.metadata); !s.ok()) return s;
  if (request.entrypoint_num_cpus < 0) {
    return absl::InvalidArgumentError("entrypoint_num_cpus must be 0 or more");
  }
  if (request.entrypoint_num_cpus > 0 && options_.cluster_cpus) {
    auto cpus = options_.cluster_cpus();
    if (!cpus.ok()) return cpus.status();
    if (request.entrypoint_num_cpus > *cpus) {
      return absl::InvalidArgumentError(
          absl::StrCat("entrypoint_num_cpus ", request.entrypoint_num_cpus,
                       " is more than the cluster's ", *cpus, " CPUs"));
    }
  }
  JobRecord record{.submission_id = request.submission_id,
                   .status = JobStatus::kPending,
                   .entrypoint = request.entrypoint,
                   .message = "Job is waiting to start.",
                   .start_time_ms = NowMs(),
                   .metadata = request.metadata,
                   .runtime_env = request.runtime_env,
                   .entrypoint_num_cpus = request.entrypoint_num_cpus};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutting_down_) return absl::UnavailableError("the dashboard is shutting down");
    if (jobs_.count(record.submission_id)) {
      return absl::AlreadyExistsError(
          absl::StrCat("a job with submission id '", record.submission_id, "' already exists"));
    }
  }
  // The store decides: another dashboard of this cluster may have used the id before.
  auto added = options_.store->Add(record);
  if (!added.ok()) return added.status();
  if (!*added) {
    return absl::AlreadyExistsError(
        absl::StrCat("a job with submission id '", record.submission_id, "' already exists"));
  }
  // After Add: an id already taken must never touch the ref of the job that holds it.
  if (options_.hold_package && record.runtime_env.contains("working_dir")) {
    absl::Status held = options_.hold_package(record.submission_id,
                                              record.runtime_env["working_dir"].get<std::string>());
    if (!held.ok()) {
      (void)options_.store->Delete(record.submission_id);
      return held;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::string id = record.submission_id;
  jobs_[id].record = std::move(record);
  ++launching_;
  std::thread([this, id] { Launch(id); }).detach();
  return id;
}

void JobSupervisor::Launch(const std::string& id) {
  nlohmann::json env;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    env = jobs_[id].record.runtime_env;
  }
  absl::Status started = absl::OkStatus();
  std::string cwd =
      options_.default_cwd.empty() ? fs::current_path().string() : options_.default_cwd;
  std::string error_type = "JOB_ENTRYPOINT_COMMAND_START_ERROR";
  if (env.contains("working_dir")) {
    const std::string uri = env["working_dir"].get<std::string>();
    absl::StatusOr<std::string> dir =
        options_.prepare_working_dir
            ? options_.prepare_working_dir(uri)
            : absl::UnimplementedError("this dashboard cannot fetch packages");
    if (dir.ok()) {
      cwd = *dir;
    } else {
      started = absl::Status(dir.status().code(), absl::StrCat("could not set up working_dir ", uri,
                                                               ": ", dir.status().message()));
      error_type = "RUNTIME_ENV_SETUP_FAILED";
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Job& job = jobs_[id];
    if (job.stop_requested) {
      job.record.status = JobStatus::kStopped;
      job.record.message = "Job was stopped before it started.";
      job.record.end_time_ms = NowMs();
      changed_.notify_all();
    } else if (started.ok()) {
      started = Spawn(id, cwd);
    }
    if (!started.ok()) {
      job.record.status = JobStatus::kFailed;
      job.record.message = std::string(started.message());
      job.record.error_type = error_type;
      job.record.end_time_ms = NowMs();
      changed_.notify_all();
    }
  }
  Wake();
  Persist(id);
  // The last touch of `this`: Shutdown waits for launching_ to reach 0.
  std::lock_guard<std::mutex> lock(mutex_);
  --launching_;
  changed_.notify_all();
}

absl::Status JobSupervisor::Spawn(const std::string& id, const std::string& cwd) {
  Job& job = jobs_[id];
  const std::string log_path = LogPath(id);
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) {
    return absl::InternalError(
        absl::StrCat("could not open the job's log ", log_path, ": ", std::strerror(errno)));
  }
  // Ours win over the job's variables: they say which cluster and which job this is.
  std::vector<std::string> overrides = {
      absl::StrCat("RAY_ADDRESS=", options_.gcs_address),
      absl::StrCat("MORAY_JOB_RUNTIME_ENV=", job.record.runtime_env.dump()),
      absl::StrCat("MORAY_JOB_SUBMISSION_ID=", id), Marker(options_.gcs_address, id)};
  for (std::string& var : JobEnvVars(job.record.runtime_env, [](const std::string& name) {
         const char* value = std::getenv(name.c_str());
         return value ? std::optional<std::string>(value) : std::nullopt;
       })) {
    std::string name = var.substr(0, var.find('='));
    if (name != "RAY_ADDRESS" && name != "MORAY_JOB_RUNTIME_ENV" &&
        name != "MORAY_JOB_SUBMISSION_ID" && name != "MORAY_JOB_MARKER") {
      overrides.push_back(std::move(var));
    }
  }
  std::vector<std::string> env = EnvironmentWith(overrides);
  std::vector<char*> cenv;
  for (auto& var : env) cenv.push_back(var.data());
  cenv.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", command = job.record.entrypoint;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
  // Built before fork: the child of a threaded process may not allocate.
  pid_t pid = fork();
  if (pid < 0) {
    close(log);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    setsid();
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(log, 1);
    dup2(log, 2);
    syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);  // the dashboard ignores it; exec keeps an ignored signal ignored
    if (chdir(cwd.c_str()) != 0) {
      dprintf(2, "cannot enter the working directory %s: %s\n", cwd.c_str(), std::strerror(errno));
      _exit(127);
    }
    execve(argv[0], argv, cenv.data());
    dprintf(2, "cannot execute /bin/sh: %s\n", std::strerror(errno));
    _exit(127);
  }
  close(log);
  job.pid = pid;
  // Our unreaped child: the pid cannot be reused before we wait for it, so this is its pidfd.
  job.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (job.pidfd < 0) {
    // Unwatched, it would never be reaped nor end: the job fails now instead (as the raylet's
    // Spawn does for a worker).
    const int err = errno;
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    job.pid = -1;
    return absl::InternalError(
        absl::StrCat("cannot watch the entrypoint's process: pidfd_open: ", std::strerror(err)));
  }
  job.record.status = JobStatus::kRunning;
  job.record.message = "Job is running.";
  changed_.notify_all();
  spdlog::info("job {} started: pid {}, cwd {}", id, pid, cwd);
  return absl::OkStatus();
}

void JobSupervisor::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void JobSupervisor::BeginStop(Job& job) {
  job.stop_requested = true;
  if (job.pid <= 0 || job.leader_exited) return;
  job.stopping = JobProcesses(job.pid, Marker(options_.gcs_address, job.record.submission_id));
  SignalAll(job.stopping, SIGTERM);
  job.kill_at = absl::Now() + options_.stop_grace;
}

void JobSupervisor::Finish(Job& job) {
  const int status = job.wait_status;
  job.record.end_time_ms = NowMs();
  if (job.pidfd >= 0) close(job.pidfd);
  job.pidfd = -1;
  job.kill_at = absl::InfiniteFuture();
  if (WIFEXITED(status)) job.record.driver_exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) job.record.driver_exit_code = -WTERMSIG(status);
  if (job.stop_requested) {
    job.record.status = JobStatus::kStopped;
    job.record.message = shutting_down_ ? "Job was stopped because the dashboard shut down."
                                        : "Job was stopped by request.";
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    job.record.status = JobStatus::kSucceeded;
    job.record.message = "Job finished successfully.";
  } else {
    job.record.status = JobStatus::kFailed;
    job.record.error_type = "JOB_ENTRYPOINT_COMMAND_ERROR";
    job.record.message =
        WIFSIGNALED(status)
            ? absl::StrCat("The entrypoint was killed by signal ", WTERMSIG(status), " (",
                           strsignal(WTERMSIG(status)), ").")
            : absl::StrCat("The entrypoint exited with code ", WEXITSTATUS(status), ".");
  }
  changed_.notify_all();
}

void JobSupervisor::MonitorLoop() {
  while (true) {
    std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}};
    std::vector<std::string> ids = {""};
    absl::Time next_kill = absl::InfiniteFuture();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      bool busy = false;
      for (auto& [id, job] : jobs_) {
        if (job.pidfd >= 0 && !job.leader_exited) {
          fds.push_back({job.pidfd, POLLIN, 0});
          ids.push_back(id);
        }
        if (job.pid > 0 && !IsTerminal(job.record.status)) busy = true;
        next_kill = std::min(next_kill, job.kill_at);
        // Stopped, the entrypoint gone, the rest of its tree dying: look again shortly rather
        // than wait for the SIGKILL deadline.
        if (job.leader_exited && job.kill_at != absl::InfiniteFuture()) {
          next_kill = std::min(next_kill, absl::Now() + absl::Milliseconds(20));
        }
      }
      if (shutting_down_ && !busy && launching_ == 0) return;
    }
    int timeout_ms = -1;
    if (next_kill != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(
          std::max<int64_t>(0, absl::ToInt64Milliseconds(next_kill - absl::Now()) + 1));
    }
    int n = poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) {
      spdlog::error("job monitor: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
    }
    std::vector<std::string> changed;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        Job& job = jobs_[ids[i]];
        if (waitpid(job.pid, &job.wait_status, WNOHANG) != job.pid) continue;
        job.leader_exited = true;
        // A stop waits for the rest of the tree until the SIGKILL deadline; once the SIGKILL
        // went out (kill_at cleared) what is left is dying.
        if (!job.stop_requested || job.kill_at == absl::InfiniteFuture() ||
            !AnyAlive(job.stopping)) {
          Finish(job);
          changed.push_back(ids[i]);
        }
      }
      const absl::Time now = absl::Now();
      for (auto& [id, job] : jobs_) {
        if (job.leader_exited && job.kill_at != absl::InfiniteFuture() &&
            !IsTerminal(job.record.status) && !AnyAlive(job.stopping)) {
          Finish(job);
          changed.push_back(id);
          continue;
        }
        if (job.kill_at > now) continue;
        // What is left of the tree now, and what was signalled before.
        std::vector<ProcessRef> left =
            job.leader_exited ? std::vector<ProcessRef>{}
                              : JobProcesses(job.pid, Marker(options_.gcs_address, id));
        SignalAll(left, SIGKILL);
        SignalAll(job.stopping, SIGKILL);
        job.kill_at = absl::InfiniteFuture();
        if (job.leader_exited && !IsTerminal(job.record.status)) {
          Finish(job);
          changed.push_back(id);
        }
      }
    }
    for (const std::string& id : changed) {
      spdlog::info("job {} ended", id);
      Persist(id);
    }
  }
}

void JobSupervisor::Persist(const std::string& id) {
  std::lock_guard<std::mutex> store_lock(store_mutex_);
  JobRecord record;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    record = it->second.record;
  }
  if (auto put = options_.store->Put(record); !put.ok()) {
    spdlog::warn("could not record job {}: {}", id, put.ToString());
  }
  ReleasePackage(record);
}

void JobSupervisor::ReleasePackage(const JobRecord& record) {
  if (!options_.release_package || !IsTerminal(record.status) || !record.runtime_env.is_object() ||
      !record.runtime_env.contains("working_dir")) {
    return;
  }
  options_.release_package(record.submission_id,
                           record.runtime_env["working_dir"].get<std::string>());
}

absl::StatusOr<JobRecord> JobSupervisor::Get(const std::string& submission_id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = jobs_.find(submission_id);
    if (it != jobs_.end()) return it->second.record;
  }
  auto stored = options_.store->Get(submission_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return absl::NotFoundError(absl::StrCat("no job with submission id '", submission_id, "'"));
  }
  return **stored;
}

absl::StatusOr<std::vector<JobRecord>> JobSupervisor::List() {
  auto stored = options_.store->List();
  if (!stored.ok()) return stored.status();
  std::lock_guard<std::mutex> lock(mutex_);
  for (JobRecord& record : *stored) {
    auto it = jobs_.find(record.submission_id);
    if (it != jobs_.end()) record = it->second.record;  // fresher than the store
  }
  return stored;
}

absl::StatusOr<bool> JobSupervisor::Stop(const std::string& submission_id) {
  auto job = Get(submission_id);
  if (!job.ok()) return job.status();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = jobs_.find(submission_id);
    if (it == jobs_.end() || IsTerminal(it->second.record.status) || it->second.stop_requested) {
      return false;
    }
    BeginStop(it->second);
  }
  Wake();
  return true;
}

absl::StatusOr<bool> JobSupervisor::Delete(const std::string& submission_id) {
  auto job = Get(submission_id);
  if (!job.ok()) return job.status();
  if (!IsTerminal(job->status)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job '", submission_id, "' is ", std::string(JobStatusName(job->status)),
        "; only a job that ended (SUCCEEDED, FAILED or STOPPED) can be deleted: stop it first"));
  }
  {
    // Under the store's lock, gone from memory first: a Persist of this job (its monitor
    // recording the end) either finished before or finds nothing to write back.
    std::lock_guard<std::mutex> store_lock(store_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.erase(submission_id);
    }
    if (auto deleted = options_.store->Delete(submission_id); !deleted.ok()) return deleted;
  }
  ReleasePackage(*job);
  std::error_code ec;
  fs::remove(LogPath(submission_id), ec);
  return true;
}

absl::StatusOr<std::string> JobSupervisor::Logs(const std::string& submission_id) {
  auto job = Get(submission_id);
  if (!job.ok()) return job.status();
  std::ifstream in(LogPath(submission_id), std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void JobSupervisor::Shutdown() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (shutting_down_ && !monitor_.joinable()) return;
    shutting_down_ = true;
    // Each launch ends with its job started or failed.
    changed_.wait(lock, [this] { return launching_ == 0; });
    for (auto& [id, job] : jobs_) {
      if (!IsTerminal(job.record.status) && !job.stop_requested) BeginStop(job);
    }
  }
  Wake();
  if (monitor_.joinable()) monitor_.join();  // returns once no job runs
  if (wake_fd_ >= 0) close(wake_fd_);
  wake_fd_ = -1;
}

}  // namespace moray::jobs
