#include "raylet/node_manager.h"

#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/id_status.h"
#include "runtime_env/runtime_env.h"
#include "scheduling/group_resources.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {
namespace {
// How long a request naming a node that is not in the cluster view waits for it to appear.
constexpr absl::Duration kAwaitNodeInView = absl::Seconds(3);

bool EagerInstall(const proto::RuntimeEnvInfo& env) {
  absl::StatusOr<runtime_env::RuntimeEnvSpec> spec = runtime_env::RuntimeEnvSpec::Parse(env.json());
  return spec.ok() && spec->EagerInstall();
}
}  // namespace

NodeManager::NodeManager(rpc::EventLoop* loop, GcsThread* gcs, NodeManagerOptions options)
    : loop_(loop), gcs_(gcs), options_(std::move(options)) {
  WorkerPoolOptions pool_options = options_.pool;
  pool_options.node_id = node_id_;
  pool_options.node_ip = options_.node.node_ip();
  pool_options.session_dir = options_.node.session_dir();
  pool_options.keep_idle_per_job = options_.prestart_per_job;
  WorkerPool::Callbacks callbacks;
  callbacks.on_workers_changed = [this] {
    leases_->Schedule();
    MarkDirty();
  };
  callbacks.on_start_failed = [this](const JobId& job_id, const std::string& env_hash,
                                     const std::string& error) {
    leases_->FailJobRequests(job_id, env_hash, error);
  };
  callbacks.on_worker_dead = [this](const WorkerId& worker_id) {
    leases_->OnWorkerDied(worker_id);
    MarkDirty();
  };
  agent_ = std::make_unique<RuntimeEnvAgent>(loop_, options_.runtime_env);
  pool_ = std::make_unique<WorkerPool>(loop_, std::move(pool_options), std::move(callbacks),
                                       agent_.get());
  leases_ = std::make_unique<LeaseManager>(
      options_.total, pool_.get(), [this] { MarkDirty(); }, options_.gpu_ids);
  bundles_ = std::make_unique<BundleManager>(leases_.get());
  RegisterMethods();
  if (options_.pool.log_agent != nullptr) options_.pool.log_agent->AddMethods(&service_);
}

NodeManager::~NodeManager() {
  *alive_ = false;
  if (debounce_timer_ != 0) loop_->CancelTimer(debounce_timer_);
  if (periodic_timer_ != 0) loop_->CancelTimer(periodic_timer_);
}

absl::Status NodeManager::Start() {
  // Core workers (drivers and workers), other raylets (object transfers) and the GCS (health
  // checks, NODE_DIED, actor leases); each method narrows this further.
  absl::StatusOr<std::unique_ptr<rpc::Server>> server = rpc::Server::Listen(
      loop_, options_.node.node_ip(), options_.port,
      [this](std::shared_ptr<rpc::Connection> conn) { OnAccept(std::move(conn)); },
      rpc::kCoreWorkers | rpc::RoleBit(proto::ROLE_RAYLET) | rpc::RoleBit(proto::ROLE_GCS) |
          rpc::RoleBit(proto::ROLE_CLI));
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  port_ = server_->port();
  options_.node.set_raylet_port(port_);
  pool_->set_raylet_port(port_);
  ArmPeriodicReport();
  return absl::OkStatus();
}

void NodeManager::RegisterMethods() {
  using rpc::Peer;
  constexpr rpc::Roles kGcs = rpc::RoleBit(proto::ROLE_GCS);
  service_.Unary<proto::RegisterClientRequest, proto::RegisterClientReply>(
      proto::RAYLET_REGISTER_CLIENT, rpc::kCoreWorkers,
      [this](const Peer& peer, proto::RegisterClientRequest&& request, RegisterResponder respond) {
        HandleRegister(ClientOf(peer), std::move(request), std::move(respond));
      });
  // From core workers, and from the GCS for actors.
  service_.Unary<proto::RequestWorkerLeaseRequest, proto::RequestWorkerLeaseReply>(
      proto::RAYLET_REQUEST_WORKER_LEASE, rpc::kCoreWorkers | kGcs,
      [this](const Peer& peer, proto::RequestWorkerLeaseRequest&& request,
             LeaseResponder respond) {
        HandleRequestLease(ClientOf(peer), request, std::move(respond));
      });
  service_.OneWay<proto::CancelWorkerLeaseRequest>(
      proto::RAYLET_CANCEL_WORKER_LEASE, rpc::kCoreWorkers | kGcs,
      [this](const Peer& peer, proto::CancelWorkerLeaseRequest&& request) {
        leases_->CancelLease(ClientOf(peer).id, request.lease_id());
      });
  service_.OneWay<proto::ReturnWorkerRequest>(
      proto::RAYLET_RETURN_WORKER, rpc::kCoreWorkers | kGcs,
      [this](const Peer& peer, proto::ReturnWorkerRequest&& request) {
        leases_->ReturnWorker(ClientOf(peer).id, request.lease_id(), request.disconnect_worker(),
                              request.keep_worker());
      });
  for (uint16_t method : {proto::RAYLET_NOTIFY_BLOCKED, proto::RAYLET_NOTIFY_UNBLOCKED}) {
    const bool blocked = method == proto::RAYLET_NOTIFY_BLOCKED;
    service_.OneWay<proto::BlockedRequest>(
        method, rpc::kCoreWorkers,
        [this, blocked](const Peer& peer, proto::BlockedRequest&& request) {
          const WorkerId worker_id = request.worker_id().empty()
                                         ? ClientOf(peer).worker_id
                                         : WorkerId::FromBinary(request.worker_id());
          if (blocked) {
            leases_->NotifyBlocked(worker_id);
          } else {
            leases_->NotifyUnblocked(worker_id);
          }
        });
  }
  service_.OneWay<proto::ReportTaskEventsRequest>(
      proto::RAYLET_REPORT_TASK_EVENTS, rpc::kCoreWorkers,
      [this](const Peer&, proto::ReportTaskEventsRequest&& request) {
        std::vector<proto::TaskEvent> events;
        events.reserve(request.events_size());
        for (auto& event : *request.mutable_events()) events.push_back(std::move(event));
        gcs_->AddTaskEvents(std::move(events), request.dropped());
      });
  service_.OneWay<proto::WorkerObjects>(
      proto::RAYLET_REPORT_OBJECTS, rpc::kCoreWorkers,
      [this](const Peer& peer, proto::WorkerObjects&& snapshot) {
        Client& client = ClientOf(peer);
        if (client.worker_id.IsNil()) return;  // not registered
        // The raylet's view of who sent it wins over what the message says.
        snapshot.set_worker_id(client.worker_id.Binary());
        snapshot.set_node_id(node_id_.Binary());
        snapshot.set_job_id(client.job_id.Binary());
        if (client.pid != 0) snapshot.set_pid(client.pid);
        snapshot.set_is_driver(client.kind == Kind::kDriver);
        client.reported_objects = true;
        gcs_->ReportObjects(std::move(snapshot));
      });
  service_.OneWay<proto::DisconnectClientRequest>(
      proto::RAYLET_DISCONNECT_CLIENT, rpc::kCoreWorkers,
      [this](const Peer& peer, proto::DisconnectClientRequest&&) {
        Client& client = ClientOf(peer);
        if (client.kind == Kind::kWorker) pool_->MarkIntendedExit(client.worker_id);
      });
  service_.Sync<proto::HealthCheckRequest, proto::HealthCheckReply>(
      proto::RAYLET_HEALTH_CHECK, kGcs,
      [](const Peer&, const proto::HealthCheckRequest&, proto::HealthCheckReply*) {
        return absl::OkStatus();
      });
  // Placement groups' two-phase commit: the GCS only (bundle_manager.h).
  auto bundles_of = [](const proto::BundlesRequest& request) {
    return std::vector<proto::Bundle>(request.bundles().begin(), request.bundles().end());
  };
  // Each reply carries the node's resources after the step, so the GCS's view is fresh at once.
  auto handler = [this, bundles_of](uint16_t method) {
    return [this, bundles_of, method](const Peer&, const proto::BundlesRequest& request,
                                      proto::BundlesReply* reply) {
      auto group = RequiredId<PlacementGroupId>(request.placement_group_id(), "placement_group_id");
      if (!group.ok()) return group.status();
      absl::Status status;
      if (method == proto::RAYLET_PREPARE_BUNDLES) {
        status = bundles_->Prepare(*group, bundles_of(request));
      } else if (method == proto::RAYLET_COMMIT_BUNDLES) {
        status = bundles_->Commit(*group, bundles_of(request));
      } else {
        bundles_->Return(*group, bundles_of(request), request.group_removed(), request.reason());
      }
      FillResources(reply, /*with_group_scoped=*/false);  // what placing bundles needs
      return status;
    };
  };
  for (auto method : {proto::RAYLET_PREPARE_BUNDLES, proto::RAYLET_COMMIT_BUNDLES,
                      proto::RAYLET_RETURN_BUNDLES}) {
    service_.Sync<proto::BundlesRequest, proto::BundlesReply>(method, kGcs, handler(method));
  }
  // Only the GCS declares nodes dead: anyone else naming this node would stop it.
  service_.OneWay<proto::NodeInfo>(proto::RAYLET_NODE_DIED, kGcs,
                                   [this](const Peer&, proto::NodeInfo&& node) {
                                     HandleNodeDied(node);
                                   });
  // Only the GCS ends jobs on a node their driver never registered with.
  service_.OneWay<proto::JobFinishedNotice>(
      proto::RAYLET_JOB_FINISHED, kGcs, [this](const Peer&, proto::JobFinishedNotice&& notice) {
        auto job_id = RequiredId<JobId>(notice.job_id(), "job_id");
        if (!job_id.ok()) {
          spdlog::warn("RAYLET_JOB_FINISHED ignored: {}", job_id.status().ToString());
          return;
        }
        EndJob(*job_id, "the GCS marked it finished");
      });
  // Pulls and frees from core workers, chunk reads and frees from other raylets.
  if (options_.objects) options_.objects->RegisterMethods(&service_);
}

void NodeManager::OnAccept(std::shared_ptr<rpc::Connection> conn) {
  if (shut_down_) {
    conn->Close();
    return;
  }
  auto client = std::make_unique<Client>();
  client->id = next_client_id_++;
  client->conn = conn;
  conn->user_data = client.get();
  const uint64_t id = client->id;
  clients_[id] = std::move(client);
  conn->SetHandlers(
      [this](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& frame) {
        service_.Dispatch(c, std::move(frame));
      },
      [this, id, alive = alive_](const std::shared_ptr<rpc::Connection>&) {
        if (*alive) OnClose(id);
      });
}

void NodeManager::HandleNodeDied(const proto::NodeInfo& node) {
  const NodeId node_id = NodeId::FromBinary(node.node_id());
  if (node_id == node_id_) {
    if (options_.on_declared_dead) options_.on_declared_dead(node.state_message());
    return;
  }
  spdlog::warn("node {} ({}) is dead: {}", node_id.Hex(), node.node_ip(), node.state_message());
  // Before the next view: no more spillback there, and pulls from it fail as lost — in
  // that order, so a task rebuilding an object lost with it is not sent back there.
  scheduler_.ForgetNode(node_id);
  if (options_.objects) options_.objects->MarkNodeDead(node_id);
}

void NodeManager::HandleRegister(Client& client, proto::RegisterClientRequest request,
                                 RegisterResponder respond) {
  if (client.kind != Kind::kUnregistered) {
    respond.Fail(absl::FailedPreconditionError("this connection is already registered"));
    return;
  }
  if (request.is_driver()) {
    RegisterDriver(client, std::move(request), std::move(respond));
    return;
  }
  proto::Address address = request.address();
  if (address.ip().empty()) address.set_ip(options_.node.node_ip());
  const WorkerId worker_id = WorkerId::FromBinary(request.worker_id());
  address.set_worker_id(worker_id.Binary());
  address.set_node_id(node_id_.Binary());
  absl::StatusOr<JobId> job_id = pool_->RegisterWorker(worker_id, request.pid(), address);
  if (!job_id.ok()) {
    respond.Fail(job_id.status());
    return;
  }
  client.kind = Kind::kWorker;
  client.worker_id = worker_id;
  client.job_id = *job_id;
  client.pid = request.pid();
  proto::RegisterClientReply reply;
  FillRegistration(*job_id, &reply);
  respond(reply);
  spdlog::info("worker {} pid {} registered for job {}", client.worker_id.Hex(), client.pid,
               client.job_id.Hex());
  leases_->Schedule();
  MarkDirty();
}

void NodeManager::FillRegistration(const JobId& job_id, proto::RegisterClientReply* reply) const {
  reply->set_node_id(node_id_.Binary());
  reply->set_job_id(job_id.Binary());
  reply->set_gcs_address(options_.pool.gcs_address);
  reply->set_session_dir(options_.node.session_dir());
  reply->set_store_socket(options_.store_socket);
  reply->set_inline_object_memory(options_.inline_object_memory);
}

void NodeManager::RegisterDriver(Client& client, proto::RegisterClientRequest request,
                                 RegisterResponder respond) {
  client.kind = Kind::kDriverPending;
  client.worker_id = WorkerId::FromBinary(request.worker_id());
  client.pid = request.pid();
  proto::JobInfo job = request.job();
  if (job.driver_pid() == 0) job.set_driver_pid(request.pid());
  if (job.driver_ip().empty()) {
    job.set_driver_ip(request.address().ip().empty() ? options_.node.node_ip()
                                                     : request.address().ip());
  }
  if (job.start_time_ms() == 0) job.set_start_time_ms(absl::ToUnixMillis(absl::Now()));
  // The reply waits for the GCS; the loop does not.
  gcs_->Post([this, loop = loop_, alive = alive_, id = client.id, respond, job](GcsAccessor& gcs) {
    absl::StatusOr<JobId> job_id = gcs.AddJob(job);
    loop->Post([this, alive, id, respond, job, job_id = std::move(job_id)]() mutable {
      if (*alive) OnJobAdded(id, respond, std::move(job), std::move(job_id));
    });
  });
}

void NodeManager::OnJobAdded(uint64_t client_id, const RegisterResponder& respond,
                             proto::JobInfo job, absl::StatusOr<JobId> job_id) {
  auto it = clients_.find(client_id);
  if (it == clients_.end() || shut_down_) {
    // The driver left while the GCS was adding its job.
    if (job_id.ok()) MarkJobFinished(*job_id);
    return;
  }
  Client& client = *it->second;
  if (!job_id.ok()) {
    client.kind = Kind::kUnregistered;
    respond.Fail(absl::Status(job_id.status().code(),
                              absl::StrCat("could not register the job with the GCS: ",
                                           job_id.status().message())));
    return;
  }
  client.kind = Kind::kDriver;
  client.job_id = *job_id;
  job.set_job_id(job_id->Binary());
  pool_->AddJob(*job_id, job);
  pool_->AddDriver(client.worker_id, *job_id, client.pid);
  proto::RegisterClientReply reply;
  FillRegistration(*job_id, &reply);
  respond(reply);
  spdlog::info("driver pid {} registered job {}", client.pid, job_id->Hex());
  // Prestarted workers run in the job's env (what its driver's tasks inherit); with eager_install
  // the env is prepared now even without them, and without it nothing starts before a request.
  const proto::RuntimeEnvInfo& env = job.runtime_env();
  const bool eager = env.hash().empty() || EagerInstall(env);
  if (eager && options_.prestart_per_job > 0) {
    pool_->StartWorkers(*job_id, env, JobLanguage(job), options_.prestart_per_job);
  } else if (eager) {
    pool_->PrepareJobEnv(*job_id);
  }
  MarkDirty();
}

void NodeManager::UpdateClusterView(const proto::GetClusterStatusReply& view) {
  scheduler_.UpdateView(view);
  // Requests that named a node this raylet did not know yet: decide again (they wait at most
  // kAwaitNodeInView for it to appear).
  std::vector<AwaitingView> waiting;
  waiting.swap(awaiting_view_);
  for (auto& w : waiting) {
    if (clients_.find(w.client_id) == clients_.end()) continue;  // the requester left
    PlaceLease(w.client_id, w.respond, w.request, w.give_up);
  }
  if (options_.objects) {
    // Dead is final: a node NODE_DIED named stays dead for pulls too, whatever this view says.
    std::map<NodeId, ObjectManager::NodeAddress> nodes;
    for (const auto& id : scheduler_.declared_dead()) nodes[id].alive = false;
    for (const auto& node : view.nodes()) {
      auto [it, added] = nodes.try_emplace(NodeId::FromBinary(node.node_id()));
      it->second = {node.node_ip(), node.raylet_port(),
                    added && node.state() == proto::NODE_ALIVE};
    }
    options_.objects->SetClusterView(std::move(nodes));
  }
  if (scheduler_.num_remote_nodes() == 0) return;
  leases_->ReplaceWaiting([this](const proto::RequestWorkerLeaseRequest& request,
                                    const LeaseManager::ReplyFn& reply) {
    auto spill = Spillback(request);
    if (!spill) return false;
    reply(*spill);
    return true;
  });
}

std::optional<absl::StatusOr<proto::RequestWorkerLeaseReply>> NodeManager::Spillback(
    const proto::RequestWorkerLeaseRequest& request, bool* wait_for_view) {
  std::map<std::string, double> map(request.resources().begin(), request.resources().end());
  if (map.empty()) map[scheduling::kCPU] = 1;
  auto asked = scheduling::ResourceSet::FromMap(map);
  if (!asked.ok()) return asked.status();
  auto decision =
      scheduler_.Pick(*asked, request.strategy(), leases_->total(), leases_->available(),
                      NodeId::FromBinary(request.preferred_node_id()));
  if (decision.wait_for_view && wait_for_view) {
    *wait_for_view = true;
    return std::nullopt;
  }
  if (!decision.error.empty()) return absl::FailedPreconditionError(decision.error);
  if (decision.local) return std::nullopt;
  scheduler_.Charge(NodeId::FromBinary(decision.node.node_id()), *asked);
  proto::RequestWorkerLeaseReply reply;
  reply.set_lease_id(request.lease_id());
  reply.mutable_retry_at_raylet()->set_ip(decision.node.node_ip());
  reply.mutable_retry_at_raylet()->set_port(decision.node.raylet_port());
  reply.mutable_retry_at_raylet()->set_node_id(decision.node.node_id());
  reply.set_near_arguments(decision.near_arguments);
  if (const proto::JobInfo* job = pool_->JobInfoOf(JobId::FromBinary(request.job_id()))) {
    *reply.mutable_job() = *job;
  }
  return reply;
}

void NodeManager::HandleRequestLease(Client& client,
                                     const proto::RequestWorkerLeaseRequest& request,
                                     LeaseResponder respond) {
  const JobId job_id = JobId::FromBinary(request.job_id());
  // A request of the ended job still in flight (a spillback retry, a worker not killed yet) must
  // not bring it back; the GCS may (a detached actor of the job restarting here).
  if (ended_jobs_.contains(job_id) && client.conn->peer_role() != proto::ROLE_GCS) {
    respond.Fail(absl::FailedPreconditionError(
        absl::StrCat("job ", job_id.Hex(), " has ended: no more workers start for it")));
    return;
  }
  if (!pool_->HasJob(job_id) && request.job().job_id() == request.job_id() && !job_id.IsNil()) {
    // An actor lease from the GCS for a job that has no driver here (a detached actor
    // restarting after its driver left, or a job started on another node).
    pool_->AddJob(job_id, request.job());
  }
  if (!pool_->HasJob(job_id)) {
    respond.Fail(absl::FailedPreconditionError(
        absl::StrCat("unknown job ", ToHex(request.job_id()),
                     ": no driver of this job is registered with this raylet")));
    return;
  }
  PlaceLease(client.id, respond, request, absl::Now() + kAwaitNodeInView);
}

void NodeManager::PlaceLease(uint64_t client_id, const LeaseResponder& respond,
                             const proto::RequestWorkerLeaseRequest& request,
                             absl::Time give_up) {
  // A request of a removed placement group gets its error here and now.
  auto asked = scheduling::ResourceSet::FromMap(
      std::map<std::string, double>(request.resources().begin(), request.resources().end()));
  if (asked.ok()) {
    if (std::string why = bundles_->RejectionOf(*asked); !why.empty()) {
      respond.Fail(absl::FailedPreconditionError(why));
      return;
    }
  }
  if (!request.spilled()) {
    // Which node: here, or spillback to another raylet (the requester asks it directly).
    // Past give_up, a node still missing from the view is an error rather than a wait.
    bool wait = false;
    auto spill = Spillback(request, absl::Now() < give_up ? &wait : nullptr);
    if (wait) {
      awaiting_view_.push_back({client_id, respond, request, give_up});
      return;
    }
    if (spill) {
      respond(*spill);
      return;
    }
  }
  const bool for_actor = !request.actor_id().empty();
  const bool detached = request.detached_actor();
  leases_->RequestLease(
      client_id, request,
      [this, respond, for_actor,
       detached](const absl::StatusOr<proto::RequestWorkerLeaseReply>& reply) {
        if (for_actor && reply.ok() && reply->granted()) {
          pool_->MarkActorWorker(WorkerId::FromBinary(reply->worker_address().worker_id()),
                                 detached);
        }
        respond(reply);
      });
}

void NodeManager::OnClose(uint64_t client_id) {
  auto it = clients_.find(client_id);
  if (it == clients_.end()) return;
  std::unique_ptr<Client> client = std::move(it->second);
  clients_.erase(it);
  client->conn->user_data = nullptr;
  if (client->reported_objects) gcs_->DropObjects(client->worker_id);
  switch (client->kind) {
    case Kind::kWorker:
      pool_->OnWorkerDisconnected(client->worker_id);
      leases_->OnWorkerDied(client->worker_id);
      break;
    case Kind::kDriver:
      EndJob(client->job_id, "its driver disconnected");
      pool_->DriverExited(client->worker_id);
      MarkJobFinished(client->job_id);
      break;
    case Kind::kDriverPending:  // OnJobAdded finishes the job
    case Kind::kUnregistered:
      break;
  }
  leases_->OnClientDisconnected(client_id);
  MarkDirty();
}

void NodeManager::EndJob(const JobId& job_id, std::string_view why) {
  if (!pool_->RemoveJob(job_id)) return;  // unknown here, or ended already
  ended_jobs_.insert(job_id);
  spdlog::info("job {} ended ({}); stopping its workers", job_id.Hex(), why);
  MarkDirty();
}

void NodeManager::MarkJobFinished(const JobId& job_id) {
  gcs_->Post([job_id](GcsAccessor& gcs) {
    absl::Status status = gcs.MarkJobFinished(job_id);
    if (!status.ok()) {
      spdlog::warn("MarkJobFinished({}) failed: {}", job_id.Hex(), status.ToString());
    }
  });
}

void NodeManager::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  server_.reset();
  std::vector<std::shared_ptr<rpc::Connection>> conns;
  for (auto& [id, client] : clients_) conns.push_back(client->conn);
  for (auto& conn : conns) conn->Close();  // OnClose runs for each: drivers' jobs finish
  pool_->KillAll(grace);
  if (debounce_timer_ != 0) loop_->CancelTimer(debounce_timer_);
  if (periodic_timer_ != 0) loop_->CancelTimer(periodic_timer_);
  debounce_timer_ = periodic_timer_ = 0;
  SendReport();
}

template <typename Message>
void NodeManager::FillResources(Message* message, bool with_group_scoped) const {
  // Every resource of the node appears, including those at zero (fully used).
  for (const auto& [name, units] : leases_->total().units()) {
    if (!with_group_scoped && scheduling::IsGroupScoped(name)) continue;
    (*message->mutable_resources_available())[name] = leases_->available().Get(name);
    (*message->mutable_resources_total())[name] =
        static_cast<double>(units) / scheduling::kResourceUnit;
  }
}

proto::NodeResourceReport NodeManager::BuildReport() const {
  proto::NodeResourceReport report;
  report.set_node_id(node_id_.Binary());
  FillResources(&report);
  for (auto& demand : leases_->Demands()) *report.add_demands() = std::move(demand);
  for (auto& worker : pool_->WorkerInfos()) *report.add_workers() = std::move(worker);
  if (options_.store_stats) {
    const proto::StoreStats stats = options_.store_stats();
    report.set_object_store_used(static_cast<int64_t>(stats.used()));
    report.set_object_store_spilled(static_cast<int64_t>(stats.spilled_bytes()));
  }
  return report;
}

void NodeManager::MarkDirty() {
  if (debounce_timer_ != 0 || shut_down_) return;
  debounce_timer_ = loop_->RunAfter(options_.report_debounce, [this, alive = alive_] {
    if (!*alive) return;
    debounce_timer_ = 0;
    SendReport();
  });
}

void NodeManager::SendReport() { gcs_->SubmitReport(BuildReport()); }

void NodeManager::ArmPeriodicReport() {
  periodic_timer_ = loop_->RunAfter(options_.report_period, [this, alive = alive_] {
    if (!*alive || shut_down_) return;
    SendReport();
    ArmPeriodicReport();
  });
}

}  // namespace moray::raylet
