// Connecting a process to a cluster (cluster_runtime.h): a driver — to the cluster its config
// names, or a private one it starts — or a worker a raylet started; each ends with the cluster
// runtime (cluster_runtime.cc) installed or returned.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/cluster_runtime.h"
#include "api/cluster_runtime_parts.h"
#include "api/runtime_slot.h"
#include "api/task_execution.h"
#include "common/logging.h"
#include "common/session.h"
#include "ray/api/ray_exception.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"
#include "spdlog/spdlog.h"

namespace moray::api {
namespace {

using ray::internal::Buffer;

std::vector<std::string> ReadCmdline() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  std::string arg;
  while (std::getline(in, arg, '\0')) argv.push_back(arg);
  return argv;
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// MORAY_MAX_TASKS_IN_FLIGHT_PER_WORKER (a whole number >= 1): how many short tasks this process,
// as an owner, pipelines to one leased worker (SubmitterOptions; Ray's default is 1). Read here
// once per process; the processes of a cluster a driver starts inherit its environment.
absl::Status ApplySubmitterEnv(core::SubmitterOptions* options) {
  constexpr const char* kVar = "MORAY_MAX_TASKS_IN_FLIGHT_PER_WORKER";
  std::string value = EnvOr(kVar);
  if (value.empty()) return absl::OkStatus();
  int n = 0;
  if (!absl::SimpleAtoi(value, &n) || n < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(kVar, " must be a whole number of at least 1, not '", value, "'"));
  }
  options->max_tasks_in_flight_per_worker = n;
  return absl::OkStatus();
}

// Finds the raylet on this machine in the cluster whose GCS is at `gcs_address`.
absl::StatusOr<std::pair<std::string, int>> FindLocalRaylet(const std::string& gcs_address) {
  auto gcs = gcs::GcsClient::Connect(gcs_address, absl::Seconds(5));
  if (!gcs.ok()) return gcs.status();
  auto nodes = (*gcs)->GetAllNodes();
  if (!nodes.ok()) return nodes.status();
  std::string host;
  if (auto s = ParseHostPort(gcs_address, &host, nullptr); !s.ok()) return s;
  const proto::NodeInfo* best = nullptr;
  for (const auto& node : *nodes) {
    if (node.state() != proto::NODE_ALIVE) continue;
    bool local = node.node_ip() == host || node.node_ip() == "127.0.0.1";
    if (!local) continue;
    if (!best || (node.is_head_node() && !best->is_head_node())) best = &node;
  }
  if (!best) {
    return absl::NotFoundError(absl::StrCat("the cluster at ", gcs_address,
                                            " has no live raylet on this machine; start one with "
                                            "`moray start --address=",
                                            gcs_address, "`"));
  }
  return std::make_pair(best->node_ip(), best->raylet_port());
}

rpc::AuthConfig AuthOrThrow(absl::StatusOr<rpc::AuthConfig> auth, const char* context) {
  if (!auth.ok()) throw ray::internal::RayException(absl::StrCat(context, auth.status().message()));
  return *std::move(auth);
}

// The job's env: RayConfig::runtime_env (or --ray_runtime_env) over MORAY_JOB_RUNTIME_ENV,
// validated before any cluster starts. RayRuntimeEnvException when it is not valid.
runtime_env::RuntimeEnvSpec JobEnvOrThrow(const ray::RayConfig& config) {
  absl::StatusOr<runtime_env::RuntimeEnvSpec> job = JobEnvOf(
      EnvOr("MORAY_JOB_RUNTIME_ENV"), config.runtime_env ? config.runtime_env->Serialize() : "");
  if (!job.ok()) {
    throw ray::internal::RayRuntimeEnvException(
        absl::StrCat("the job's runtime env: ", job.status().message()));
  }
  return *std::move(job);
}

std::unique_ptr<ray::internal::RayRuntime> CreateDriver(const ray::RayConfig& config,
                                                        const DriverIdentity& identity) {
  const bool python = !identity.python_executable.empty();
  InitLogging("driver", "");
  runtime_env::RuntimeEnvSpec job_env = JobEnvOrThrow(config);  // before any cluster starts
  core::SubmitterOptions submitter;
  if (auto s = ApplySubmitterEnv(&submitter); !s.ok()) {
    throw ray::internal::RayException(std::string(s.message()));
  }
  std::optional<StartedHead> embedded;
  std::string gcs_address;
  std::string raylet_host;
  int raylet_port = 0;
  std::string address = config.address.empty() ? EnvOr("RAY_ADDRESS") : config.address;
  if (address.empty()) {
    HeadOptions head;
    if (auto s = ParseHeadArgs(config.head_args, &head); !s.ok()) {
      throw ray::internal::RayException(std::string(s.message()));
    }
    head.owner_pid = getpid();
    // No setup needed: without a token anywhere, one is made in ~/.ray/auth_token (as by
    // `moray start --head`), so the CLI of this user reaches this cluster too.
    bool created = false;
    rpc::AuthConfig auth =
        AuthOrThrow(rpc::EnsureAuthToken(&created), "could not start a local Moray cluster: ");
    if (created) spdlog::info("created a cluster auth token in {} (mode 0600)", auth.source);
    head.service_env = rpc::AuthEnvironment(auth);
    rpc::SetProcessAuth(std::move(auth));
    rpc::SetProcessRole(proto::ROLE_DRIVER);
    auto started = StartHead(head);
    if (!started.ok()) {
      throw ray::internal::RayException(
          absl::StrCat("could not start a local Moray cluster: ", started.status().message()));
    }
    embedded = *started;
    gcs_address = started->gcs_address;
    raylet_host = started->raylet_host;
    raylet_port = started->raylet_port;
    // Owned by this process: `auto` stops meaning this cluster once the driver is gone, however
    // it ends (a SIGKILLed driver clears nothing).
    (void)WriteCurrentCluster(gcs_address, getpid());
  } else {
    rpc::SetProcessAuth(AuthOrThrow(rpc::LoadAuthConfig(), "cannot connect to a Moray cluster: "));
    rpc::SetProcessRole(proto::ROLE_DRIVER);
    auto resolved = ResolveGcsAddress(address);
    if (!resolved.ok()) throw ray::internal::RayException(std::string(resolved.status().message()));
    gcs_address = *resolved;
    auto raylet = FindLocalRaylet(gcs_address);
    if (!raylet.ok()) {
      std::string context = address == "auto"
                                ? absl::StrCat("address 'auto' means the cluster at ", gcs_address,
                                               " (recorded in ", CurrentClusterFile(), "): ")
                                : "";
      throw ray::internal::RayException(absl::StrCat(context, raylet.status().message()));
    }
    raylet_host = raylet->first;
    raylet_port = raylet->second;
  }

  // The job env's working_dir is uploaded now (its reference moves to the job once registered),
  // so the job's info names the package and the driver's raylet can prepare it eagerly.
  auto uploader = std::make_shared<PackageUploader>(gcs_address, JobId());
  RuntimeEnvResolver::PackFn pack = PackageUploader::AsPackFn(uploader);
  absl::StatusOr<runtime_env::RuntimeEnvSpec> resolved_env =
      RuntimeEnvResolver(runtime_env::RuntimeEnvSpec{}, pack).ResolvePaths(std::move(job_env));
  if (!resolved_env.ok()) {
    if (embedded) StopEmbeddedCluster(*embedded, absl::Seconds(5));
    throw ray::internal::RayRuntimeEnvException(
        absl::StrCat("the job's runtime env: ", resolved_env.status().message()));
  }
  const std::string job_package = resolved_env->working_dir.value_or("");
  auto envs = std::make_unique<RuntimeEnvResolver>(*std::move(resolved_env), pack);

  core::CoreWorkerOptions options;
  options.submitter = submitter;
  options.is_driver = true;
  options.log_to_driver = config.log_to_driver;
  options.raylet_host = raylet_host;
  options.raylet_port = raylet_port;
  options.node_ip = raylet_host;
  auto* job = &options.job;
  job->set_driver_pid(getpid());
  job->set_driver_ip(raylet_host);
  ActorDefaults defaults;
  // Without a namespace, each job gets an anonymous one of its own (as in Ray).
  defaults.ray_namespace =
      config.ray_namespace.empty() ? ToHex(RandomBytes(16)) : config.ray_namespace;
  defaults.detached = config.default_actor_lifetime == ray::ActorLifetime::DETACHED;
  job->set_ray_namespace(defaults.ray_namespace);
  job->set_driver_binary(SelfExe());
  for (const auto& arg : ReadCmdline()) job->add_driver_argv(arg);
  if (python) {
    job->set_python_executable(identity.python_executable);
    for (const auto& entry : identity.python_path) job->add_python_path(entry);
  } else {
    // For ray::PyFunction and ray::PyActorClass: the interpreter is the node's
    // (RuntimeEnvAgent::DefaultPython); sys.path gets this driver's PYTHONPATH.
    for (absl::string_view entry : absl::StrSplit(EnvOr("PYTHONPATH"), ':', absl::SkipEmpty())) {
      std::error_code ec;
      std::filesystem::path absolute = std::filesystem::absolute(std::string(entry), ec);
      job->add_python_path(ec ? std::string(entry) : absolute.lexically_normal().string());
    }
  }
  // Workers start in the raylet's working directory, not the driver's: relative paths are the
  // driver's to resolve.
  for (const auto& path : config.code_search_path) {
    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    job->add_code_search_path(ec ? path : absolute.lexically_normal().string());
  }
  // The code as content: raylets run workers from their cache copies of it (code_upload.h).
  // A Python driver's executable is the interpreter, which its workers run as they find it.
  if (!python || job->code_search_path_size() > 0) {
    for (proto::CodeFile& file :
         DescribeDriverCode({job->code_search_path().begin(), job->code_search_path().end()})) {
      if (python && file.kind() == proto::CodeFile::EXECUTABLE) continue;
      *job->add_code() = std::move(file);
    }
  }
  const std::vector<proto::CodeFile> code(job->code().begin(), job->code().end());
  job->set_entrypoint(absl::StrJoin(ReadCmdline(), " "));
  if (envs->base()) *job->mutable_runtime_env() = *envs->base();
  auto worker = core::CoreWorker::Create(std::move(options));
  if (!worker.ok()) {
    if (absl::Status s = uploader->Abandon(job_package); !s.ok()) {
      spdlog::warn("could not drop the reference to the job's working_dir package: {}",
                   s.ToString());
    }
    if (embedded) StopEmbeddedCluster(*embedded, absl::Seconds(5));
    throw ray::internal::RayException(absl::StrCat("could not connect to the Moray cluster at ",
                                                   gcs_address, ": ", worker.status().message()));
  }
  if (absl::Status s = uploader->AdoptForJob((*worker)->context().job_id, job_package); !s.ok()) {
    spdlog::warn("could not reference the job's working_dir package for the job: {}", s.ToString());
  }
  absl::StatusOr<std::unique_ptr<CodeUpload>> upload =
      CodeUpload::Start((*worker)->gcs_address(), (*worker)->context().job_id, code);
  // Made before a failed upload throws, so that its destructor stops what was started.
  auto runtime = MakeClusterRuntime({.worker = std::move(*worker),
                                     .embedded = std::move(embedded),
                                     .defaults = std::move(defaults),
                                     .envs = std::move(envs),
                                     .code_upload = upload.ok() ? *std::move(upload) : nullptr});
  if (!upload.ok()) {
    throw ray::internal::RayException(
        absl::StrCat("could not ship this driver's code: ", upload.status().message()));
  }
  return runtime;
}

}  // namespace

bool IsWorkerProcess() { return EnvOr("MORAY_WORKER_MODE") == "1"; }

void RunWorkerProcess() {
  // stdout goes to the raylet's log agent through a pipe: line by line (as on a terminal), so
  // a task's line reaches its file and the driver when printed, not when 4 KiB have piled up.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int code = ServeAsWorker(&ExecuteRegistered);
  std::fflush(nullptr);
  // Skip the user program's static destructors: this process only ever ran tasks.
  std::_Exit(code);
}

int ServeAsWorker(const core::TaskExecutor::ExecuteFn& execute,
                  const core::TaskExecutor::CancelHook& on_cancel) {
  InitLogging("worker", "");
  core::CoreWorkerOptions options;
  options.is_driver = false;
  if (auto s = ApplySubmitterEnv(&options.submitter); !s.ok()) {
    std::fprintf(stderr, "moray worker: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  // The raylet put the cluster's auth in this process's environment (rpc::AuthEnvironment).
  absl::StatusOr<rpc::AuthConfig> auth = rpc::LoadAuthConfig();
  if (!auth.ok()) {
    std::fprintf(stderr, "moray worker: %s\n", std::string(auth.status().message()).c_str());
    return 2;
  }
  rpc::SetProcessAuth(*std::move(auth));
  rpc::SetProcessRole(proto::ROLE_WORKER);
  std::string raylet = EnvOr("MORAY_RAYLET_ADDRESS");
  if (auto s = ParseHostPort(raylet, &options.raylet_host, &options.raylet_port); !s.ok()) {
    std::fprintf(stderr, "moray worker: bad MORAY_RAYLET_ADDRESS: %s\n", s.ToString().c_str());
    return 2;
  }
  options.node_ip = EnvOr("MORAY_NODE_IP", options.raylet_host);
  const std::optional<WorkerId> worker_id = WorkerId::FromHex(EnvOr("MORAY_WORKER_ID"));
  const std::optional<JobId> job_id = JobId::FromHex(EnvOr("MORAY_JOB_ID"));
  if (!worker_id || worker_id->IsNil() || !job_id || job_id->IsNil()) {
    std::fprintf(stderr, "moray worker: MORAY_WORKER_ID and MORAY_JOB_ID must be ids in hex\n");
    return 2;
  }
  options.worker_id = *worker_id;
  options.job_id = *job_id;
  // A running task that is cancelled throws at its next runtime call (task_cancel.h).
  auto cancelled = std::make_shared<CancelledTasks>();
  options.on_cancel_running = [cancelled, on_cancel](const TaskId& task_id) {
    cancelled->Mark(task_id);
    if (on_cancel) on_cancel(task_id);
  };
  auto worker = core::CoreWorker::Create(std::move(options));
  if (!worker.ok()) {
    std::fprintf(stderr, "moray worker: %s\n", worker.status().ToString().c_str());
    return 1;
  }
  ActorDefaults defaults;
  defaults.ray_namespace = EnvOr("MORAY_NAMESPACE");
  // The env this worker runs in (its raylet's MORAY_RUNTIME_ENV): what its submissions inherit.
  absl::StatusOr<runtime_env::RuntimeEnvSpec> own_env =
      runtime_env::RuntimeEnvSpec::Parse(EnvOr("MORAY_RUNTIME_ENV"));
  if (!own_env.ok()) {
    std::fprintf(stderr, "moray worker: MORAY_RUNTIME_ENV: %s\n",
                 own_env.status().ToString().c_str());
    return 2;
  }
  core::CoreWorker& core = **worker;
  InstallRuntime(MakeClusterRuntime(
      {.worker = std::move(*worker),
       .defaults = defaults,
       .envs = std::make_unique<RuntimeEnvResolver>(
           *std::move(own_env), PackageUploader::AsPackFn(std::make_shared<PackageUploader>(
                                    EnvOr("MORAY_GCS_ADDRESS"), *job_id))),
       .cancelled = cancelled}));
  core.RunTaskLoop([cancelled, execute](const proto::TaskSpec& spec,
                                        const std::vector<std::shared_ptr<Buffer>>& args) {
    const TaskId task_id = TaskId::FromBinary(spec.task_id());
    core::TaskResult result;
    if (cancelled->Contains(task_id)) {
      // Cancelled before its code started (while its arguments were fetched).
      result.error.set_type(proto::TASK_CANCELLED);
      result.error.set_message("cancelled before it started");
    } else {
      result = execute(spec, args);
    }
    cancelled->Forget(task_id);
    return result;
  });
  // Say goodbye, but destroy nothing: an actor's other threads may still be inside user code,
  // and the process ends soon anyway.
  core.Shutdown();
  return 0;
}

std::unique_ptr<ray::internal::RayRuntime> CreateClusterRuntime(const ray::RayConfig& config) {
  if (IsWorkerProcess()) RunWorkerProcess();
  return CreateDriver(config, DriverIdentity{});
}

std::unique_ptr<ray::internal::RayRuntime> CreateDriverRuntime(const ray::RayConfig& config,
                                                               const DriverIdentity& identity) {
  return CreateDriver(config, identity);
}

}  // namespace moray::api
