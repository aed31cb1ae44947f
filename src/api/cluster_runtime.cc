// The cluster runtime: ray::internal::RayRuntime over the process's core worker (how a process
// gets one: cluster_connect.cc).
#include "api/cluster_runtime.h"

#include <cstdlib>
#include <mutex>
#include <optional>
#include <variant>

#include "absl/strings/str_cat.h"
#include "api/actor_exit.h"
#include "api/cluster_placement_groups.h"
#include "api/cluster_runtime_parts.h"
#include "api/runtime_slot.h"
#include "api/task_error.h"
#include "api/task_execution.h"
#include "common/id.h"
#include "common/session.h"
#include "core_worker/core_worker.h"
#include "gcs/gcs_client.h"
#include "ray/api/function_manager.h"
#include "ray/api/ray_exception.h"
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

class ClusterRuntime final : public ray::internal::RayRuntime {
 public:
  explicit ClusterRuntime(ClusterRuntimeParts parts)
      : worker_(std::move(parts.worker)),
        cancelled_(std::move(parts.cancelled)),
        embedded_(std::move(parts.embedded)),
        defaults_(std::move(parts.defaults)),
        envs_(std::move(parts.envs)),
        placement_groups_([this]() -> gcs::GcsClient& { return Gcs(); }, worker_->context().job_id,
                          defaults_.ray_namespace),
        code_upload_(std::move(parts.code_upload)) {}

  ~ClusterRuntime() override {
    code_upload_.reset();  // before the cluster it uploads to stops
    worker_->Shutdown();
    worker_.reset();
    if (embedded_) StopEmbeddedCluster(*embedded_, absl::Seconds(10));
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

}  // namespace

std::unique_ptr<ray::internal::RayRuntime> MakeClusterRuntime(ClusterRuntimeParts parts) {
  return std::make_unique<ClusterRuntime>(std::move(parts));
}

void StopEmbeddedCluster(const StartedHead& head, absl::Duration grace) {
  ClearCurrentCluster(head.gcs_address);
  StopProcesses({head.raylet_pid, head.gcs_pid}, grace);
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}

core::CoreWorker* CoreWorkerOf(ray::internal::RayRuntime& runtime) {
  auto* cluster = dynamic_cast<ClusterRuntime*>(&runtime);
  return cluster ? &cluster->worker() : nullptr;
}

namespace {

ClusterRuntime& InstalledOrThrow() {
  auto* runtime = dynamic_cast<ClusterRuntime*>(ray::internal::GetRuntimeOrNull());
  if (!runtime) throw ray::internal::RayException("Moray is not initialized (call init first)");
  return *runtime;
}

}  // namespace

core::CoreWorker* InstalledCoreWorker() {
  ray::internal::RayRuntime* runtime = ray::internal::GetRuntimeOrNull();
  return runtime ? CoreWorkerOf(*runtime) : nullptr;
}

gcs::GcsClient& InstalledGcsClient() { return InstalledOrThrow().Gcs(); }

void ResolveRuntimeEnvInto(const std::string& env_json, proto::TaskSpec* spec) {
  InstalledOrThrow().ResolveRuntimeEnv(env_json, spec);
}

}  // namespace moray::api
