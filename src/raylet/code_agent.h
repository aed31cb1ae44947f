// CodeAgent: the shipped-code step of the RuntimeEnvAgent (runtime_env_agent.h). Brings each
// job's code (JobInfo.code) into the node cache off the event loop, once per job, so the job's
// workers start from the cache (runtime_env/code_cache.h), and deletes a job's cached files when
// the last job using them leaves the node.
//
//   CodeAgent agent(&loop, {.cache_dir = cache, .kv = gcs->PackageStore()});
//   agent.Prepare(job_id, job_info, driver_pid, absl::Minutes(10),
//                 [](const absl::StatusOr<PreparedCode>& code) { ... });
//   agent.ReleaseJob(job_id);  // the job left this node
//
// Concurrent Prepare calls for one job share one preparation; a success is kept until the job is
// released, a failure is not (the next Prepare tries again).
//
// Thread model: Prepare and ReleaseJob on the event loop thread; the preparations run in order on
// the agent's own thread; `done` runs on the loop. Destruction (on the loop) cancels a wait for an
// upload and joins the thread; callbacks not run by then never run.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "rpc/event_loop.h"
#include "runtime_env/code_cache.h"

namespace moray::raylet {

struct CodeAgentOptions {
  std::string cache_dir;                // the node cache (<session>/runtime_resources)
  runtime_env::KvAccess* kv = nullptr;  // the package store (thread-safe; outlives the agent)
  std::string moray_lib_dir;            // where this raylet's libmoray is (MorayLibraryDir)
};

class CodeAgent {
 public:
  using Done = std::function<void(const absl::StatusOr<runtime_env::PreparedCode>&)>;

  // `loop` must outlive this object.
  CodeAgent(rpc::EventLoop* loop, CodeAgentOptions options);
  ~CodeAgent();

  // Makes the job's code present in the cache (within `timeout`); `done` (on the loop) gets the
  // paths, or the error. `driver_pid` > 0: the job's driver runs on this node (its
  // /proc/<pid>/exe is a source).
  void Prepare(const JobId& job_id, const proto::JobInfo& job, int driver_pid,
               absl::Duration timeout, Done done);
  // The job left: waiters get FailedPrecondition; its cache entries that no other job here uses
  // are deleted.
  void ReleaseJob(const JobId& job_id);

 private:
  class StopAwareKv;
  struct JobCode {
    std::optional<runtime_env::PreparedCode> ready;
    std::vector<Done> waiters;
    uint64_t generation = 0;  // tells a released job's late result from a new preparation's
  };
  void Finished(const JobId& job_id, uint64_t generation,
                absl::StatusOr<runtime_env::PreparedCode> code);
  void Run();

  rpc::EventLoop* const loop_;
  const CodeAgentOptions options_;
  // Loop thread only: the hashes each job here uses, and how many jobs use each hash.
  std::map<JobId, std::vector<std::string>> job_hashes_;
  std::map<std::string, int> hash_jobs_;
  std::map<JobId, JobCode> jobs_;
  uint64_t next_generation_ = 1;

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stopped_{false};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // checked by posted callbacks
  std::thread thread_;
};

}  // namespace moray::raylet
