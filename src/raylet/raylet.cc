#include "raylet/raylet.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/id.h"
#include "common/session.h"
#include "raylet/node_gpus.h"
#include "rpc/auth.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {
namespace {

int64_t PhysicalMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : 0;
}

double NumCpus(const RayletOptions& options) {
  if (options.num_cpus >= 0) return options.num_cpus;
  return std::max(1u, std::thread::hardware_concurrency());
}

constexpr size_t kMaxUnixPath = 107;  // sockaddr_un::sun_path, less the terminating NUL

}  // namespace

std::string StoreSocketPath(const std::string& session_dir, const std::string& node_id_hex) {
  std::string path = absl::StrCat(session_dir, "/sockets/store-", node_id_hex, ".sock");
  if (!session_dir.empty() && path.size() <= kMaxUnixPath) return path;
  return absl::StrCat("/tmp/moray-", getuid(), "/store-", node_id_hex, ".sock");
}

int64_t ObjectStoreMemory(const RayletOptions& options) {
  if (options.object_store_memory > 0) return options.object_store_memory;
  int64_t bytes = static_cast<int64_t>(static_cast<double>(PhysicalMemory()) * 0.3);
  struct statvfs shm;
  if (statvfs("/dev/shm", &shm) == 0) {
    bytes = std::min(bytes, static_cast<int64_t>(shm.f_blocks) * static_cast<int64_t>(shm.f_frsize));
  }
  return bytes;
}

absl::StatusOr<scheduling::ResourceSet> NodeResources(const RayletOptions& options, int num_gpus) {
  std::map<std::string, double> map;
  for (const auto& [name, value] : options.custom_resources) {
    if (name == scheduling::kCPU || name == scheduling::kGPU) {
      return absl::InvalidArgumentError(absl::StrCat(
          "custom resource ", name, ": use num_cpus / num_gpus for CPU and GPU"));
    }
    map[name] = value;
  }
  map[scheduling::kCPU] = NumCpus(options);
  map[scheduling::kGPU] = num_gpus;
  if (!map.contains(scheduling::kMemory)) {
    const int64_t memory = PhysicalMemory() - ObjectStoreMemory(options);
    map[scheduling::kMemory] = static_cast<double>(std::max<int64_t>(0, memory));
  }
  return scheduling::ResourceSet::FromMap(map);
}

Raylet::Raylet(RayletOptions options, std::unique_ptr<GcsAccessor> gcs)
    : options_(std::move(options)), gcs_(std::move(gcs)) {}

Raylet::~Raylet() { Stop(); }

absl::Status Raylet::Start() {
  if (started_) return absl::FailedPreconditionError("the raylet was already started");
  started_ = true;
  absl::StatusOr<std::vector<int>> gpu_ids = NodeGpuIds(options_.num_gpus);
  if (!gpu_ids.ok()) return gpu_ids.status();
  absl::StatusOr<scheduling::ResourceSet> total =
      NodeResources(options_, static_cast<int>(gpu_ids->size()));
  if (!total.ok()) return total.status();

  node_id_ = NodeId::FromRandom();
  node_info_.set_node_id(node_id_.Binary());
  node_info_.set_node_ip(options_.node_ip);
  node_info_.set_node_name(options_.node_name.empty() ? options_.node_ip : options_.node_name);
  node_info_.set_is_head_node(options_.is_head);
  node_info_.set_state(proto::NODE_ALIVE);
  for (const auto& [name, value] : total->ToMap()) (*node_info_.mutable_resources_total())[name] = value;
  for (const auto& [key, value] : options_.labels) (*node_info_.mutable_labels())[key] = value;
  node_info_.set_start_time_ms(absl::ToUnixMillis(absl::Now()));
  node_info_.set_raylet_pid(getpid());
  node_info_.set_session_dir(options_.session_dir);
  node_info_.set_object_store_memory(ObjectStoreMemory(options_));

  // The object store first: clients learn its socket when they register.
  object_store::StoreServerOptions store_options;
  store_options.capacity = static_cast<uint64_t>(ObjectStoreMemory(options_));
  store_options.socket_path = StoreSocketPath(options_.session_dir, node_id_.Hex());
  store_options.spill_dir = options_.object_spilling_directory;
  if (store_options.spill_dir.empty()) {
    store_options.spill_dir = options_.session_dir.empty()
                                  ? absl::StrCat("/tmp/moray-", getuid(), "/spill-", node_id_.Hex())
                                  : absl::StrCat(options_.session_dir, "/spill");
  }
  store_options.prefault_bytes =
      options_.object_store_prefault_bytes >= 0
          ? static_cast<uint64_t>(options_.object_store_prefault_bytes)
          : std::min<uint64_t>(store_options.capacity, 2ull << 30);
  auto store = object_store::StoreServer::Start(store_options);
  if (!store.ok()) {
    return absl::Status(store.status().code(),
                        absl::StrCat("cannot start the object store: ", store.status().message()));
  }
  store_ = std::move(*store);
  store_socket_ = store_->socket_path();

  const int cpus = static_cast<int>(std::floor(NumCpus(options_)));
  NodeManagerOptions nm;
  nm.node = node_info_;
  nm.total = *total;
  nm.gpu_ids = *gpu_ids;
  nm.port = options_.port;
  nm.prestart_per_job =
      options_.prestart_workers < 0 ? cpus : std::min(cpus, options_.prestart_workers);
  nm.pool.gcs_address = options_.gcs_address;
  nm.pool.moray_binary = options_.moray_binary;
  nm.runtime_env.moray_binary = options_.moray_binary;
  nm.runtime_env.fetch_package = options_.fetch_package;
  nm.runtime_env.package_store = gcs_->PackageStore();
  nm.runtime_env.moray_lib_dir = runtime_env::MorayLibraryDir();
  nm.runtime_env.cache_dir =
      options_.session_dir.empty()
          ? absl::StrCat("/tmp/moray-", getuid(), "/runtime_resources-", node_id_.Hex())
          : absl::StrCat(options_.session_dir, "/runtime_resources");
  // Workers use this node's auth (in-process tests that leave worker_env empty: the process's).
  nm.pool.worker_env = options_.worker_env.empty() ? rpc::AuthEnvironment(rpc::ProcessAuth())
                                                   : options_.worker_env;
  nm.pool.max_starting = std::max(1, cpus);
  nm.pool.idle_timeout = options_.idle_worker_timeout;
  nm.pool.register_timeout = options_.worker_register_timeout;
  nm.store_socket = store_socket_;
  nm.inline_object_memory = options_.inline_object_memory >= 0
                                ? options_.inline_object_memory
                                : std::min<int64_t>(node_info_.object_store_memory() / 4,
                                                    256ll << 20);
  nm.store_stats = [store = store_.get()] { return store->Stats(); };
  objects_ = std::make_unique<ObjectManager>(store_socket_, node_id_);
  if (auto started = objects_->Start(); !started.ok()) {
    return absl::Status(started.code(), absl::StrCat("cannot start the object manager: ",
                                                     started.message()));
  }
  nm.objects = objects_.get();

  // Worker output: files, rotation and the stream to drivers (log_agent.h).
  if (!options_.session_dir.empty()) {
    const std::string log_dir = absl::StrCat(options_.session_dir, "/logs");
    std::error_code ignored;
    std::filesystem::create_directories(log_dir, ignored);
    logs_ = std::make_unique<LogAgent>(
        LogAgentOptions{.log_dir = log_dir,
                        .node_id = node_id_,
                        .node_ip = options_.node_ip,
                        .gcs_address = options_.gcs_address,
                        .rotation_bytes = options_.log_rotation_bytes,
                        .backup_count = options_.log_rotation_backup_count});
    if (auto started = logs_->Start(); !started.ok()) {
      return absl::Status(started.code(),
                          absl::StrCat("cannot start the log agent: ", started.message()));
    }
    nm.pool.log_agent = logs_.get();
  }

  GcsThread::Options gcs_thread_options;
  gcs_thread_options.on_cluster_view = [this](proto::GetClusterStatusReply view) {
    auto shared = std::make_shared<proto::GetClusterStatusReply>(std::move(view));
    if (loop_) {
      loop_->Post([this, shared] {
        if (node_manager_) node_manager_->UpdateClusterView(*shared);
      });
    }
  };
  gcs_thread_options.on_declared_dead = [this](const std::string& reason) { DeclaredDead(reason); };
  nm.on_declared_dead = [this](const std::string& reason) { DeclaredDead(reason); };
  gcs_thread_ = std::make_unique<GcsThread>(gcs_.get(), std::move(gcs_thread_options));
  gcs_thread_->Start();
  loop_ = std::make_unique<rpc::EventLoop>();
  loop_->StartThread("raylet");

  absl::Status listening;
  absl::Notification constructed;
  loop_->Post([&] {
    node_manager_ = std::make_unique<NodeManager>(loop_.get(), gcs_thread_.get(), std::move(nm));
    listening = node_manager_->Start();
    port_ = node_manager_->port();
    node_info_ = node_manager_->node_info();
    constructed.Notify();
  });
  constructed.WaitForNotification();
  if (!listening.ok()) {
    Stop();
    return listening;
  }

  absl::Status registered;
  absl::Notification done;
  gcs_thread_->Post([&](GcsAccessor& gcs) {
    registered = gcs.RegisterNode(node_info_);
    registered_ = registered.ok();
    done.Notify();
  });
  done.WaitForNotification();
  if (!registered.ok()) {
    Stop();
    return absl::Status(registered.code(), absl::StrCat("could not register the node with the GCS at ",
                                                        options_.gcs_address, ": ",
                                                        registered.message()));
  }
  spdlog::info("raylet {} listening on {}:{} with {}", node_id_.Hex(), options_.node_ip, port_,
               total->DebugString());
  return absl::OkStatus();
}

void Raylet::RunOnLoop(const std::function<void(const NodeManager&)>& fn) {
  if (!loop_ || !node_manager_) return;
  absl::Notification done;
  loop_->Post([&] {
    fn(*node_manager_);
    done.Notify();
  });
  done.WaitForNotification();
}

void Raylet::DeclaredDead(const std::string& reason) {
  if (declared_dead_.exchange(true)) return;
  spdlog::error("the GCS declared this node ({}) dead: {}; stopping", node_id_.Hex(), reason);
  if (on_declared_dead_) on_declared_dead_(reason);
}

void Raylet::Stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  if (loop_ && node_manager_) {
    absl::Notification done;
    loop_->Post([&] {
      node_manager_->Shutdown(absl::Seconds(2));
      done.Notify();
    });
    done.WaitForNotification();
  }
  if (gcs_thread_) {
    if (registered_) {
      gcs_thread_->Post([node_id = node_id_](GcsAccessor& gcs) {
        absl::Status status = gcs.UnregisterNode(node_id, "raylet stopped");
        if (!status.ok()) spdlog::warn("UnregisterNode failed: {}", status.ToString());
      });
    }
    gcs_thread_->Stop();
  }
  if (loop_) loop_->Stop();
  node_manager_.reset();
  loop_.reset();
  if (logs_) logs_->Stop();  // the workers are gone: what their pipes still hold is written
  gcs_thread_.reset();
  if (objects_) objects_->Stop();
  objects_.reset();
  store_.reset();  // after the workers are gone; removes the socket and the spill files
  spdlog::info("raylet {} stopped", node_id_.Hex());
}

}  // namespace moray::raylet
