#include "gcs/gcs_service.h"

#include <utility>

#include "absl/strings/match.h"
#include "common/id_status.h"
#include "google/protobuf/arena.h"
#include "runtime_env/package_store.h"

namespace moray::gcs {
namespace {

constexpr rpc::Roles kRaylets = rpc::RoleBit(proto::ROLE_RAYLET);
constexpr rpc::Roles kEventReporters = rpc::kCoreWorkers | kRaylets;

// Nodes and cluster status.
void AddNodeMethods(const GcsManagers& m, rpc::Service* service) {
  service->Sync<proto::RegisterNodeRequest, proto::RegisterNodeReply>(
      proto::REGISTER_NODE, kRaylets,
      [m](const rpc::Peer&, const proto::RegisterNodeRequest& request, proto::RegisterNodeReply*) {
        absl::Status status = m.nodes->RegisterNode(request.node());
        if (status.ok() && m.on_resources_changed) m.on_resources_changed();
        return status;
      });
  service->Sync<proto::UnregisterNodeRequest, proto::UnregisterNodeReply>(
      proto::UNREGISTER_NODE, kRaylets,
      [m](const rpc::Peer&, const proto::UnregisterNodeRequest& request,
          proto::UnregisterNodeReply*) {
        auto node_id = RequiredId<NodeId>(request.node_id(), "node_id");
        if (!node_id.ok()) return node_id.status();
        absl::Status status = m.nodes->UnregisterNode(*node_id, request.reason());
        if (status.ok()) m.objects->DropNode(*node_id);  // its workers are gone with it
        if (status.ok() && m.on_node_gone) m.on_node_gone(*node_id);
        return status;
      });
  service->Sync<proto::ReportResourcesRequest, proto::ReportResourcesReply>(
      proto::REPORT_RESOURCES, kRaylets,
      [m](const rpc::Peer&, const proto::ReportResourcesRequest& request,
          proto::ReportResourcesReply* reply) {
        absl::Status status = m.nodes->ReportResources(request.report());
        if (status.ok()) *reply->mutable_cluster() = m.nodes->GetClusterStatus();
        if (status.ok() && m.on_resources_changed) m.on_resources_changed();
        return status;
      });
  service->Sync<proto::GetAllNodesRequest, proto::GetAllNodesReply>(
      proto::GET_ALL_NODES, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::GetAllNodesRequest&, proto::GetAllNodesReply* reply) {
        for (auto& node : m.nodes->GetAllNodes()) *reply->add_nodes() = std::move(node);
        return absl::OkStatus();
      });
  service->Sync<proto::GetClusterStatusRequest, proto::GetClusterStatusReply>(
      proto::GET_CLUSTER_STATUS, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::GetClusterStatusRequest&,
          proto::GetClusterStatusReply* reply) {
        *reply = m.nodes->GetClusterStatus();
        return absl::OkStatus();
      });
}

void AddJobMethods(const GcsManagers& m, rpc::Service* service) {
  service->Sync<proto::AddJobRequest, proto::AddJobReply>(
      proto::ADD_JOB, kRaylets,
      [m](const rpc::Peer&, const proto::AddJobRequest& request, proto::AddJobReply* reply) {
        auto job_id = m.jobs->AddJob(request.job());
        if (!job_id.ok()) return job_id.status();
        reply->set_job_id(job_id->Binary());
        return absl::OkStatus();
      });
  service->Sync<proto::MarkJobFinishedRequest, proto::MarkJobFinishedReply>(
      proto::MARK_JOB_FINISHED, kRaylets,
      [m](const rpc::Peer&, const proto::MarkJobFinishedRequest& request,
          proto::MarkJobFinishedReply*) {
        auto parsed = RequiredId<JobId>(request.job_id(), "job_id");
        if (!parsed.ok()) return parsed.status();
        const JobId job_id = *parsed;
        absl::Status status = m.jobs->MarkJobFinished(job_id);
        m.objects->DropJob(job_id);
        // Its non-detached actors die with it (the actor scheduler follows and stops their
        // workers).
        auto dead = m.actors->OnJobFinished(job_id);
        if (m.on_job_finished) m.on_job_finished(job_id);
        if (status.ok() && !dead.ok()) status = dead.status();
        return status;
      });
  service->Sync<proto::GetAllJobsRequest, proto::GetAllJobsReply>(
      proto::GET_ALL_JOBS, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::GetAllJobsRequest&, proto::GetAllJobsReply* reply) {
        auto jobs = m.jobs->GetAllJobs();
        if (!jobs.ok()) return jobs.status();
        for (auto& job : *jobs) *reply->add_jobs() = std::move(job);
        return absl::OkStatus();
      });
}

void AddKvMethods(const GcsManagers& m, rpc::Service* service) {
  service->Sync<proto::KvPutRequest, proto::KvPutReply>(
      proto::KV_PUT, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::KvPutRequest& request, proto::KvPutReply* reply) {
        auto added = m.kv->Put(request.ns(), request.key(), request.value(), request.overwrite());
        if (!added.ok()) return added.status();
        reply->set_added(*added);
        return absl::OkStatus();
      });
  service->Sync<proto::KvGetRequest, proto::KvGetReply>(
      proto::KV_GET, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::KvGetRequest& request, proto::KvGetReply* reply) {
        auto value = m.kv->Get(request.ns(), request.key());
        if (!value.ok()) return value.status();
        reply->set_found(value->has_value());
        if (value->has_value()) reply->set_value(std::move(**value));
        return absl::OkStatus();
      });
  service->Sync<proto::KvDelRequest, proto::KvDelReply>(
      proto::KV_DEL, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::KvDelRequest& request, proto::KvDelReply* reply) {
        auto deleted = m.kv->Del(request.ns(), request.key(), request.by_prefix());
        if (!deleted.ok()) return deleted.status();
        reply->set_deleted(*deleted);
        if (*deleted > 0 && m.on_package_ref_dropped &&
            request.ns() == runtime_env::kPackageNamespace &&
            absl::StartsWith(request.key(), "refs/")) {
          m.on_package_ref_dropped();
        }
        return absl::OkStatus();
      });
  service->Sync<proto::KvKeysRequest, proto::KvKeysReply>(
      proto::KV_KEYS, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::KvKeysRequest& request, proto::KvKeysReply* reply) {
        auto keys = m.kv->Keys(request.ns(), request.prefix());
        if (!keys.ok()) return keys.status();
        for (auto& key : *keys) reply->add_keys(std::move(key));
        return absl::OkStatus();
      });
}

// Task events, object snapshots and the state queries over them and the actor table.
void AddStateMethods(const GcsManagers& m, rpc::Service* service) {
  // Raw: a batch holds thousands of events, parsed on an arena and freed at once. One-way from
  // core workers; a call from a raylet, which wants to know the batch arrived.
  service->Raw(proto::REPORT_TASK_EVENTS, kEventReporters,
               [m, service](const rpc::Peer& peer, rpc::Frame&& frame) {
                 google::protobuf::Arena arena;
                 auto* request =
                     google::protobuf::Arena::CreateMessage<proto::ReportTaskEventsRequest>(&arena);
                 if (auto parsed = frame.ParseBody(request); !parsed.ok()) {
                   service->Malformed(peer, frame, parsed);
                   return;
                 }
                 m.task_events->AddEvents(request->events(), request->dropped());
                 if (frame.seq != 0) peer.conn->Reply(frame, proto::ReportTaskEventsReply());
               });
  service->Sync<proto::GetTasksRequest, proto::GetTasksReply>(
      proto::GET_TASKS, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::GetTasksRequest& request, proto::GetTasksReply* reply) {
        auto tasks = m.task_events->GetTasks(request);
        if (!tasks.ok()) return tasks.status();
        *reply = *std::move(tasks);
        return absl::OkStatus();
      });
  service->Sync<proto::SummarizeTasksRequest, proto::SummarizeTasksReply>(
      proto::SUMMARIZE_TASKS, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::SummarizeTasksRequest&,
          proto::SummarizeTasksReply* reply) {
        *reply = m.task_events->SummarizeTasks();
        return absl::OkStatus();
      });
  service->Sync<proto::ReportObjectsRequest, proto::ReportObjectsReply>(
      proto::REPORT_OBJECT_SNAPSHOTS, kRaylets,
      [m](const rpc::Peer&, const proto::ReportObjectsRequest& request,
          proto::ReportObjectsReply*) {
        m.objects->Report(request);
        return absl::OkStatus();
      });
  service->Sync<proto::GetObjectsRequest, proto::GetObjectsReply>(
      proto::GET_OBJECTS, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::GetObjectsRequest& request,
          proto::GetObjectsReply* reply) {
        auto objects = m.objects->GetObjects(request);
        if (!objects.ok()) return objects.status();
        *reply = *std::move(objects);
        return absl::OkStatus();
      });
  service->Sync<proto::GetActorRequest, proto::GetActorReply>(
      proto::GET_ACTOR, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::GetActorRequest& request, proto::GetActorReply* reply) {
        auto actor_id = RequiredId<ActorId>(request.actor_id(), "actor_id");
        if (!actor_id.ok()) return actor_id.status();
        auto actor = m.actors->Get(*actor_id);
        if (!actor.ok()) return actor.status();
        *reply->mutable_actor() = *std::move(actor);
        return absl::OkStatus();
      });
  service->Sync<proto::GetNamedActorRequest, proto::GetNamedActorReply>(
      proto::GET_NAMED_ACTOR, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::GetNamedActorRequest& request,
          proto::GetNamedActorReply* reply) {
        auto actor = m.actors->GetNamed(request.name(), request.ray_namespace());
        if (!actor.ok()) return actor.status();
        *reply->mutable_actor() = *std::move(actor);
        return absl::OkStatus();
      });
  service->Sync<proto::GetActorsRequest, proto::GetActorsReply>(
      proto::GET_ACTORS, rpc::kAnyMember,
      [m](const rpc::Peer&, const proto::GetActorsRequest& request, proto::GetActorsReply* reply) {
        auto actors = m.actors->GetActors(request);
        if (!actors.ok()) return actors.status();
        *reply = *std::move(actors);
        return absl::OkStatus();
      });
}

}  // namespace

void AddGcsMethods(const GcsManagers& managers, rpc::Service* service) {
  AddNodeMethods(managers, service);
  AddJobMethods(managers, service);
  AddKvMethods(managers, service);
  AddStateMethods(managers, service);
}

}  // namespace moray::gcs
