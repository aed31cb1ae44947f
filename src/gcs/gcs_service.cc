#include "gcs/gcs_service.h"

#include "gcs/status_util.h"

namespace moray::gcs {

grpc::Status GcsServiceImpl::RegisterNode(grpc::ServerContext*,
                                          const proto::RegisterNodeRequest* request,
                                          proto::RegisterNodeReply* reply) {
  reply->set_actor_port(actor_port_);
  return ToGrpcStatus(nodes_->RegisterNode(request->node()));
}

grpc::Status GcsServiceImpl::UnregisterNode(grpc::ServerContext*,
                                            const proto::UnregisterNodeRequest* request,
                                            proto::UnregisterNodeReply*) {
  absl::Status status = nodes_->UnregisterNode(request->node_id(), request->reason());
  if (status.ok()) objects_->DropNode(request->node_id());  // its workers are gone with it
  return ToGrpcStatus(status);
}

grpc::Status GcsServiceImpl::ReportResources(grpc::ServerContext*,
                                             const proto::ReportResourcesRequest* request,
                                             proto::ReportResourcesReply* reply) {
  absl::Status status = nodes_->ReportResources(request->report());
  if (status.ok()) *reply->mutable_cluster() = nodes_->GetClusterStatus();
  return ToGrpcStatus(status);
}

grpc::Status GcsServiceImpl::GetAllNodes(grpc::ServerContext*, const proto::GetAllNodesRequest*,
                                         proto::GetAllNodesReply* reply) {
  for (auto& node : nodes_->GetAllNodes()) *reply->add_nodes() = std::move(node);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::AddJob(grpc::ServerContext*, const proto::AddJobRequest* request,
                                    proto::AddJobReply* reply) {
  auto job_id = jobs_->AddJob(request->job());
  if (!job_id.ok()) return ToGrpcStatus(job_id.status());
  reply->set_job_id(*job_id);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::MarkJobFinished(grpc::ServerContext*,
                                             const proto::MarkJobFinishedRequest* request,
                                             proto::MarkJobFinishedReply*) {
  absl::Status status = jobs_->MarkJobFinished(request->job_id());
  objects_->DropJob(request->job_id());
  // Its non-detached actors die with it (the actor scheduler follows and stops their workers).
  auto dead = actors_->OnJobFinished(request->job_id());
  if (status.ok() && !dead.ok()) status = dead.status();
  return ToGrpcStatus(status);
}

grpc::Status GcsServiceImpl::GetAllJobs(grpc::ServerContext*, const proto::GetAllJobsRequest*,
                                        proto::GetAllJobsReply* reply) {
  auto jobs = jobs_->GetAllJobs();
  if (!jobs.ok()) return ToGrpcStatus(jobs.status());
  for (auto& job : *jobs) *reply->add_jobs() = std::move(job);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::KvPut(grpc::ServerContext*, const proto::KvPutRequest* request,
                                   proto::KvPutReply* reply) {
  auto added = kv_->Put(request->ns(), request->key(), request->value(), request->overwrite());
  if (!added.ok()) return ToGrpcStatus(added.status());
  reply->set_added(*added);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::KvGet(grpc::ServerContext*, const proto::KvGetRequest* request,
                                   proto::KvGetReply* reply) {
  auto value = kv_->Get(request->ns(), request->key());
  if (!value.ok()) return ToGrpcStatus(value.status());
  reply->set_found(value->has_value());
  if (value->has_value()) reply->set_value(std::move(**value));
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::KvDel(grpc::ServerContext*, const proto::KvDelRequest* request,
                                   proto::KvDelReply* reply) {
  auto deleted = kv_->Del(request->ns(), request->key(), request->by_prefix());
  if (!deleted.ok()) return ToGrpcStatus(deleted.status());
  reply->set_deleted(*deleted);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::KvKeys(grpc::ServerContext*, const proto::KvKeysRequest* request,
                                    proto::KvKeysReply* reply) {
  auto keys = kv_->Keys(request->ns(), request->prefix());
  if (!keys.ok()) return ToGrpcStatus(keys.status());
  for (auto& key : *keys) reply->add_keys(std::move(key));
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::AddTaskEvents(grpc::ServerContext*,
                                           const proto::AddTaskEventsRequest* request,
                                           proto::AddTaskEventsReply*) {
  task_events_->AddEvents(request->events(), request->dropped());
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::GetTasks(grpc::ServerContext*, const proto::GetTasksRequest* request,
                                      proto::GetTasksReply* reply) {
  auto tasks = task_events_->GetTasks(*request);
  if (!tasks.ok()) return ToGrpcStatus(tasks.status());
  *reply = *std::move(tasks);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::GetClusterStatus(grpc::ServerContext*,
                                              const proto::GetClusterStatusRequest*,
                                              proto::GetClusterStatusReply* reply) {
  *reply = nodes_->GetClusterStatus();
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::ReportObjects(grpc::ServerContext*,
                                           const proto::ReportObjectsRequest* request,
                                           proto::ReportObjectsReply*) {
  objects_->Report(*request);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::GetObjects(grpc::ServerContext*,
                                        const proto::GetObjectsRequest* request,
                                        proto::GetObjectsReply* reply) {
  auto objects = objects_->GetObjects(*request);
  if (!objects.ok()) return ToGrpcStatus(objects.status());
  *reply = *std::move(objects);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::RegisterActor(grpc::ServerContext*,
                                           const proto::RegisterActorRequest* request,
                                           proto::RegisterActorReply*) {
  return ToGrpcStatus(actors_->Register(request->actor()));
}

grpc::Status GcsServiceImpl::UpdateActor(grpc::ServerContext*,
                                         const proto::UpdateActorRequest* request,
                                         proto::UpdateActorReply* reply) {
  auto actor = actors_->Update(*request);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  *reply->mutable_actor() = *std::move(actor);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::GetActor(grpc::ServerContext*, const proto::GetActorRequest* request,
                                      proto::GetActorReply* reply) {
  auto actor = actors_->Get(request->actor_id());
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  *reply->mutable_actor() = *std::move(actor);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::GetNamedActor(grpc::ServerContext*,
                                           const proto::GetNamedActorRequest* request,
                                           proto::GetNamedActorReply* reply) {
  auto actor = actors_->GetNamed(request->name(), request->ray_namespace());
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  *reply->mutable_actor() = *std::move(actor);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::GetActors(grpc::ServerContext*, const proto::GetActorsRequest* request,
                                       proto::GetActorsReply* reply) {
  auto actors = actors_->GetActors(*request);
  if (!actors.ok()) return ToGrpcStatus(actors.status());
  *reply = *std::move(actors);
  return grpc::Status::OK;
}

}  // namespace moray::gcs
