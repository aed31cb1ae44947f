// The gRPC face of the GCS: translates each GcsService RPC into a call on the manager that owns
// the concept. No logic lives here beyond request validation and status mapping.
//
// Thread model: gRPC's sync server calls these from its thread pool concurrently; the managers
// are thread-safe.
#pragma once

#include <atomic>

#include "gcs.grpc.pb.h"
#include "gcs/actor_manager.h"
#include "gcs/job_manager.h"
#include "gcs/kv_store.h"
#include "gcs/node_manager.h"
#include "gcs/object_snapshot_store.h"
#include "gcs/task_event_store.h"

namespace moray::gcs {

class GcsServiceImpl final : public proto::GcsService::Service {
 public:
  // All pointers are borrowed and must outlive the service.
  GcsServiceImpl(NodeManager* nodes, JobManager* jobs, KvStore* kv, TaskEventStore* task_events,
                 ObjectSnapshotStore* objects, ActorManager* actors)
      : nodes_(nodes),
        jobs_(jobs),
        kv_(kv),
        task_events_(task_events),
        objects_(objects),
        actors_(actors) {}

  // The port of the GCS's actor channel, told to raylets when they register.
  void set_actor_port(int port) { actor_port_ = port; }

  grpc::Status RegisterNode(grpc::ServerContext*, const proto::RegisterNodeRequest* request,
                            proto::RegisterNodeReply* reply) override;
  grpc::Status UnregisterNode(grpc::ServerContext*, const proto::UnregisterNodeRequest* request,
                              proto::UnregisterNodeReply* reply) override;
  grpc::Status ReportResources(grpc::ServerContext*, const proto::ReportResourcesRequest* request,
                               proto::ReportResourcesReply* reply) override;
  grpc::Status GetAllNodes(grpc::ServerContext*, const proto::GetAllNodesRequest* request,
                           proto::GetAllNodesReply* reply) override;
  grpc::Status AddJob(grpc::ServerContext*, const proto::AddJobRequest* request,
                      proto::AddJobReply* reply) override;
  grpc::Status MarkJobFinished(grpc::ServerContext*, const proto::MarkJobFinishedRequest* request,
                               proto::MarkJobFinishedReply* reply) override;
  grpc::Status GetAllJobs(grpc::ServerContext*, const proto::GetAllJobsRequest* request,
                          proto::GetAllJobsReply* reply) override;
  grpc::Status KvPut(grpc::ServerContext*, const proto::KvPutRequest* request,
                     proto::KvPutReply* reply) override;
  grpc::Status KvGet(grpc::ServerContext*, const proto::KvGetRequest* request,
                     proto::KvGetReply* reply) override;
  grpc::Status KvDel(grpc::ServerContext*, const proto::KvDelRequest* request,
                     proto::KvDelReply* reply) override;
  grpc::Status KvKeys(grpc::ServerContext*, const proto::KvKeysRequest* request,
                      proto::KvKeysReply* reply) override;
  grpc::Status AddTaskEvents(grpc::ServerContext*, const proto::AddTaskEventsRequest* request,
                             proto::AddTaskEventsReply* reply) override;
  grpc::Status GetTasks(grpc::ServerContext*, const proto::GetTasksRequest* request,
                        proto::GetTasksReply* reply) override;
  grpc::Status GetClusterStatus(grpc::ServerContext*, const proto::GetClusterStatusRequest* request,
                                proto::GetClusterStatusReply* reply) override;
  grpc::Status ReportObjects(grpc::ServerContext*, const proto::ReportObjectsRequest* request,
                             proto::ReportObjectsReply* reply) override;
  grpc::Status GetObjects(grpc::ServerContext*, const proto::GetObjectsRequest* request,
                          proto::GetObjectsReply* reply) override;
  grpc::Status RegisterActor(grpc::ServerContext*, const proto::RegisterActorRequest* request,
                             proto::RegisterActorReply* reply) override;
  grpc::Status UpdateActor(grpc::ServerContext*, const proto::UpdateActorRequest* request,
                           proto::UpdateActorReply* reply) override;
  grpc::Status GetActor(grpc::ServerContext*, const proto::GetActorRequest* request,
                        proto::GetActorReply* reply) override;
  grpc::Status GetNamedActor(grpc::ServerContext*, const proto::GetNamedActorRequest* request,
                             proto::GetNamedActorReply* reply) override;
  grpc::Status GetActors(grpc::ServerContext*, const proto::GetActorsRequest* request,
                         proto::GetActorsReply* reply) override;

 private:
  NodeManager* nodes_;
  JobManager* jobs_;
  KvStore* kv_;
  TaskEventStore* task_events_;
  ObjectSnapshotStore* objects_;
  ActorManager* actors_;
  std::atomic<int> actor_port_{0};
};

}  // namespace moray::gcs
