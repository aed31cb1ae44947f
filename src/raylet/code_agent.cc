#include "raylet/code_agent.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {

// The package store, answering Cancelled once the agent stops: a preparation waiting for an
// upload ends at its next look instead of holding the raylet's shutdown.
class CodeAgent::StopAwareKv : public runtime_env::KvAccess {
 public:
  StopAwareKv(runtime_env::KvAccess* kv, const std::atomic<bool>* stopped)
      : kv_(kv), stopped_(stopped) {}
  absl::StatusOr<bool> Put(std::string_view ns, std::string_view key, std::string_view value,
                           bool overwrite) override {
    if (auto s = Check(); !s.ok()) return s;
    return kv_->Put(ns, key, value, overwrite);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    if (auto s = Check(); !s.ok()) return s;
    return kv_->Get(ns, key);
  }
  absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key, bool by_prefix) override {
    if (auto s = Check(); !s.ok()) return s;
    return kv_->Del(ns, key, by_prefix);
  }
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns,
                                                std::string_view prefix) override {
    if (auto s = Check(); !s.ok()) return s;
    return kv_->Keys(ns, prefix);
  }

 private:
  absl::Status Check() const {
    if (*stopped_) return absl::CancelledError("the raylet is stopping");
    if (kv_ == nullptr) return absl::UnavailableError("this raylet has no package store");
    return absl::OkStatus();
  }
  runtime_env::KvAccess* kv_;
  const std::atomic<bool>* stopped_;
};

CodeAgent::CodeAgent(rpc::EventLoop* loop, CodeAgentOptions options)
    : loop_(loop), options_(std::move(options)), thread_([this] { Run(); }) {}

CodeAgent::~CodeAgent() {
  *alive_ = false;
  stopped_ = true;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void CodeAgent::Prepare(const JobId& job_id, const proto::JobInfo& job, int driver_pid,
                        absl::Duration timeout, Done done) {
  JobCode& state = jobs_[job_id];
  if (state.ready) {
    loop_->Post([alive = alive_, code = *state.ready, done = std::move(done)] {
      if (*alive) done(code);
    });
    return;
  }
  state.waiters.push_back(std::move(done));
  if (state.waiters.size() > 1) return;  // a preparation is under way: it answers this one too
  const uint64_t generation = state.generation = next_generation_++;
  auto work = [this, job_id, job, driver_pid, timeout, generation] {
    StopAwareKv kv(options_.kv, &stopped_);
    const absl::Time start = absl::Now();
    absl::StatusOr<runtime_env::PreparedCode> code = runtime_env::PrepareJobCode(
        job, kv, options_.cache_dir, driver_pid, timeout, options_.moray_lib_dir);
    if (code.ok()) {
      spdlog::info("code of job {} ready in {}", job_id.Hex(),
                   absl::FormatDuration(absl::Now() - start));
    }
    loop_->Post([this, alive = alive_, job_id, generation, code = std::move(code)]() mutable {
      if (*alive) Finished(job_id, generation, std::move(code));
    });
  };
  // Counted now, not when done: a removal queued by another job's release runs before this
  // preparation, never after it.
  if (!job_hashes_.contains(job_id)) {
    std::vector<std::string>& hashes = job_hashes_[job_id];
    for (const proto::CodeFile& code : job.code()) {
      hashes.push_back(code.hash());
      ++hash_jobs_[code.hash()];
    }
  }
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(work));
}

void CodeAgent::Finished(const JobId& job_id, uint64_t generation,
                         absl::StatusOr<runtime_env::PreparedCode> code) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.generation != generation) return;  // released meanwhile
  std::vector<Done> waiters;
  waiters.swap(it->second.waiters);
  if (code.ok()) {
    it->second.ready = *code;
  } else {
    jobs_.erase(it);  // not kept: the next request tries again
  }
  for (const Done& done : waiters) done(code);
}

void CodeAgent::ReleaseJob(const JobId& job_id) {
  if (auto state = jobs_.find(job_id); state != jobs_.end()) {
    std::vector<Done> waiters;
    waiters.swap(state->second.waiters);
    jobs_.erase(state);
    for (const Done& done : waiters) {
      done(absl::FailedPreconditionError("the job left the node while its code was prepared"));
    }
  }
  auto it = job_hashes_.find(job_id);
  if (it == job_hashes_.end()) return;
  std::vector<std::string> unused;
  for (const std::string& hash : it->second) {
    if (--hash_jobs_[hash] == 0) {
      hash_jobs_.erase(hash);
      unused.push_back(hash);
    }
  }
  job_hashes_.erase(it);
  if (unused.empty()) return;
  // On the agent's thread, after any preparation queued before (which may be writing there).
  absl::MutexLock lock(&mu_);
  queue_.push_back([this, unused = std::move(unused)] {
    for (const std::string& hash : unused) {
      runtime_env::RemoveCachedCode(options_.cache_dir, hash);
      spdlog::info("removed cached code {} (its last job left)", hash);
    }
  });
}

void CodeAgent::Run() {
  while (true) {
    std::function<void()> work;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](CodeAgent* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (stopping_) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

}  // namespace moray::raylet
