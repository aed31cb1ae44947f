#include "gcs/gcs_client.h"

#include <algorithm>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/session.h"
#include "gcs/status_util.h"
#include "rpc/channel.h"
#include "rpc/handshake.h"

namespace moray::gcs {
namespace {

// What a reply callback delivers to the thread waiting for it.
struct Waiter {
  absl::Notification done;
  absl::Status status;  // written before `done` is notified
  rpc::Frame frame;
};

// The cause of a failed first contact, in the words of "could not connect ... : <cause>".
std::string ConnectFailureReason(const absl::Status& status, absl::Duration timeout) {
  if (absl::StrContains(status.message(), "Connection refused")) return "connection refused";
  if (absl::IsDeadlineExceeded(status)) {
    return absl::StrCat("no answer within ", absl::FormatDuration(timeout));
  }
  return std::string(status.message());
}

// A refusal by the GCS's handshake: the channel says "<peer> refused the connection: <why>".
bool IsRefusal(const absl::Status& status) {
  return absl::IsUnauthenticated(status) || absl::IsPermissionDenied(status) ||
         absl::IsFailedPrecondition(status);
}
absl::string_view RefusalReason(absl::string_view message) {
  constexpr absl::string_view kRefused = "refused the connection: ";
  const size_t at = message.find(kRefused);
  return at == absl::string_view::npos ? message : message.substr(at + kRefused.size());
}

}  // namespace

struct GcsClient::Link {
  Link(rpc::EventLoop* loop, rpc::Endpoint endpoint, std::string address,
       rpc::Backoff::Options backoff)
      : loop(loop), endpoint(std::move(endpoint)), address(std::move(address)), backoff(backoff) {}

  rpc::EventLoop* const loop;  // the client's; outlives the link's connections
  const rpc::Endpoint endpoint;
  const std::string address;

  absl::Mutex mu;
  std::shared_ptr<rpc::Connection> conn ABSL_GUARDED_BY(mu);
  rpc::Backoff backoff ABSL_GUARDED_BY(mu);
  absl::Time retry_at ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  absl::Status last_failure ABSL_GUARDED_BY(mu);

  // The open (or opening) connection, or a new one; fails at once while backing off.
  absl::StatusOr<std::shared_ptr<rpc::Connection>> Get(const std::shared_ptr<Link>& self,
                                                       absl::Duration connect_timeout) {
    absl::MutexLock lock(&mu);
    if (conn && !conn->closed()) return conn;
    const absl::Time now = absl::Now();
    if (now < retry_at) {
      return absl::Status(last_failure.code(),
                          absl::StrCat(last_failure.message(), " (not trying ", address,
                                       " again for ",
                                       absl::FormatDuration(absl::Trunc(
                                           retry_at - now, absl::Milliseconds(1))),
                                       ")"));
    }
    auto connected = rpc::Connection::Connect(loop, endpoint.ip, endpoint.port, connect_timeout);
    if (!connected.ok()) {
      Failed(connected.status(), now);
      return connected.status();
    }
    conn = *connected;
    std::weak_ptr<Link> weak = self;
    conn->SetHandlers(
        [](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& frame) {
          // The GCS pushes nothing a synchronous client asked for.
          if (frame.seq != 0) {
            c->ReplyError(frame, absl::UnimplementedError("a GCS client serves no calls"));
          }
        },
        [weak](const std::shared_ptr<rpc::Connection>& c) {
          if (auto link = weak.lock()) link->OnClosed(c);
        });
    return conn;
  }

  // Loop thread: a connect that never completed, or a refusal by the handshake, delays the next
  // attempt; a connection that was up and then closed (a GCS restart) reconnects at the next call.
  void OnClosed(const std::shared_ptr<rpc::Connection>& closed) {
    absl::MutexLock lock(&mu);
    if (conn != closed) return;
    conn.reset();
    const absl::Status why = closed->close_status();
    if (!closed->ever_connected() || IsRefusal(why)) {
      Failed(why, absl::Now());
    } else {
      backoff.Reset();
      retry_at = absl::InfinitePast();
    }
  }

  void Failed(const absl::Status& why, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    last_failure = why;
    retry_at = now + backoff.Next();
  }
};

absl::StatusOr<std::unique_ptr<GcsClient>> GcsClient::Connect(const std::string& address,
                                                              absl::Duration timeout,
                                                              GcsClientOptions options) {
  auto fail = [&](absl::string_view reason) {
    return absl::UnavailableError(absl::StrCat("could not connect to the Moray GCS at ", address,
                                               ": ", reason, ". Is a cluster running there?"));
  };
  std::string host;
  int port = 0;
  if (auto parsed = ParseHostPort(address, &host, &port); !parsed.ok()) return parsed;
  // Names are resolved here, on the caller's thread: the channel takes addresses only.
  auto ip = rpc::ResolveAddress(host);
  if (!ip.ok()) return fail(ip.status().message());
  std::unique_ptr<GcsClient> client(
      new GcsClient(address, rpc::Endpoint{*ip, port}, std::move(options)));
  // The first connection gets the caller's timeout; one cheap call then proves that a GCS (not
  // just any listener) answers, and that it admits this process.
  if (auto conn = client->link_->Get(client->link_, timeout); !conn.ok()) {
    return fail(ConnectFailureReason(conn.status(), timeout));
  }
  proto::GetAllNodesRequest request;
  proto::GetAllNodesReply reply;
  absl::Status probe = client->Call(proto::GET_ALL_NODES, nullptr, request, &reply, timeout);
  if (IsRefusal(probe)) {
    return absl::Status(probe.code(),
                        absl::StrCat("the Moray GCS at ", address, " refused this ",
                                     rpc::RoleName(rpc::GetLocalIdentity().role), ": ",
                                     RefusalReason(probe.message())));
  }
  if (!probe.ok()) return fail(ConnectFailureReason(probe, timeout));
  return client;
}

GcsClient::GcsClient(std::string address, rpc::Endpoint endpoint, GcsClientOptions options)
    : address_(std::move(address)),
      endpoint_(std::move(endpoint)),
      options_(std::move(options)),
      link_(std::make_shared<Link>(&loop_, endpoint_, address_, options_.reconnect_backoff)) {
  loop_.StartThread("gcs_client");
}

GcsClient::~GcsClient() {
  std::shared_ptr<rpc::Connection> conn;
  {
    absl::MutexLock lock(&link_->mu);
    conn = std::move(link_->conn);
  }
  if (conn) conn->Close();
  // The close runs on the loop (its socket released, its calls failed) before the loop stops.
  absl::Notification drained;
  loop_.Post([&drained] { drained.Notify(); });
  drained.WaitForNotification();
  loop_.Stop();
}

absl::Status GcsClient::Call(uint16_t method, const char* name,
                             const google::protobuf::MessageLite& request,
                             google::protobuf::MessageLite* reply, absl::Duration timeout) {
  // Connect's probe (no name) reports unannotated statuses; every other call names itself.
  auto annotate = [&](const absl::Status& status) {
    return name == nullptr ? status
                           : Annotate(status, absl::StrCat("GCS ", name, " at ", address_));
  };
  auto conn = link_->Get(link_, options_.connect_timeout);
  if (!conn.ok()) return annotate(conn.status());
  auto waiter = std::make_shared<Waiter>();
  (*conn)->Call(method, request, [waiter](absl::Status status, rpc::Frame&& frame) {
    waiter->status = std::move(status);
    waiter->frame = std::move(frame);
    waiter->done.Notify();
  });
  if (!waiter->done.WaitForNotificationWithTimeout(timeout)) {
    return annotate(absl::DeadlineExceededError(
        absl::StrCat("no reply within ", absl::FormatDuration(timeout))));
  }
  if (!waiter->status.ok()) return annotate(waiter->status);
  if (auto parsed = waiter->frame.ParseBody(reply); !parsed.ok()) {
    return annotate(absl::InternalError(absl::StrCat("the reply does not parse: ",
                                                     parsed.message())));
  }
  return absl::OkStatus();
}

#define MORAY_GCS_CALL(method, name, request, reply) Call(proto::method, name, request, reply)

absl::Status GcsClient::RegisterNode(const proto::NodeInfo& node) {
  proto::RegisterNodeRequest request;
  *request.mutable_node() = node;
  proto::RegisterNodeReply reply;
  return MORAY_GCS_CALL(REGISTER_NODE, "RegisterNode", request, &reply);
}

absl::Status GcsClient::UnregisterNode(const NodeId& node_id, std::string_view reason) {
  proto::UnregisterNodeRequest request;
  request.set_node_id(node_id.Binary());
  request.set_reason(std::string(reason));
  proto::UnregisterNodeReply reply;
  return MORAY_GCS_CALL(UNREGISTER_NODE, "UnregisterNode", request, &reply);
}

absl::Status GcsClient::ReportResources(const proto::NodeResourceReport& report,
                                        proto::GetClusterStatusReply* cluster) {
  proto::ReportResourcesRequest request;
  *request.mutable_report() = report;
  proto::ReportResourcesReply reply;
  absl::Status status = MORAY_GCS_CALL(REPORT_RESOURCES, "ReportResources", request, &reply);
  if (status.ok() && cluster) *cluster = std::move(*reply.mutable_cluster());
  return status;
}

absl::StatusOr<std::vector<proto::NodeInfo>> GcsClient::GetAllNodes() {
  proto::GetAllNodesRequest request;
  proto::GetAllNodesReply reply;
  if (auto s = MORAY_GCS_CALL(GET_ALL_NODES, "GetAllNodes", request, &reply); !s.ok()) return s;
  return std::vector<proto::NodeInfo>(reply.nodes().begin(), reply.nodes().end());
}

absl::StatusOr<JobId> GcsClient::AddJob(const proto::JobInfo& job) {
  proto::AddJobRequest request;
  *request.mutable_job() = job;
  proto::AddJobReply reply;
  if (auto s = MORAY_GCS_CALL(ADD_JOB, "AddJob", request, &reply); !s.ok()) return s;
  const JobId id = JobId::FromBinary(reply.job_id());
  if (id.IsNil()) return absl::InternalError("the GCS answered AddJob without a valid job id");
  return id;
}

absl::Status GcsClient::MarkJobFinished(const JobId& job_id) {
  proto::MarkJobFinishedRequest request;
  request.set_job_id(job_id.Binary());
  proto::MarkJobFinishedReply reply;
  return MORAY_GCS_CALL(MARK_JOB_FINISHED, "MarkJobFinished", request, &reply);
}

absl::StatusOr<std::vector<proto::JobInfo>> GcsClient::GetAllJobs() {
  proto::GetAllJobsRequest request;
  proto::GetAllJobsReply reply;
  if (auto s = MORAY_GCS_CALL(GET_ALL_JOBS, "GetAllJobs", request, &reply); !s.ok()) return s;
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
  if (auto s = MORAY_GCS_CALL(KV_PUT, "KvPut", request, &reply); !s.ok()) return s;
  return reply.added();
}

absl::StatusOr<std::optional<std::string>> GcsClient::KvGet(std::string_view ns,
                                                            std::string_view key) {
  proto::KvGetRequest request;
  request.set_ns(std::string(ns));
  request.set_key(std::string(key));
  proto::KvGetReply reply;
  if (auto s = MORAY_GCS_CALL(KV_GET, "KvGet", request, &reply); !s.ok()) return s;
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
  if (auto s = MORAY_GCS_CALL(KV_DEL, "KvDel", request, &reply); !s.ok()) return s;
  return reply.deleted();
}

absl::StatusOr<std::vector<std::string>> GcsClient::KvKeys(std::string_view ns,
                                                           std::string_view prefix) {
  proto::KvKeysRequest request;
  request.set_ns(std::string(ns));
  request.set_prefix(std::string(prefix));
  proto::KvKeysReply reply;
  if (auto s = MORAY_GCS_CALL(KV_KEYS, "KvKeys", request, &reply); !s.ok()) return s;
  return std::vector<std::string>(reply.keys().begin(), reply.keys().end());
}

absl::Status GcsClient::ReportTaskEvents(std::vector<proto::TaskEvent> events, int64_t dropped) {
  proto::ReportTaskEventsRequest request;
  request.mutable_events()->Reserve(static_cast<int>(events.size()));
  for (auto& event : events) *request.add_events() = std::move(event);
  request.set_dropped(dropped);
  proto::ReportTaskEventsReply reply;
  return MORAY_GCS_CALL(REPORT_TASK_EVENTS, "ReportTaskEvents", request, &reply);
}

absl::StatusOr<proto::GetTasksReply> GcsClient::GetTasks(
    const std::vector<proto::StateFilter>& filters, int64_t limit, int64_t offset) {
  proto::GetTasksRequest request;
  for (const auto& filter : filters) *request.add_filters() = filter;
  request.set_limit(limit);
  request.set_offset(offset);
  proto::GetTasksReply reply;
  if (auto s = MORAY_GCS_CALL(GET_TASKS, "GetTasks", request, &reply); !s.ok()) return s;
  return reply;
}

absl::StatusOr<proto::SummarizeTasksReply> GcsClient::SummarizeTasks() {
  proto::SummarizeTasksRequest request;
  proto::SummarizeTasksReply reply;
  if (auto s = MORAY_GCS_CALL(SUMMARIZE_TASKS, "SummarizeTasks", request, &reply); !s.ok()) {
    return s;
  }
  return reply;
}

absl::StatusOr<proto::GetClusterStatusReply> GcsClient::GetClusterStatus() {
  proto::GetClusterStatusRequest request;
  proto::GetClusterStatusReply reply;
  if (auto s = MORAY_GCS_CALL(GET_CLUSTER_STATUS, "GetClusterStatus", request, &reply); !s.ok()) {
    return s;
  }
  return reply;
}

absl::Status GcsClient::ReportObjects(const std::vector<proto::WorkerObjects>& snapshots,
                                      const std::vector<WorkerId>& dead_worker_ids) {
  proto::ReportObjectsRequest request;
  for (const auto& snapshot : snapshots) *request.add_snapshots() = snapshot;
  for (const auto& id : dead_worker_ids) request.add_dead_worker_ids(id.Binary());
  proto::ReportObjectsReply reply;
  return MORAY_GCS_CALL(REPORT_OBJECT_SNAPSHOTS, "ReportObjects", request, &reply);
}

absl::StatusOr<proto::GetObjectsReply> GcsClient::GetObjects(
    const std::vector<proto::StateFilter>& filters, int64_t limit) {
  proto::GetObjectsRequest request;
  for (const auto& filter : filters) *request.add_filters() = filter;
  request.set_limit(limit);
  proto::GetObjectsReply reply;
  if (auto s = MORAY_GCS_CALL(GET_OBJECTS, "GetObjects", request, &reply); !s.ok()) return s;
  return reply;
}

absl::StatusOr<proto::ActorInfo> GcsClient::GetActor(const ActorId& actor_id) {
  proto::GetActorRequest request;
  request.set_actor_id(actor_id.Binary());
  proto::GetActorReply reply;
  if (auto s = MORAY_GCS_CALL(GET_ACTOR, "GetActor", request, &reply); !s.ok()) return s;
  return std::move(*reply.mutable_actor());
}

absl::StatusOr<proto::ActorInfo> GcsClient::GetNamedActor(std::string_view name,
                                                          std::string_view ray_namespace) {
  proto::GetNamedActorRequest request;
  request.set_name(std::string(name));
  request.set_ray_namespace(std::string(ray_namespace));
  proto::GetNamedActorReply reply;
  if (auto s = MORAY_GCS_CALL(GET_NAMED_ACTOR, "GetNamedActor", request, &reply); !s.ok()) {
    return s;
  }
  return std::move(*reply.mutable_actor());
}

absl::StatusOr<proto::GetActorsReply> GcsClient::GetActors(
    const std::vector<proto::StateFilter>& filters, int64_t limit) {
  proto::GetActorsRequest request;
  for (const auto& filter : filters) *request.add_filters() = filter;
  request.set_limit(limit);
  proto::GetActorsReply reply;
  if (auto s = MORAY_GCS_CALL(GET_ACTORS, "GetActors", request, &reply); !s.ok()) return s;
  return reply;
}

absl::StatusOr<proto::PlacementGroupInfo> GcsClient::CreatePlacementGroup(
    const proto::PlacementGroupInfo& group) {
  proto::CreatePlacementGroupRequest request;
  *request.mutable_group() = group;
  proto::CreatePlacementGroupReply reply;
  if (auto s = MORAY_GCS_CALL(CREATE_PLACEMENT_GROUP, "CreatePlacementGroup", request, &reply);
      !s.ok()) {
    return s;
  }
  return std::move(*reply.mutable_group());
}

absl::Status GcsClient::RemovePlacementGroup(const PlacementGroupId& group_id) {
  proto::RemovePlacementGroupRequest request;
  request.set_placement_group_id(group_id.Binary());
  proto::RemovePlacementGroupReply reply;
  return MORAY_GCS_CALL(REMOVE_PLACEMENT_GROUP, "RemovePlacementGroup", request, &reply);
}

absl::StatusOr<proto::PlacementGroupInfo> GcsClient::GetPlacementGroup(
    const PlacementGroupId& group_id) {
  proto::GetPlacementGroupRequest request;
  request.set_placement_group_id(group_id.Binary());
  proto::GetPlacementGroupReply reply;
  if (auto s = MORAY_GCS_CALL(GET_PLACEMENT_GROUP, "GetPlacementGroup", request, &reply); !s.ok()) {
    return s;
  }
  return std::move(*reply.mutable_group());
}

absl::StatusOr<proto::PlacementGroupInfo> GcsClient::GetNamedPlacementGroup(
    std::string_view name, std::string_view ray_namespace) {
  proto::GetPlacementGroupRequest request;
  request.set_name(std::string(name));
  request.set_ray_namespace(std::string(ray_namespace));
  proto::GetPlacementGroupReply reply;
  if (auto s = MORAY_GCS_CALL(GET_PLACEMENT_GROUP, "GetPlacementGroup", request, &reply); !s.ok()) {
    return s;
  }
  return std::move(*reply.mutable_group());
}

absl::StatusOr<proto::GetPlacementGroupsReply> GcsClient::GetPlacementGroups(
    const std::vector<proto::StateFilter>& filters, int64_t limit) {
  proto::GetPlacementGroupsRequest request;
  for (const auto& filter : filters) *request.add_filters() = filter;
  request.set_limit(limit);
  proto::GetPlacementGroupsReply reply;
  if (auto s = MORAY_GCS_CALL(GET_PLACEMENT_GROUPS, "GetPlacementGroups", request, &reply);
      !s.ok()) {
    return s;
  }
  return reply;
}

absl::StatusOr<proto::WaitPlacementGroupReply> GcsClient::WaitPlacementGroup(
    const PlacementGroupId& group_id, absl::Duration timeout) {
  timeout = std::max(timeout, absl::ZeroDuration());
  proto::WaitPlacementGroupRequest request;
  request.set_placement_group_id(group_id.Binary());
  request.set_timeout_ms(absl::ToInt64Milliseconds(timeout));
  proto::WaitPlacementGroupReply reply;
  if (auto s = Call(proto::WAIT_PLACEMENT_GROUP, "WaitPlacementGroup", request, &reply,
                    timeout + kWaitSlack);
      !s.ok()) {
    return s;
  }
  return reply;
}

#undef MORAY_GCS_CALL

}  // namespace moray::gcs
