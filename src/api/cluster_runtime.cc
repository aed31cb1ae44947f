#include "api/cluster_runtime.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <variant>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/actor_exit.h"
#include "api/cluster_placement_groups.h"
#include "api/code_upload.h"
#include "api/runtime_env_resolver.h"
#include "api/runtime_slot.h"
#include "api/task_cancel.h"
#include "api/task_error.h"
#include "api/task_execution.h"
#include "common/head_launcher.h"
#include "common/id.h"
#include "common/logging.h"
#include "common/session.h"
#include "core_worker/core_worker.h"
#include "gcs/gcs_client.h"
#include "ray/api/function_manager.h"
#include "ray/api/ray_exception.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"
#include "scheduling/label_selector.h"
#include "spdlog/spdlog.h"

namespace moray::api {
namespace {

using ray::internal::Buffer;

[[noreturn]] void ThrowFor(const proto::ErrorInfo& error) {
  const std::string& m = error.message();
  switch (error.type()) {
    case proto::TASK_EXECUTION_EXCEPTION:
      throw ray::internal::RayTaskException(m);
    case proto::WORKER_DIED:
      throw ray::internal::RayWorkerException(m);
    case proto::OBJECT_UNRECONSTRUCTABLE:
      throw ray::internal::UnreconstructableException(m);
    case proto::FUNCTION_NOT_FOUND:
      throw ray::internal::RayFunctionNotFound(m);
    case proto::ACTOR_DIED:
      throw ray::internal::RayActorException(m);
    case proto::RUNTIME_ENV_SETUP_FAILED:
      throw ray::internal::RayRuntimeEnvException(m);
    case proto::TASK_CANCELLED:
      throw ray::internal::TaskCancelledException(m);
    default:
      throw ray::internal::RayException(m.empty() ? proto::ErrorType_Name(error.type()) : m);
  }
}

// The public API carries ids as their bytes: an object's (20), or an actor's (16), whose handles
// are counted under ActorHandleId.
ObjectId RefIdOf(const std::string& id) {
  if (id.size() == ActorId::kSize) return ActorHandleId(ActorId::FromBinary(id));
  return ObjectId::FromBinary(id);
}

std::vector<ObjectId> ObjectIdsOf(const std::vector<std::string>& ids) {
  std::vector<ObjectId> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(ObjectId::FromBinary(id));
  return out;
}

absl::Duration TimeoutOf(int timeout_ms) {
  return timeout_ms < 0 ? absl::InfiniteDuration() : absl::Milliseconds(timeout_ms);
}

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

std::string EnvOr(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value ? value : fallback;
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

void AddArgs(std::vector<ray::internal::TaskArgument>& args, proto::TaskSpec* spec) {
  spec->mutable_args()->Reserve(static_cast<int>(args.size()));
  for (auto& arg : args) {
    auto* out = spec->add_args();
    out->set_is_ref(arg.is_ref);
    if (arg.is_ref) {
      out->set_object_id(std::move(arg.object_id));
    } else {
      out->set_value(std::move(arg.value));
    }
  }
}

// The proto form of a public scheduling strategy or placement group (the templates refused
// both at once); RayException for a malformed node id.
proto::SchedulingStrategy ToProto(const ray::SchedulingStrategy& strategy,
                                  const ray::internal::PlacementOptions& placement) {
  proto::SchedulingStrategy out;
  if (!placement.group_id.empty()) {
    out.set_kind(proto::SchedulingStrategy::PLACEMENT_GROUP);
    out.set_placement_group_id(
        PlacementGroupId::FromHex(placement.group_id).value_or(PlacementGroupId()).Binary());
    out.set_bundle_index(placement.bundle_index);
    out.set_capture_child_tasks(placement.capture_child_tasks);
  } else if (std::holds_alternative<ray::SpreadSchedulingStrategy>(strategy)) {
    out.set_kind(proto::SchedulingStrategy::SPREAD);
  } else if (const auto* affinity = std::get_if<ray::NodeAffinitySchedulingStrategy>(&strategy)) {
    const std::optional<NodeId> node_id = NodeId::FromHex(affinity->node_id);
    if (!node_id || node_id->IsNil()) {
      throw ray::internal::RayException(absl::StrCat("NodeAffinitySchedulingStrategy: '",
                                                     affinity->node_id, "' is not a node id (",
                                                     2 * NodeId::kSize,
                                                     " hex digits, as ray::Nodes() "
                                                     "gives them)"));
    }
    out.set_kind(proto::SchedulingStrategy::NODE_AFFINITY);
    out.set_node_id(node_id->Binary());
    out.set_soft(affinity->soft);
  } else if (const auto* labels = std::get_if<ray::NodeLabelSchedulingStrategy>(&strategy)) {
    out.mutable_label_selector()->insert(labels->hard.begin(), labels->hard.end());
    if (auto valid = scheduling::ValidateLabelSelector(out.label_selector()); !valid.ok()) {
      throw ray::internal::RayException(
          absl::StrCat("NodeLabelSchedulingStrategy: ", valid.message()));
    }
  }
  return out;
}

// Defaults a process applies to the actors it creates.
struct ActorDefaults {
  std::string ray_namespace;  // the job's
  bool detached = false;      // RayConfig::default_actor_lifetime
};

class ClusterRuntime final : public ray::internal::RayRuntime {
 public:
  // `cancelled`: the tasks of this worker process cancelled while they ran (null in a driver).
  ClusterRuntime(std::unique_ptr<core::CoreWorker> worker, std::optional<StartedHead> embedded,
                 ActorDefaults defaults, std::unique_ptr<RuntimeEnvResolver> envs,
                 std::shared_ptr<CancelledTasks> cancelled = nullptr)
      : worker_(std::move(worker)),
        cancelled_(std::move(cancelled)),
        embedded_(std::move(embedded)),
        defaults_(std::move(defaults)),
        envs_(std::move(envs)),
        placement_groups_([this]() -> gcs::GcsClient& { return Gcs(); }, worker_->context().job_id,
                          defaults_.ray_namespace) {}

  ~ClusterRuntime() override {
    code_upload_.reset();  // before the cluster it uploads to stops
    worker_->Shutdown();
    worker_.reset();
    if (embedded_) {
      ClearCurrentCluster(embedded_->gcs_address);
      StopProcesses({embedded_->raylet_pid, embedded_->gcs_pid}, absl::Seconds(10));
    }
  }

  core::CoreWorker& worker() { return *worker_; }

  // This process's client of the GCS, connected on first use (the core worker's connection is
  // its own); thread-safe, and calls on it are not serialized here. RayException if unreachable.
  gcs::GcsClient& Gcs() {
    std::lock_guard<std::mutex> lock(gcs_mutex_);
    if (!gcs_) {
      auto client = gcs::GcsClient::Connect(worker_->gcs_address(), absl::Seconds(5));
      if (!client.ok()) {
        throw ray::internal::RayException(absl::StrCat(
            "cannot reach the GCS at ", worker_->gcs_address(), ": ", client.status().message()));
      }
      gcs_ = std::move(*client);
    }
    return *gcs_;
  }
  // The driver's code shipping (its executable's background upload), stopped at shutdown.
  void set_code_upload(std::unique_ptr<CodeUpload> upload) { code_upload_ = std::move(upload); }
  void ResolveRuntimeEnv(const std::string& env_json, proto::TaskSpec* spec) {
    SetRuntimeEnv(env_json, spec);
  }

  std::string Put(std::string data) override {
    ThrowIfCancelled();
    return Check(worker_->Put(std::move(data)));
  }
  std::string PutWith(size_t size, const std::function<void(char*)>& write) override {
    ThrowIfCancelled();
    return Check(worker_->PutWith(size, write));
  }
  static std::string Check(absl::StatusOr<ObjectId> id) {
    if (!id.ok()) {
      std::string prefix = absl::IsResourceExhausted(id.status()) ? "ObjectStoreFullError: " : "";
      throw ray::internal::RayException(prefix + std::string(id.status().message()));
    }
    return id->Binary();
  }

  std::vector<std::shared_ptr<Buffer>> Get(const std::vector<std::string>& ids,
                                           int timeout_ms) override {
    ThrowIfCancelled();
    auto objects = worker_->Get(ObjectIdsOf(ids), TimeoutOf(timeout_ms));
    if (!objects.ok()) {
      if (absl::IsDeadlineExceeded(objects.status())) {
        throw ray::internal::RayTimeoutException(std::string(objects.status().message()));
      }
      throw ray::internal::RayException(std::string(objects.status().message()));
    }
    std::vector<std::shared_ptr<Buffer>> out;
    out.reserve(objects->size());
    for (auto& object : *objects) {
      if (object.is_error()) ThrowFor(object.error);
      out.push_back(std::move(object.data));
    }
    return out;
  }

  std::vector<bool> Wait(const std::vector<std::string>& ids, int num_objects,
                         int timeout_ms) override {
    if (num_objects < 0 || num_objects > static_cast<int>(ids.size())) {
      throw ray::internal::RayException(absl::StrCat(
          "Wait: num_objects (", num_objects, ") must be between 0 and the number of refs (",
          ids.size(), ")"));
    }
    ThrowIfCancelled();
    return worker_->Wait(ObjectIdsOf(ids), num_objects, TimeoutOf(timeout_ms));
  }

  std::string SubmitTask(const std::string& function_name,
                         std::vector<ray::internal::TaskArgument> args,
                         const ray::internal::TaskOptions& options) override {
    ThrowIfCancelled();
    proto::TaskSpec spec;
    spec.set_type(proto::NORMAL_TASK);
    spec.set_num_returns(1);  // the C++ API's tasks return one value
    spec.set_function_name(function_name);
    if (!options.python_module.empty()) SetPythonCall(options.python_module, function_name, &spec);
    spec.set_name(options.name.empty() ? function_name : options.name);
    spec.set_max_retries(options.max_retries);
    spec.set_retry_exceptions(options.retry_exceptions);
    for (const auto& [name, amount] : options.resources) (*spec.mutable_resources())[name] = amount;
    *spec.mutable_scheduling_strategy() = ToProto(options.strategy, options.placement);
    SetRuntimeEnv(options.runtime_env, &spec);
    AddArgs(args, &spec);
    return OnlyReturn(worker_->SubmitTask(std::move(spec)));
  }

  void Cancel(const std::string& object_id, bool force, bool recursive) override {
    absl::Status cancelled = worker_->CancelTask(ObjectId::FromBinary(object_id), force, recursive);
    if (!cancelled.ok()) {
      throw ray::internal::RayException(absl::StrCat("Cancel: ", cancelled.message()));
    }
  }

  std::string CreateActor(const std::string& factory_name,
                          std::vector<ray::internal::TaskArgument> args,
                          const ray::internal::ActorCreationOptions& options) override {
    ThrowIfCancelled();
    proto::TaskSpec spec;
    spec.set_function_name(factory_name);
    const std::string class_name = options.class_name.empty() ? factory_name : options.class_name;
    if (!options.python_module.empty()) SetPythonCall(options.python_module, class_name, &spec);
    spec.set_name(absl::StrCat(class_name, ".__init__"));
    auto* creation = spec.mutable_actor_creation();
    if (options.resources.empty()) {
      (*spec.mutable_resources())["CPU"] = 1;  // to schedule only
    } else {
      for (const auto& [name, amount] : options.resources) {
        (*spec.mutable_resources())[name] = amount;
      }
      creation->set_hold_resources(true);
    }
    const std::string ray_namespace =
        options.ray_namespace.empty() ? defaults_.ray_namespace : options.ray_namespace;
    const bool detached = options.detached.value_or(defaults_.detached);
    creation->set_max_restarts(options.max_restarts);
    creation->set_max_task_retries(options.max_task_retries);
    creation->set_max_concurrency(options.max_concurrency);
    for (const auto& [group, limit] : options.concurrency_groups) {
      (*creation->mutable_concurrency_groups())[group] = limit;
    }
    creation->set_name(options.name);
    creation->set_ray_namespace(ray_namespace);
    creation->set_detached(detached);
    *spec.mutable_scheduling_strategy() = ToProto(options.strategy, options.placement);
    SetRuntimeEnv(options.runtime_env, &spec);
    AddArgs(args, &spec);
    proto::ActorInfo info;
    info.set_class_name(class_name);
    info.set_name(options.name);
    info.set_ray_namespace(ray_namespace);
    info.set_is_detached(detached);
    info.set_max_restarts(options.max_restarts);
    info.set_max_task_retries(options.max_task_retries);
    auto id = worker_->CreateActor(std::move(spec), std::move(info), options.get_if_exists);
    if (!id.ok()) {
      if (absl::IsAlreadyExists(id.status())) {
        throw ray::internal::RayException(std::string(id.status().message()));
      }
      throw ray::internal::RayException(
          absl::StrCat("could not create the actor ", class_name, ": ", id.status().message()));
    }
    return id->Binary();
  }

  std::string SubmitActorTask(const std::string& actor_id, const std::string& method_name,
                              std::vector<ray::internal::TaskArgument> args,
                              const ray::internal::ActorTaskOptions& options,
                              const ray::internal::InstanceAdjuster& adjuster) override {
    ThrowIfCancelled();
    proto::TaskSpec spec;
    spec.set_actor_id(actor_id);
    spec.set_num_returns(1);
    spec.set_function_name(method_name);
    if (options.python) SetPythonCall("", method_name, &spec);
    spec.set_name(options.name.empty() ? method_name : options.name);
    spec.set_adjuster_key(adjuster.key);
    spec.set_concurrency_group(options.concurrency_group);
    AddArgs(args, &spec);
    return OnlyReturn(worker_->SubmitActorTask(std::move(spec)));
  }

  std::optional<std::string> GetActor(const std::string& name,
                                      const std::string& ray_namespace) override {
    auto found =
        worker_->GetNamedActor(name, ray_namespace.empty() ? defaults_.ray_namespace : ray_namespace);
    if (!found.ok()) {
      throw ray::internal::RayException(
          absl::StrCat("GetActor('", name, "'): ", found.status().message()));
    }
    if (!found->has_value()) return std::nullopt;
    return (*found)->actor_id();
  }

  void KillActor(const std::string& actor_id, bool no_restart) override {
    worker_->KillActor(ActorId::FromBinary(actor_id), no_restart);
  }

  void ExitActor() override {
    if (!InActorCode()) {
      throw ray::internal::RayException("ray::ExitActor can only be called inside an actor method");
    }
    throw ActorExitRequested{};
  }

  bool WasCurrentActorRestarted() override { return worker_->ActorRestarted(); }
  std::vector<int> GetGpuIds() override { return worker_->GpuIds(); }

  std::string GetNamespace() override { return defaults_.ray_namespace; }

  std::vector<ray::Node> Nodes() override {
    auto status = ClusterStatus();
    std::vector<ray::Node> nodes;
    for (const auto& info : status.nodes()) {
      ray::Node node;
      node.node_id = ToHex(info.node_id());
      node.node_ip = info.node_ip();
      node.node_name = info.node_name();
      node.alive = info.state() == proto::NODE_ALIVE;
      node.is_head = info.is_head_node();
      node.state_message = info.state_message();
      for (const auto& [name, amount] : info.resources_total()) node.resources[name] = amount;
      for (const auto& [key, value] : info.labels()) node.labels[key] = value;
      nodes.push_back(std::move(node));
    }
    return nodes;
  }

  std::unordered_map<std::string, double> AvailableResources() override {
    auto status = ClusterStatus();
    std::unordered_map<std::string, bool> alive;
    for (const auto& node : status.nodes()) alive[node.node_id()] = node.state() == proto::NODE_ALIVE;
    std::unordered_map<std::string, double> available;
    for (const auto& report : status.reports()) {
      if (!alive[report.node_id()]) continue;
      for (const auto& [name, amount] : report.resources_available()) available[name] += amount;
    }
    return available;
  }

  ray::PlacementGroup CreatePlacementGroup(
      const ray::PlacementGroupCreationOptions& options) override {
    return placement_groups_.Create(options);
  }
  void RemovePlacementGroup(const std::string& id) override { placement_groups_.Remove(id); }
  ray::PlacementGroup GetPlacementGroupById(const std::string& id) override {
    return placement_groups_.GetById(id);
  }
  ray::PlacementGroup GetPlacementGroup(const std::string& name,
                                        const std::string& ray_namespace) override {
    return placement_groups_.GetByName(name, ray_namespace);
  }
  std::vector<ray::PlacementGroup> GetAllPlacementGroups() override {
    return placement_groups_.GetAll();
  }
  ray::PlacementGroupState WaitPlacementGroup(const std::string& id, int timeout_seconds) override {
    return placement_groups_.Wait(id, timeout_seconds);
  }
  bool IsPlacementGroupRemoved(const std::string& id) override {
    return placement_groups_.IsRemoved(id);
  }

  void AddLocalReference(const std::string& id) override {
    worker_->AddLocalReference(RefIdOf(id));
  }
  void RemoveLocalReference(const std::string& id) override {
    worker_->RemoveLocalReference(RefIdOf(id));
  }
  std::string GetOwnerAddress(const std::string& id) override {
    return worker_->OwnerAddressOf(RefIdOf(id));
  }
  void RegisterBorrowedReference(const std::string& id, const std::string& owner) override {
    worker_->RegisterBorrowedReference(RefIdOf(id), owner);
  }
  std::vector<size_t> LocalObjectCounts() override { return worker_->LocalObjectCounts(); }
  std::pair<const char*, size_t> ObjectStoreMapping() override {
    const auto* plasma = worker_->plasma();
    if (!plasma) return {nullptr, 0};
    return {plasma->base(), static_cast<size_t>(plasma->capacity())};
  }

 private:
  // Inside a task cancelled while it runs: TaskCancelledException (task_cancel.h).
  void ThrowIfCancelled() const {
    if (cancelled_) cancelled_->ThrowIfCancelled(worker_->CurrentTaskId());
  }
  static std::string OnlyReturn(absl::StatusOr<std::vector<ObjectId>> ids) {
    if (!ids.ok()) throw ray::internal::RayException(std::string(ids.status().message()));
    return ids->at(0).Binary();
  }

  // A call of Python code from C++ (docs/python.md, "Across languages"): `qualname` of `module`,
  // imported by the Python worker (no pickled function); msgpack both ways.
  static void SetPythonCall(const std::string& module, const std::string& qualname,
                            proto::TaskSpec* spec) {
    spec->set_language(proto::PYTHON);
    spec->set_caller_language(proto::CPP);
    spec->mutable_python_function()->set_module(module);
    spec->mutable_python_function()->set_qualname(qualname);
  }

  // ResolveRuntimeEnvInto (cluster_runtime.h), at Remote().
  void SetRuntimeEnv(const std::string& env_json, proto::TaskSpec* spec) {
    absl::StatusOr<RuntimeEnvResolver::Resolved> env = envs_->Resolve(env_json);
    if (!env.ok()) throw ray::internal::RayRuntimeEnvException(std::string(env.status().message()));
    if (*env) *spec->mutable_runtime_env() = **env;
  }

  proto::GetClusterStatusReply ClusterStatus() {
    auto status = Gcs().GetClusterStatus();
    if (!status.ok()) {
      throw ray::internal::RayException(
          absl::StrCat("cannot read the cluster's nodes: ", status.status().message()));
    }
    return *std::move(status);
  }

  std::unique_ptr<core::CoreWorker> worker_;
  const std::shared_ptr<CancelledTasks> cancelled_;  // shared with the core worker's cancel hook
  std::optional<StartedHead> embedded_;  // the private cluster this driver started, if any
  const ActorDefaults defaults_;
  const std::unique_ptr<RuntimeEnvResolver> envs_;  // this process's base env
  std::mutex gcs_mutex_;
  // Nodes(), AvailableResources() and placement groups; set once, under gcs_mutex_.
  std::unique_ptr<gcs::GcsClient> gcs_;
  ClusterPlacementGroups placement_groups_;  // calls gcs_ through Gcs()
  std::unique_ptr<CodeUpload> code_upload_;
};

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
      std::string context =
          address == "auto" ? absl::StrCat("address 'auto' means the cluster at ", gcs_address,
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
    if (embedded) {
      ClearCurrentCluster(embedded->gcs_address);
      StopProcesses({embedded->raylet_pid, embedded->gcs_pid}, absl::Seconds(5));
    }
    throw ray::internal::RayRuntimeEnvException(
        absl::StrCat("the job's runtime env: ", resolved_env.status().message()));
  }
  const std::string job_package = resolved_env->working_dir.value_or("");
  auto envs = std::make_unique<RuntimeEnvResolver>(*std::move(resolved_env), pack);

  core::CoreWorkerOptions options;
  options.submitter = submitter;
  options.is_driver = true;
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
    if (embedded) {
      ClearCurrentCluster(embedded->gcs_address);
      StopProcesses({embedded->raylet_pid, embedded->gcs_pid}, absl::Seconds(5));
    }
    throw ray::internal::RayException(
        absl::StrCat("could not connect to the Moray cluster at ", gcs_address, ": ",
                     worker.status().message()));
  }
  if (absl::Status s = uploader->AdoptForJob((*worker)->context().job_id, job_package); !s.ok()) {
    spdlog::warn("could not reference the job's working_dir package for the job: {}", s.ToString());
  }
  absl::StatusOr<std::unique_ptr<CodeUpload>> upload =
      CodeUpload::Start((*worker)->gcs_address(), (*worker)->context().job_id, code);
  auto runtime = std::make_unique<ClusterRuntime>(std::move(*worker), std::move(embedded),
                                                  std::move(defaults), std::move(envs));
  if (!upload.ok()) {
    throw ray::internal::RayException(
        absl::StrCat("could not ship this driver's code: ", upload.status().message()));
  }
  runtime->set_code_upload(*std::move(upload));
  return runtime;
}

}  // namespace

core::CoreWorker* CoreWorkerOf(ray::internal::RayRuntime& runtime) {
  auto* cluster = dynamic_cast<ClusterRuntime*>(&runtime);
  return cluster ? &cluster->worker() : nullptr;
}

bool IsWorkerProcess() { return EnvOr("MORAY_WORKER_MODE") == "1"; }

void RunWorkerProcess() {
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
  auto runtime = std::make_unique<ClusterRuntime>(
      std::move(*worker), std::nullopt, defaults,
      std::make_unique<RuntimeEnvResolver>(
          *std::move(own_env), PackageUploader::AsPackFn(std::make_shared<PackageUploader>(
                                   EnvOr("MORAY_GCS_ADDRESS"), *job_id))),
      cancelled);
  ClusterRuntime* raw = runtime.get();
  InstallRuntime(std::move(runtime));
  raw->worker().RunTaskLoop([cancelled, execute](const proto::TaskSpec& spec,
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
  raw->worker().Shutdown();
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

namespace {

ClusterRuntime* InstalledClusterRuntime() {
  return dynamic_cast<ClusterRuntime*>(ray::internal::GetRuntimeOrNull());
}

}  // namespace

core::CoreWorker* InstalledCoreWorker() {
  ClusterRuntime* runtime = InstalledClusterRuntime();
  return runtime ? &runtime->worker() : nullptr;
}

gcs::GcsClient& InstalledGcsClient() {
  ClusterRuntime* runtime = InstalledClusterRuntime();
  if (!runtime) throw ray::internal::RayException("Moray is not initialized (call init first)");
  return runtime->Gcs();
}

void ResolveRuntimeEnvInto(const std::string& env_json, proto::TaskSpec* spec) {
  ClusterRuntime* runtime = InstalledClusterRuntime();
  if (!runtime) throw ray::internal::RayException("Moray is not initialized (call init first)");
  runtime->ResolveRuntimeEnv(env_json, spec);
}

}  // namespace moray::api
