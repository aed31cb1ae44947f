#include "raylet/raylet.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "common/id.h"
#include "common/session.h"
#include "raylet/node_gpus.h"
#include "raylet/node_metrics.h"
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
  // The metrics endpoint's port first: a taken port stops the start before anything runs.
  absl::StatusOr<int> metrics_port =
      metrics_server_.Bind(options_.node_ip, options_.metrics_export_port, rpc::ProcessAuth());
  if (!metrics_port.ok()) return metrics_port.status();
  node_info_.set_metrics_export_port(*metrics_port);

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
  nm.list_store_objects = [store = store_.get(), node_id = node_id_](
                              int64_t limit) -> absl::StatusOr<proto::ListStoreObjectsReply> {
    auto listing = store->ListObjects(static_cast<size_t>(limit), absl::Seconds(10));
    if (!listing.ok()) return listing.status();
    proto::ListStoreObjectsReply reply;
    reply.set_node_id(node_id.Binary());
    const object_store::StoreContents& contents = listing->contents;
    for (const auto& object : contents.objects) {
      proto::StoreObjectInfo* info = reply.add_objects();
      info->set_object_id(object.id.Binary());
      info->set_size(object.size);
      info->set_primary(object.primary);
      info->set_pins(object.pins);
      info->set_spilled(object.spilled);
      info->set_sealed(object.sealed);
      *info->mutable_owner() = object.owner;
    }
    reply.set_total(static_cast<int64_t>(contents.total));
    reply.set_num_truncated(static_cast<int64_t>(contents.total - contents.objects.size()));
    reply.set_num_primary(static_cast<int64_t>(contents.num_primary));
    reply.set_num_secondary(static_cast<int64_t>(contents.num_secondary));
    reply.set_total_bytes(contents.total_bytes);
    reply.set_capacity(listing->stats.capacity());
    reply.set_used(listing->stats.used());
    reply.set_spilled_bytes(listing->stats.spilled_bytes());
    reply.set_num_spilled(static_cast<int64_t>(listing->stats.num_spilled()));
    return reply;
  };
  nm.metrics = options_.rpc_latency_metrics ? &metrics_ : nullptr;
  nm.user_metrics = &user_metrics_;
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
  metrics_server_.Start([this] { return RenderMetrics(); });
  spdlog::info("raylet {} listening on {}:{} (metrics on port {}) with {}", node_id_.Hex(),
               options_.node_ip, port_, node_info_.metrics_export_port(), total->DebugString());
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

std::string Raylet::RenderMetrics() {
  // The node's report is built on the loop (its state lives there); a loop that does not answer
  // in time leaves those gauges out of this scrape rather than hanging it.
  struct Pending {
    absl::Notification done;
    proto::NodeResourceReport report;
  };
  auto pending = std::make_shared<Pending>();
  loop_->Post([this, pending] {
    if (node_manager_) pending->report = node_manager_->BuildReport();
    pending->done.Notify();
  });
  std::string text;
  if (pending->done.WaitForNotificationWithTimeout(absl::Seconds(2))) {
    for (const auto& family : NodeMetricFamilies(pending->report, store_->Stats())) {
      metrics::WriteFamily(family, &text);
    }
  } else {
    text += "# moray: the raylet's loop did not answer in 2 s; node gauges left out\n";
  }
  text += metrics_.Exposition();
  for (const auto& family : user_metrics_.Collect(absl::Now())) metrics::WriteFamily(family, &text);
  if (options_.is_head) {
    // The cluster-wide families (moray_tasks, moray_actors) live in the GCS.
    absl::StatusOr<std::string> cluster = gcs_->GetClusterMetrics();
    if (cluster.ok()) {
      text += *cluster;
    } else {
      absl::StrAppend(&text, "# moray: the GCS's metrics are unavailable: ",
                      absl::StrReplaceAll(cluster.status().message(), {{"\n", " "}}), "\n");
    }
  }
  return text;
}

void Raylet::Stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  metrics_server_.Stop();
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
