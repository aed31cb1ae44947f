#include "gcs/gcs_server.h"

#include <chrono>
#include <future>

#include "absl/strings/str_cat.h"
#include "common/ports.h"
#include "grpcpp/grpcpp.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {

GcsServer::GcsServer(GcsServerConfig config)
    : config_(std::move(config)),
      storage_(std::make_unique<InMemoryTableStorage>()),
      nodes_(storage_.get()),
      jobs_(storage_.get()),
      kv_(storage_.get()),
      task_events_({.max_records = config_.max_task_records}),
      actors_(storage_.get()),
      service_(&nodes_, &jobs_, &kv_, &task_events_, &objects_, &actors_) {}

GcsServer::~GcsServer() { Stop(absl::ZeroDuration()); }

absl::Status GcsServer::Start() {
  // gRPC reports a port in use only by logging a dump to stderr: say it in a sentence first. A
  // bind racing this check still fails below, and the launcher then checks again.
  if (auto free = CheckPortFree(config_.host, config_.port); !free.ok()) return free;
  actor_loop_.StartThread("gcs_actors");
  absl::Status listening;
  {
    std::promise<void> done;
    actor_loop_.Post([&] {
      scheduler_ = std::make_unique<ActorScheduler>(&actor_loop_, &actors_, &nodes_, &jobs_);
      channel_ = std::make_unique<WorkerChannel>(&actor_loop_, &actors_, scheduler_.get(),
                                                 &task_events_);
      listening = channel_->Listen(config_.host);
      actor_port_ = channel_->port();
      health_ = std::make_unique<HealthChecker>(
          &actor_loop_, &nodes_, &objects_, config_.health_check,
          [this](const proto::NodeInfo& node) {
            // Everyone is told: core workers on the worker channel, raylets on their
            // health-check connections.
            channel_->PublishNodeDead(node);
            health_->SendToRaylets(proto::RAYLET_NODE_DIED, node);
          });
      health_->Start();
      done.set_value();
    });
    done.get_future().wait();
  }
  if (!listening.ok()) {
    return absl::UnavailableError(absl::StrCat("the GCS could not open its actor channel on ",
                                               config_.host, ": ", listening.message()));
  }
  actors_.SetListener([this](const proto::ActorInfo& info) {
    actor_loop_.Post([this, info] {
      if (channel_) channel_->Publish(info);
      if (scheduler_) scheduler_->OnActorChanged(info);
    });
  });
  service_.set_actor_port(actor_port_);
  const std::string address = absl::StrCat(config_.host, ":", config_.port);
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  // gRPC turns SO_REUSEPORT on by default, which would let a second GCS "bind" a port that is
  // already serving a cluster and silently split its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Task-event batches and full task listings can exceed the 4 MiB default.
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(&service_);
  server_ = builder.BuildAndStart();
  if (!server_ || selected_port == 0) {
    server_.reset();
    // Taken since the check above? Then say that rather than guess.
    if (auto free = CheckPortFree(config_.host, config_.port); !free.ok()) return free;
    return absl::UnavailableError(absl::StrCat("the GCS could not listen on ", address,
                                               " (address in use or not local?)"));
  }
  port_ = selected_port;
  spdlog::info("GCS listening on {}:{} (actor channel on port {})", config_.host, port_, actor_port_);
  return absl::OkStatus();
}

void GcsServer::Stop(absl::Duration grace) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
  server_.reset();
  std::promise<void> done;
  actor_loop_.Post([&] {
    if (health_) health_->Shutdown();
    if (channel_) channel_->Shutdown();
    if (scheduler_) scheduler_->Shutdown();
    done.set_value();
  });
  done.get_future().wait();
  actor_loop_.Stop();
  spdlog::info("GCS on port {} stopped", port_);
}

}  // namespace moray::gcs
