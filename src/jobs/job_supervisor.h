// Runs submitted jobs on the head node (the dashboard process): each entrypoint is
// `/bin/sh -c <entrypoint>` in a new session (its own process group), with the job's env vars,
// RAY_ADDRESS (the GCS), MORAY_JOB_RUNTIME_ENV (the job's runtime env as JSON, which ray::Init
// takes as the job's env), MORAY_JOB_SUBMISSION_ID and MORAY_JOB_MARKER=<gcs address>/<id> (the
// marker by which stop finds processes that left the tree; it names the cluster, so a job of
// another cluster on the machine with the same id is never touched); cwd is the job's unpacked
// working_dir, else the supervisor's; stdin is /dev/null; stdout and stderr go to
// <session>/logs/job-driver-<submission id>.log.
//
// States PENDING (accepted; the working dir is being prepared) -> RUNNING -> SUCCEEDED (exit 0) |
// FAILED (other exit code, a signal, or a failed start) | STOPPED (Stop). Every change is
// written to the JobStore, so a later dashboard still reads finished jobs; records of jobs that
// were not finished when their dashboard went away become FAILED at the next start (Recover).
//
// Stop sends SIGTERM to the entrypoint's group, its descendants and every process carrying the
// job's marker, and SIGKILL to those left after `stop_grace`; the job is STOPPED once the
// entrypoint has exited and none of them runs (or the SIGKILL went out).
//
//   JobSupervisor supervisor({.session_dir = dir, .gcs_address = "127.0.0.1:6379",
//                             .store = &store, .prepare_working_dir = ...});
//   supervisor.Recover();
//   absl::StatusOr<std::string> id = supervisor.Submit({.entrypoint = "echo hi"});
//   supervisor.Stop(*id);
//   supervisor.Shutdown();   // stops every running job, then the monitor thread
//
// Threads: a monitor thread waits (poll) on a pidfd per running entrypoint and on the stop
// deadlines, and reaps; each submission prepares and starts on a thread of its own; every public
// method is thread-safe (the HTTP server calls them from its pool).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "jobs/job_record.h"
#include "jobs/job_store.h"
#include "jobs/process_tree.h"
#include "nlohmann/json.hpp"

namespace moray::jobs {

struct JobSupervisorOptions {
  std::string session_dir;    // logs go to <session_dir>/logs
  std::string gcs_address;    // RAY_ADDRESS of every entrypoint
  JobStore* store = nullptr;  // borrowed; must outlive the supervisor
  // A pkg:// working_dir to a local directory holding its files (downloaded and unpacked once).
  // Unset: a job with a working_dir fails to start, saying so.
  std::function<absl::StatusOr<std::string>(const std::string& uri)> prepare_working_dir;
  // The cluster's total CPUs (alive nodes), to refuse an entrypoint_num_cpus no node set has.
  // Unset: not checked.
  std::function<absl::StatusOr<double>()> cluster_cpus;
  // The submission's own ref to its pkg:// working_dir (runtime_env::SubmissionRefOwner), so the
  // package outlives its uploader's pending ref and the driver's job ref: `hold_package` records
  // it when the job is accepted (its error refuses the job); `release_package` drops it once the
  // job has ended, also for a record Recover fails, and again at Delete (both idempotent).
  // Unset: no ref.
  std::function<absl::Status(const std::string& submission_id, const std::string& uri)>
      hold_package;
  std::function<void(const std::string& submission_id, const std::string& uri)> release_package;
  std::string default_cwd;                       // empty: the supervisor's current directory
  absl::Duration stop_grace = absl::Seconds(3);  // SIGTERM to SIGKILL
};

struct SubmitRequest {
  std::string entrypoint;
  std::string submission_id;  // empty: NewSubmissionId()
  nlohmann::json runtime_env = nlohmann::json::object();
  nlohmann::json metadata = nlohmann::json::object();
  double entrypoint_num_cpus = 0;
};

class JobSupervisor {
 public:
  explicit JobSupervisor(JobSupervisorOptions options);
  ~JobSupervisor();  // Shutdown()
  JobSupervisor(const JobSupervisor&) = delete;
  JobSupervisor& operator=(const JobSupervisor&) = delete;

  // Marks the stored records that are not terminal (their supervisor is gone) FAILED.
  absl::Status Recover();

  // Accepts a job (PENDING) and starts it in the background; returns its submission id.
  // InvalidArgument: empty entrypoint, bad submission id, unsupported or malformed runtime env
  // or metadata, entrypoint_num_cpus negative or above the cluster's CPUs. AlreadyExists: the
  // submission id is taken. The store's errors.
  absl::StatusOr<std::string> Submit(SubmitRequest request);

  // NotFound for an unknown submission id.
  absl::StatusOr<JobRecord> Get(const std::string& submission_id);
  absl::StatusOr<std::vector<JobRecord>> List();
  // True if the job was running or pending and is now being stopped; false if it had ended.
  absl::StatusOr<bool> Stop(const std::string& submission_id);
  // Deletes a terminal job's record and log. FailedPrecondition while it has not ended.
  absl::StatusOr<bool> Delete(const std::string& submission_id);

  // <session>/logs/job-driver-<id>.log (may not exist yet).
  std::string LogPath(const std::string& submission_id) const;
  // The whole log so far ("" before the entrypoint starts). NotFound for an unknown id.
  absl::StatusOr<std::string> Logs(const std::string& submission_id);

  // Stops every job still running (waiting up to stop_grace + 1 s) and the monitor thread.
  // Idempotent.
  void Shutdown();

 private:
  struct Job {
    JobRecord record;
    pid_t pid = -1;  // the entrypoint (sh), once started
    int pidfd = -1;
    bool stop_requested = false;
    bool leader_exited = false;
    int wait_status = 0;
    std::vector<ProcessRef> stopping;  // processes signalled by Stop
    absl::Time kill_at = absl::InfiniteFuture();
  };

  void Launch(const std::string& id);
  // Builds the entrypoint's environment and forks it; fills pid and pidfd.
  absl::Status Spawn(const std::string& id, const std::string& cwd);
  void MonitorLoop();
  void Wake();
  // Under mutex_: the job's stop procedure's first step.
  void BeginStop(Job& job);
  // Under mutex_: the job's final state from how its entrypoint ended.
  void Finish(Job& job);
  // Calls release_package for a terminal record with a working_dir.
  void ReleasePackage(const JobRecord& record);
  // Writes the job's current record to the store (the latest state wins whatever the order of
  // calls, since each writes what is current when it holds store_mutex_).
  void Persist(const std::string& id);

  JobSupervisorOptions options_;
  std::mutex store_mutex_;  // serialises Persist
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Job> jobs_;  // every job this supervisor accepted
  int launching_ = 0;                // Launch threads (detached) not yet done
  bool shutting_down_ = false;
  int wake_fd_ = -1;  // eventfd: the monitor re-reads its work
  std::thread monitor_;
};

}  // namespace moray::jobs
