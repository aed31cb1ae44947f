#include "gcs/gcs_client.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gcs/status_util.h"
#include "grpcpp/grpcpp.h"

namespace moray::gcs {
namespace {

std::chrono::system_clock::time_point Deadline(absl::Duration timeout) {
  return std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  grpc::ChannelArguments args;
  // A GCS on loopback or the cluster network is never reached through an HTTP proxy, but gRPC
  // would honour http_proxy from the environment.
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  // Retry a refused connection quickly (default starts at 1 s) so Connect and reconnects after
  // a GCS restart react within a fraction of a second. GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is left
  // at its default on purpose: gRPC uses it as the least time one connection attempt (TCP and
  // HTTP/2 handshakes) may take. Set to 100 ms it made a handshake that a loaded machine
  // needed longer for fail with "tcp handshaker shutdown" although the GCS was up.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// Shortens gRPC's connection error ("failed to connect to all addresses; last error: UNKNOWN:
// ipv4:127.0.0.1:1: Failed to connect to remote host: Connection refused") to its cause.
std::string ConnectFailureReason(const grpc::Status& status) {
  const std::string& message = status.error_message();
  if (absl::StrContains(message, "Connection refused")) return "connection refused";
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) return "no answer in time";
  return message.empty() ? "unavailable" : message;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GcsClient>> GcsClient::Connect(const std::string& address,
                                                              absl::Duration timeout,
                                                              GcsClientOptions options) {
  auto fail = [&](const std::string& reason) {
    return absl::UnavailableError(absl::StrCat("could not connect to the Moray GCS at ", address,
                                               ": ", reason, ". Is a cluster running there?"));
  };
  auto channel = MakeChannel(address);
  const auto deadline = Deadline(timeout);
  // Wait until the first connection attempt settles: READY, or TRANSIENT_FAILURE (refused,
  // unreachable), or the deadline. Waiting on for a later attempt would only delay the answer
  // "nobody is there" by the whole timeout.
  for (auto state = channel->GetState(/*try_to_connect=*/true);
       state != GRPC_CHANNEL_READY && state != GRPC_CHANNEL_TRANSIENT_FAILURE;
       state = channel->GetState(/*try_to_connect=*/true)) {
    if (!channel->WaitForStateChange(state, deadline)) break;
  }
  // One fail-fast RPC then tells the story: it proves a GCS (not just any listener) answers, or
  // carries gRPC's reason for the failure.
  auto stub = proto::GcsService::NewStub(channel);
  grpc::ClientContext context;
  auto now = std::chrono::system_clock::now();
  context.set_deadline(deadline > now ? deadline : now + std::chrono::milliseconds(100));
  proto::GetAllNodesRequest request;
  proto::GetAllNodesReply reply;
  grpc::Status status = stub->GetAllNodes(&context, request, &reply);
  if (!status.ok()) return fail(ConnectFailureReason(status));
  return std::unique_ptr<GcsClient>(new GcsClient(address, std::move(stub), options));
}

GcsClient::GcsClient(std::string address, std::unique_ptr<proto::GcsService::Stub> stub,
                     GcsClientOptions options)
    : address_(std::move(address)), stub_(std::move(stub)), options_(options) {}

// Every RPC needs the same deadline, call and error annotation; this template does it once and
// the macro below only spells the stub method and its name.
template <typename Request, typename Reply, typename Method>
static absl::Status Call(proto::GcsService::Stub* stub, Method method, const char* name,
                         absl::Duration timeout, const std::string& address,
                         const Request& request, Reply* reply) {
  grpc::ClientContext context;
  context.set_deadline(Deadline(timeout));
  grpc::Status status = (stub->*method)(&context, request, reply);
  if (status.ok()) return absl::OkStatus();
  return Annotate(ToAbslStatus(status), absl::StrCat("GCS ", name, " at ", address));
}

#define MORAY_GCS_CALL(rpc, request, reply)                                                     \
  Call(stub_.get(), &proto::GcsService::Stub::rpc, #rpc, options_.rpc_timeout, address_, request, \
       reply)

absl::Status GcsClient::RegisterNode(const proto::NodeInfo& node, int* actor_port) {
  proto::RegisterNodeRequest request;
  *request.mutable_node() = node;
  proto::RegisterNodeReply reply;
  absl::Status status = MORAY_GCS_CALL(RegisterNode, request, &reply);
  if (status.ok() && actor_port) *actor_port = reply.actor_port();
  return status;
}

absl::Status GcsClient::UnregisterNode(std::string_view node_id, std::string_view reason) {
  proto::UnregisterNodeRequest request;
  request.set_node_id(std::string(node_id));
  request.set_reason(std::string(reason));
  proto::UnregisterNodeReply reply;
  return MORAY_GCS_CALL(UnregisterNode, request, &reply);
}

absl::Status GcsClient::ReportResources(const proto::NodeResourceReport& report,
                                        proto::GetClusterStatusReply* cluster) {
  proto::ReportResourcesRequest request;
  *request.mutable_report() = report;
  proto::ReportResourcesReply reply;
  absl::Status status = MORAY_GCS_CALL(ReportResources, request, &reply);
  if (status.ok() && cluster) *cluster = std::move(*reply.mutable_cluster());
  return status;
}

absl::StatusOr<std::vector<proto::NodeInfo>> GcsClient::GetAllNodes() {
  proto::GetAllNodesRequest request;
  proto::GetAllNodesReply reply;
  if (auto s = MORAY_GCS_CALL(GetAllNodes, request, &reply); !s.ok()) return s;
  return std::vector<proto::NodeInfo>(reply.nodes().begin(), reply.nodes().end());
}

absl::StatusOr<std::string> GcsClient::AddJob(const proto::JobInfo& job) {
  proto::AddJobRequest request;
  *request.mutable_job() = job;
  proto::AddJobReply reply;
  if (auto s = MORAY_GCS_CALL(AddJob, request, &reply); !s.ok()) return s;
  return reply.job_id();
}

absl::Status GcsClient::MarkJobFinished(std::string_view job_id) {
  proto::MarkJobFinishedRequest request;
  request.set_job_id(std::string(job_id));
  proto::MarkJobFinishedReply reply;
  return MORAY_GCS_CALL(MarkJobFinished, request, &reply);
}

absl::StatusOr<std::vector<proto::JobInfo>> GcsClient::GetAllJobs() {
  proto::GetAllJobsRequest request;
  proto::GetAllJobsReply reply;
  if (auto s = MORAY_GCS_CALL(GetAllJobs, request, &reply); !s.ok()) return s;
  return std::vector<proto::JobInfo>(reply.jobs().begin(), reply.jobs().end());
}

absl::StatusOr<bool> GcsClient::KvPut(std::string_view ns, std::string_view key,
                                      std::string_view value, bool overwrite) {
  proto::KvPutRequest request;
  request.set_ns(std::string(ns));
  request.set_key(std::string(key));
  request.set_value(std::string(value));
  request.set_overwrite(overwrite);
  proto::KvPutReply reply;
  if (auto s = MORAY_GCS_CALL(KvPut, request, &reply); !s.ok()) return s;
  return reply.added();
}

absl::StatusOr<std::optional<std::string>> GcsClient::KvGet(std::string_view ns,
                                                            std::string_view key) {
  proto::KvGetRequest request;
  request.set_ns(std::string(ns));
  request.set_key(std::string(key));
  proto::KvGetReply reply;
  if (auto s = MORAY_GCS_CALL(KvGet, request, &reply); !s.ok()) return s;
  if (!reply.found()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(*reply.mutable_value()));
}

absl::StatusOr<int64_t> GcsClient::KvDel(std::string_view ns, std::string_view key,
                                         bool by_prefix) {
  proto::KvDelRequest request;
  request.set_ns(std::string(ns));
  request.set_key(std::string(key));
  request.set_by_prefix(by_prefix);
  proto::KvDelReply reply;
  if (auto s = MORAY_GCS_CALL(KvDel, request, &reply); !s.ok()) return s;
  return reply.deleted();
}

absl::StatusOr<std::vector<std::string>> GcsClient::KvKeys(std::string_view ns,
                                                           std::string_view prefix) {
  proto::KvKeysRequest request;
  request.set_ns(std::string(ns));
  request.set_prefix(std::string(prefix));
  proto::KvKeysReply reply;
  if (auto s = MORAY_GCS_CALL(KvKeys, request, &reply); !s.ok()) return s;
  return std::vector<std::string>(reply.keys().begin(), reply.keys().end());
}

absl::Status GcsClient::AddTaskEvents(std::vector<proto::TaskEvent> events, int64_t dropped) {
  proto::AddTaskEventsRequest request;
  request.mutable_events()->Reserve(static_cast<int>(events.size()));
  for (auto& event : events) *request.add_events() = std::move(event);
  request.set_dropped(dropped);
  proto::AddTaskEventsReply reply;
  return MORAY_GCS_CALL(AddTaskEvents, request, &reply);
}

absl::StatusOr<proto::GetTasksReply> GcsClient::GetTasks(
    const std::vector<proto::StateFilter>& filters, int64_t limit) {
  proto::GetTasksRequest request;
  for (const auto& filter : filters) *request.add_filters() = filter;
  request.set_limit(limit);
  proto::GetTasksReply reply;
  if (auto s = MORAY_GCS_CALL(GetTasks, request, &reply); !s.ok()) return s;
  return reply;
}

absl::StatusOr<proto::GetClusterStatusReply> GcsClient::GetClusterStatus() {
  proto::GetClusterStatusRequest request;
  proto::GetClusterStatusReply reply;
  if (auto s = MORAY_GCS_CALL(GetClusterStatus, request, &reply); !s.ok()) return s;
  return reply;
}

absl::Status GcsClient::ReportObjects(const std::vector<proto::WorkerObjects>& snapshots,
                                     const std::vector<std::string>& dead_worker_ids) {
  proto::ReportObjectsRequest request;
  for (const auto& snapshot : snapshots) *request.add_snapshots() = snapshot;
  for (const auto& id : dead_worker_ids) request.add_dead_worker_ids(id);
  proto::ReportObjectsReply reply;
  return MORAY_GCS_CALL(ReportObjects, request, &reply);
}

absl::StatusOr<proto::GetObjectsReply> GcsClient::GetObjects(
    const std::vector<proto::StateFilter>& filters, int64_t limit) {
  proto::GetObjectsRequest request;
  for (const auto& filter : filters) *request.add_filters() = filter;
  request.set_limit(limit);
  proto::GetObjectsReply reply;
  if (auto s = MORAY_GCS_CALL(GetObjects, request, &reply); !s.ok()) return s;
  return reply;
}

absl::Status GcsClient::RegisterActor(const proto::ActorInfo& actor) {
  proto::RegisterActorRequest request;
  *request.mutable_actor() = actor;
  proto::RegisterActorReply reply;
  return MORAY_GCS_CALL(RegisterActor, request, &reply);
}

absl::StatusOr<proto::ActorInfo> GcsClient::UpdateActor(const proto::UpdateActorRequest& request) {
  proto::UpdateActorReply reply;
  if (auto s = MORAY_GCS_CALL(UpdateActor, request, &reply); !s.ok()) return s;
  return std::move(*reply.mutable_actor());
}

absl::StatusOr<proto::ActorInfo> GcsClient::GetActor(std::string_view actor_id) {
  proto::GetActorRequest request;
  request.set_actor_id(std::string(actor_id));
  proto::GetActorReply reply;
  if (auto s = MORAY_GCS_CALL(GetActor, request, &reply); !s.ok()) return s;
  return std::move(*reply.mutable_actor());
}

absl::StatusOr<proto::ActorInfo> GcsClient::GetNamedActor(std::string_view name,
                                                          std::string_view ray_namespace) {
  proto::GetNamedActorRequest request;
  request.set_name(std::string(name));
  request.set_ray_namespace(std::string(ray_namespace));
  proto::GetNamedActorReply reply;
  if (auto s = MORAY_GCS_CALL(GetNamedActor, request, &reply); !s.ok()) return s;
  return std::move(*reply.mutable_actor());
}

absl::StatusOr<proto::GetActorsReply> GcsClient::GetActors(
    const std::vector<proto::StateFilter>& filters, int64_t limit) {
  proto::GetActorsRequest request;
  for (const auto& filter : filters) *request.add_filters() = filter;
  request.set_limit(limit);
  proto::GetActorsReply reply;
  if (auto s = MORAY_GCS_CALL(GetActors, request, &reply); !s.ok()) return s;
  return reply;
}

#undef MORAY_GCS_CALL

}  // namespace moray::gcs
