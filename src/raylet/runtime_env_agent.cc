#include "raylet/runtime_env_agent.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "runtime_env/runtime_env.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {

namespace fs = std::filesystem;
using runtime_env::RuntimeEnvSpec;

RuntimeEnvAgent::RuntimeEnvAgent(rpc::EventLoop* loop, RuntimeEnvAgentOptions options)
    : loop_(loop),
      options_(std::move(options)),
      code_(std::make_unique<CodeAgent>(
          loop, CodeAgentOptions{.cache_dir = options_.cache_dir,
                                 .kv = options_.package_store,
                                 .moray_lib_dir = options_.moray_lib_dir})) {}

RuntimeEnvAgent::~RuntimeEnvAgent() {
  *alive_ = false;
  for (auto& [hash, entry] : envs_) {
    if (entry.timer != 0) loop_->CancelTimer(entry.timer);
  }
  for (Running& running : threads_) {
    running.cancelled->store(true);
    running.thread.join();
  }
}

absl::StatusOr<PreparedEnv> RuntimeEnvAgent::ProgramOf(const proto::JobInfo& job) const {
  PreparedEnv prepared;
  if (job.code_search_path_size() > 0) {
    if (options_.moray_binary.empty()) {
      return absl::FailedPreconditionError(
          "the job has a code search path but the raylet knows no moray executable");
    }
    prepared.argv = {options_.moray_binary, "worker"};
    prepared.library_paths.assign(job.code_search_path().begin(), job.code_search_path().end());
  } else {
    if (job.driver_binary().empty()) {
      return absl::FailedPreconditionError("the job names no driver binary to run workers from");
    }
    prepared.argv.assign(job.driver_argv().begin(), job.driver_argv().end());
    if (prepared.argv.empty()) prepared.argv.push_back(job.driver_binary());
    prepared.argv[0] = job.driver_binary();  // argv[0] is what we execute
  }
  prepared.program = prepared.argv[0];
  return prepared;
}

proto::Language JobLanguage(const proto::JobInfo& job) {
  return job.python_executable().empty() ? proto::CPP : proto::PYTHON;
}

absl::StatusOr<PreparedEnv> ForLanguage(absl::StatusOr<PreparedEnv> prepared,
                                        const proto::JobInfo& job, proto::Language language) {
  if (!prepared.ok()) return prepared;
  if (language != proto::PYTHON) {
    if (JobLanguage(job) == proto::PYTHON && job.code_search_path_size() == 0) {
      // Its driver is an interpreter running a script: re-running that is no C++ worker.
      return absl::FailedPreconditionError(
          "a C++ task of a Python job needs the job's code_search_path (the libraries that "
          "register its functions); moray.init(job_config=...) names none");
    }
    return prepared;
  }
  std::string python = job.python_executable();
  if (python.empty()) python = RuntimeEnvAgent::DefaultPython();
  if (python.empty()) {
    return absl::FailedPreconditionError(
        "a Python task needs a Python interpreter, but the job's driver named none and this "
        "node has neither MORAY_PYTHON nor python3 on its PATH (a C++ driver calling Python: "
        "docs/python.md, \"Across languages\")");
  }
  prepared->program = python;
  prepared->argv = {python, "-m", "moray._worker"};
  std::vector<std::string> path;
  if (!prepared->cwd.empty()) path.push_back(prepared->cwd);  // working_dir modules import
  for (const std::string& entry : job.python_path()) {
    if (!entry.empty()) path.push_back(entry);
  }
  // As in Ray, the job's code_search_path directories hold Python modules too (a C++ driver's
  // ray::PyFunction names a module there).
  for (const std::string& entry : job.code_search_path()) {
    std::error_code ec;
    if (std::filesystem::is_directory(entry, ec) &&
        std::find(path.begin(), path.end(), entry) == path.end()) {
      path.push_back(entry);
    }
  }
  prepared->env.emplace_back("PYTHONPATH", absl::StrJoin(path, ":"));
  return prepared;
}

std::string RuntimeEnvAgent::DefaultPython() {
  const char* python = std::getenv("MORAY_PYTHON");
  if (python && *python) return python;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "", ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/python3");
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string RuntimeEnvAgent::PackageDir(const std::string& uri) const {
  std::string name = uri;
  if (absl::StartsWith(name, "pkg://")) name = name.substr(6);
  return absl::StrCat(options_.cache_dir, "/pkg/", name);
}

namespace {

// The job's workers run its code from the node cache: `prepared` (from the JobInfo's paths)
// rewritten to the cached copies.
PreparedEnv WithCachedCode(PreparedEnv prepared, const runtime_env::PreparedCode& code) {
  if (!code.program.empty()) {
    if (prepared.argv.empty()) prepared.argv.emplace_back();
    prepared.argv[0] = prepared.program = code.program;
  } else {
    prepared.library_paths = code.library_paths;
  }
  for (const auto& var : code.env) prepared.env.push_back(var);
  return prepared;
}

// The setup timeout of the job's env (JobInfo.runtime_env), for its code.
absl::Duration CodeTimeout(const proto::JobInfo& job) {
  absl::StatusOr<RuntimeEnvSpec> spec = RuntimeEnvSpec::Parse(job.runtime_env().json());
  const int seconds =
      spec.ok() ? spec->SetupTimeoutSeconds() : runtime_env::kDefaultSetupTimeoutSeconds;
  return seconds < 0 ? absl::InfiniteDuration() : absl::Seconds(seconds);
}

}  // namespace

void RuntimeEnvAgent::Prepare(const JobId& job_id, const proto::JobInfo& job,
                              const proto::RuntimeEnvInfo& env, Callback done) {
  if (!NeedsPreparation(job)) {
    PrepareEnv(job_id, job, env, std::move(done));
    return;
  }
  auto driver = local_drivers_.find(job_id);
  const int driver_pid = driver == local_drivers_.end() ? 0 : driver->second;
  code_->Prepare(job_id, job, driver_pid, CodeTimeout(job),
                 [this, alive = alive_, job_id, job, env,
                  done = std::move(done)](const absl::StatusOr<runtime_env::PreparedCode>& code) {
                   if (!*alive) return;
                   if (!code.ok()) {
                     done(runtime_env::SetupFailure(code.status().message()));
                     return;
                   }
                   Callback with_code = [code = *code,
                                         done](const absl::StatusOr<PreparedEnv>& prepared) {
                     if (!prepared.ok()) {
                       done(prepared);
                     } else {
                       done(WithCachedCode(*prepared, code));
                     }
                   };
                   if (env.hash().empty()) {
                     with_code(ProgramOf(job));
                   } else {
                     PrepareEnv(job_id, job, env, std::move(with_code));
                   }
                 });
}

void RuntimeEnvAgent::PrepareEnv(const JobId& job_id, const proto::JobInfo& job,
                                 const proto::RuntimeEnvInfo& env, Callback done) {
  auto [it, added] = envs_.try_emplace(env.hash());
  Entry& entry = it->second;
  entry.jobs.insert(job_id);
  if (entry.ready) {
    loop_->Post([this, alive = alive_, job, parts = entry.parts, done = std::move(done)] {
      if (*alive) Answer(job, parts, done);
    });
    return;
  }
  entry.waiters.emplace_back(job, std::move(done));
  if (!added && entry.cancelled) return;  // a preparation is under way: it answers this one too
  entry.info = env;
  StartPreparation(entry);
}

void RuntimeEnvAgent::StartPreparation(Entry& entry) {
  absl::StatusOr<RuntimeEnvSpec> spec = RuntimeEnvSpec::Parse(entry.info.json());
  const std::string hash = entry.info.hash();
  const uint64_t generation = entry.generation = next_generation_++;
  if (!spec.ok()) {
    loop_->Post([this, alive = alive_, hash, generation, status = spec.status()] {
      if (*alive) Finish(hash, generation, runtime_env::SetupFailure(status.message()));
    });
    entry.cancelled = std::make_shared<std::atomic<bool>>(false);
    return;
  }
  if (spec->working_dir) {
    entry.package_uri = *spec->working_dir;
    ++package_users_[entry.package_uri];
  }
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  entry.cancelled = cancelled;
  const int timeout = spec->SetupTimeoutSeconds();
  if (timeout > 0) {
    entry.timer = loop_->RunAfter(absl::Seconds(timeout), [this, alive = alive_, hash, generation,
                                                           timeout, cancelled] {
      if (!*alive) return;
      cancelled->store(true);
      auto it = envs_.find(hash);
      if (it == envs_.end() || it->second.generation != generation) return;
      it->second.timer = 0;
      std::string what = it->second.package_uri.empty()
                             ? std::string("")
                             : absl::StrCat(" (fetching working_dir ", it->second.package_uri, ")");
      Finish(hash, generation,
             runtime_env::SetupFailure(absl::StrCat("timed out after ", timeout,
                                                    " s (config.setup_timeout_seconds)", what)));
    });
  }
  // Join the preparations that ended; the rest keep running.
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  threads_.push_back(Running{
      std::thread([this, alive = alive_, info = entry.info, hash, generation, cancelled, done] {
        absl::StatusOr<Parts> parts = PrepareParts(info, [cancelled] { return cancelled->load(); });
        loop_->Post([this, alive, hash, generation, parts = std::move(parts)]() mutable {
          if (*alive) Finish(hash, generation, std::move(parts));
        });
        done->store(true);
      }),
      done, cancelled});
}

absl::StatusOr<RuntimeEnvAgent::Parts> RuntimeEnvAgent::PrepareParts(
    const proto::RuntimeEnvInfo& info, const std::function<bool()>& cancelled) const {
  absl::StatusOr<RuntimeEnvSpec> spec = RuntimeEnvSpec::Parse(info.json());
  if (!spec.ok()) return runtime_env::SetupFailure(spec.status().message());
  Parts parts;
  auto getenv = options_.getenv ? options_.getenv
                                : [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  };
  for (const auto& [name, value] : spec->env_vars) {
    parts.env.emplace_back(name, runtime_env::ExpandVars(value, getenv));
  }
  parts.env.emplace_back("MORAY_RUNTIME_ENV", info.json());
  if (spec->working_dir) {
    const std::string& uri = *spec->working_dir;
    if (!absl::StartsWith(uri, "pkg://")) {
      return runtime_env::SetupFailure(
          absl::StrCat("working_dir '", uri, "' is not a package URI (the submitter uploads it)"));
    }
    const std::string dir = PackageDir(uri);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      if (!options_.fetch_package) {
        return runtime_env::SetupFailure("this raylet cannot fetch working_dir packages");
      }
      fs::create_directories(fs::path(dir).parent_path(), ec);
      absl::Status fetched = options_.fetch_package(uri, dir, cancelled);
      if (!fetched.ok()) {
        return runtime_env::SetupFailure(
            absl::StrCat("could not fetch working_dir ", uri, ": ", fetched.message()));
      }
    }
    parts.cwd = dir;
  }
  return parts;
}

void RuntimeEnvAgent::Finish(const std::string& hash, uint64_t generation,
                             absl::StatusOr<Parts> parts) {
  auto it = envs_.find(hash);
  if (it == envs_.end() || it->second.generation != generation || it->second.ready) return;
  Entry& entry = it->second;
  if (entry.timer != 0) {
    loop_->CancelTimer(entry.timer);
    entry.timer = 0;
  }
  std::vector<std::pair<proto::JobInfo, Callback>> waiters;
  waiters.swap(entry.waiters);
  if (!parts.ok()) {
    if (entry.cancelled) entry.cancelled->store(true);
    spdlog::warn("runtime env {}: {}", hash, std::string(parts.status().message()));
    // Not cached: the entry goes, and the next request prepares again.
    const std::string uri = entry.package_uri;
    envs_.erase(it);
    if (!uri.empty() && --package_users_[uri] == 0) package_users_.erase(uri);
    for (auto& [job, done] : waiters) done(parts.status());
    return;
  }
  entry.ready = true;
  entry.parts = *std::move(parts);
  spdlog::info("runtime env {} prepared{}", hash,
               entry.parts.cwd.empty() ? "" : absl::StrCat(" in ", entry.parts.cwd));
  for (auto& [job, done] : waiters) Answer(job, entry.parts, done);
}

void RuntimeEnvAgent::Answer(const proto::JobInfo& job, const Parts& parts,
                             const Callback& done) const {
  absl::StatusOr<PreparedEnv> prepared = ProgramOf(job);
  if (prepared.ok()) {
    prepared->cwd = parts.cwd;
    prepared->env = parts.env;
  }
  done(prepared);
}

void RuntimeEnvAgent::AddWorker(const std::string& env_hash) {
  if (env_hash.empty()) return;
  auto it = envs_.find(env_hash);
  if (it != envs_.end()) ++it->second.workers;
}

void RuntimeEnvAgent::RemoveWorker(const std::string& env_hash) {
  auto it = envs_.find(env_hash);
  if (it == envs_.end() || it->second.workers == 0) return;
  --it->second.workers;
  MaybeRelease(env_hash);
}

void RuntimeEnvAgent::RemoveJob(const JobId& job_id) {
  local_drivers_.erase(job_id);
  code_->ReleaseJob(job_id);
  std::vector<std::string> touched;
  for (auto& [hash, entry] : envs_) {
    if (entry.jobs.erase(job_id) > 0) touched.push_back(hash);
  }
  for (const std::string& hash : touched) MaybeRelease(hash);
}

void RuntimeEnvAgent::MaybeRelease(const std::string& hash) {
  auto it = envs_.find(hash);
  if (it == envs_.end()) return;
  Entry& entry = it->second;
  if (!entry.jobs.empty() || entry.workers > 0) return;
  if (!entry.ready) {
    // Still preparing for nobody: stop it; its waiters (none left that care) are answered.
    if (entry.cancelled) entry.cancelled->store(true);
  }
  if (entry.timer != 0) loop_->CancelTimer(entry.timer);
  std::vector<std::pair<proto::JobInfo, Callback>> waiters;
  waiters.swap(entry.waiters);
  const std::string uri = entry.package_uri;
  envs_.erase(it);
  for (auto& [job, done] : waiters) {
    done(runtime_env::SetupFailure("the job left the node while its env was being prepared"));
  }
  if (uri.empty() || --package_users_[uri] > 0) return;
  package_users_.erase(uri);
  const std::string dir = PackageDir(uri);
  std::error_code ec;
  fs::remove_all(dir, ec);
  spdlog::info("runtime env {} unused: deleted {}{}", hash, dir,
               ec ? absl::StrCat(" (", ec.message(), ")") : "");
}

}  // namespace moray::raylet
