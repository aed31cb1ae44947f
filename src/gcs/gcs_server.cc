#include "gcs/gcs_server.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/ports.h"
#include "gcs/gcs_service.h"
#include "gcs/placement_group_service.h"
#include "raylet.pb.h"
#include "spdlog/spdlog.h"
#include "worker.pb.h"

namespace moray::gcs {
namespace {

// Runs `fn` on `loop` and waits for it.
template <typename F>
void RunOnLoop(rpc::EventLoop& loop, F fn) {
  absl::Notification done;
  loop.Post([&] {
    fn();
    done.Notify();
  });
  done.WaitForNotification();
}

}  // namespace

GcsServer::GcsServer(GcsServerConfig config)
    : config_(std::move(config)),
      storage_(config_.storage ? std::move(config_.storage)
                               : std::make_unique<InMemoryTableStorage>()),
      nodes_(storage_.get()),
      jobs_(storage_.get()),
      kv_(storage_.get()),
      task_events_({.max_records = config_.max_task_records}),
      actors_(storage_.get()),
      groups_(storage_.get()),
      port_(config_.port) {
  pool_ = std::make_unique<rpc::ConnectionPool>(&actor_loop_, &pool_service_);
  scheduler_ =
      std::make_unique<ActorScheduler>(&actor_loop_, pool_.get(), &actors_, &nodes_, &jobs_);
  scheduler_->AddMethods(&pool_service_);
  actor_service_ = std::make_unique<ActorService>(&actor_loop_, &actors_, scheduler_.get());
  groups_scheduler_ = std::make_unique<PlacementGroupScheduler>(&actor_loop_, pool_.get(), &groups_,
                                                                &nodes_, scheduler_.get());
  health_ = std::make_unique<HealthChecker>(
      &actor_loop_, pool_.get(), &nodes_, &objects_, config_.health_check,
      [this](const proto::NodeInfo& node) {
        // Everyone is told: core workers on their connections to the GCS port, raylets on
        // their health-check connections.
        PublishNodeDead(node);
        health_->SendToRaylets(proto::RAYLET_NODE_DIED, node);
        groups_scheduler_->OnNodeDead(NodeId::FromBinary(node.node_id()));
      });
  actors_.SetListener([this](const proto::ActorInfo& info) {
    actor_loop_.Post([this, info] {
      actor_service_->Publish(info);
      scheduler_->OnActorChanged(info);
    });
  });
  GcsManagers managers{&nodes_, &jobs_, &kv_, &task_events_, &objects_, &actors_};
  managers.on_job_finished = [this](const JobId& job_id) {
    package_gc_.OnJobFinished(job_id);
    // Every raylet that may have run the job's work ends it too (its driver's raylet did).
    proto::JobFinishedNotice notice;
    notice.set_job_id(job_id.Binary());
    actor_loop_.Post(
        [this, notice] { health_->SendToRaylets(proto::RAYLET_JOB_FINISHED, notice); });
    for (const PlacementGroupId& id : groups_.OfFinishedJob(job_id)) {
      (void)RemovePlacementGroup(&groups_, groups_scheduler_.get(), &actor_loop_, id,
                                 " (its job finished)");
    }
  };
  managers.on_package_ref_dropped = [this] { package_gc_.OnRefDropped(); };
  managers.on_node_gone = [this](const NodeId& node_id) {
    actor_loop_.Post([this, node_id] { groups_scheduler_->OnNodeDead(node_id); });
  };
  managers.on_resources_changed = [this] {
    actor_loop_.Post([this] { groups_scheduler_->RetryPending(); });
  };
  AddGcsMethods(managers, &service_);
  actor_service_->Register(&service_);
  logs_.Register(&service_);
  AddPlacementGroupMethods(&groups_, groups_scheduler_.get(), &actor_loop_, &service_);
}

GcsServer::~GcsServer() { Stop(); }

absl::Status GcsServer::Start() {
  // One sentence for a port in use (or a host not of this machine) rather than errno's words. A
  // bind racing this check still fails below, and the launcher then checks again.
  if (auto free = CheckPortFree(config_.host, config_.port); !free.ok()) return free;
  service_loop_.StartThread("gcs_service");
  actor_loop_.StartThread("gcs_actors");
  package_gc_.Start();
  running_ = true;
  absl::StatusOr<std::unique_ptr<rpc::Server>> server;
  RunOnLoop(service_loop_, [&] {
    server = rpc::Server::Listen(
        &service_loop_, config_.host, config_.port,
        [this](std::shared_ptr<rpc::Connection> conn) { OnAccept(std::move(conn)); },
        rpc::kAnyMember);
    if (server.ok()) server_ = *std::move(server);
  });
  if (!server.ok()) {
    Stop();
    if (auto free = CheckPortFree(config_.host, config_.port); !free.ok()) return free;
    return absl::UnavailableError(absl::StrCat("the GCS could not listen on ", config_.host, ":",
                                               config_.port, ": ", server.status().message()));
  }
  port_ = server_->port();
  actor_loop_.Post([this] { health_->Start(); });
  spdlog::info("GCS listening on {}:{}", config_.host, port_.load());
  return absl::OkStatus();
}

void GcsServer::OnAccept(std::shared_ptr<rpc::Connection> conn) {
  connections_.insert(conn);
  conn->SetHandlers(
      [this](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& frame) {
        service_.Dispatch(c, std::move(frame));
      },
      [this](const std::shared_ptr<rpc::Connection>& c) {
        connections_.erase(c);
        actor_service_->OnClosed(c);
        logs_.OnClosed(c);
      });
}

void GcsServer::PublishNodeDead(const proto::NodeInfo& node) {
  service_loop_.Post([this, node] {
    for (const auto& conn : connections_) {
      if ((rpc::RoleBit(conn->peer_role()) & rpc::kCoreWorkers) != 0) {
        conn->Send(proto::WORKER_NODE_DIED, node);
      }
    }
  });
}

void GcsServer::Stop() {
  if (!running_) return;
  running_ = false;
  // The actor side first: the closes below must not read as owners dying (their actors stay as
  // they are in storage), and nothing posted to the actor loop from now on runs.
  RunOnLoop(actor_loop_, [this] {
    health_->Shutdown();
    actor_service_->Shutdown();
    groups_scheduler_->Shutdown();
    scheduler_->Shutdown();
    pool_.reset();  // closes the GCS's own connections, here on their loop
  });
  RunOnLoop(service_loop_, [this] {
    server_.reset();
    // Close handlers erase from the set: close from a copy.
    auto connections = std::move(connections_);
    connections_.clear();
    for (const auto& conn : connections) conn->Close();
  });
  service_loop_.Stop();
  actor_loop_.Stop();
  package_gc_.Stop();
  spdlog::info("GCS on port {} stopped", port_.load());
}

}  // namespace moray::gcs
