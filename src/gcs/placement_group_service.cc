#include "gcs/placement_group_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/id_status.h"

namespace moray::gcs {

absl::Status RemovePlacementGroup(PlacementGroupManager* groups, PlacementGroupScheduler* scheduler,
                                  rpc::EventLoop* actor_loop, const PlacementGroupId& id,
                                  const std::string& why) {
  auto before = groups->Get(id);
  if (!before.ok()) return before.status();
  if (before->state() == proto::PG_REMOVED) return absl::OkStatus();  // removing twice is fine
  const std::string reason = absl::StrCat("placement group ", id.Hex(), " was removed", why);
  auto removed = groups->MarkRemoved(id, reason);
  if (!removed.ok()) return removed.status();
  actor_loop->Post([scheduler, id, reason] { scheduler->Remove(id, reason); });
  return absl::OkStatus();
}

void AddPlacementGroupMethods(PlacementGroupManager* groups, PlacementGroupScheduler* scheduler,
                              rpc::EventLoop* actor_loop, rpc::Service* service) {
  service->Sync<proto::CreatePlacementGroupRequest, proto::CreatePlacementGroupReply>(
      proto::CREATE_PLACEMENT_GROUP, rpc::kCoreWorkers,
      [=](const rpc::Peer&, const proto::CreatePlacementGroupRequest& request,
          proto::CreatePlacementGroupReply* reply) {
        auto group = groups->Register(request.group());
        if (!group.ok()) return group.status();
        const PlacementGroupId id = PlacementGroupId::FromBinary(group->placement_group_id());
        actor_loop->Post([scheduler, id] { scheduler->Schedule(id); });
        *reply->mutable_group() = *std::move(group);
        return absl::OkStatus();
      });
  service->Sync<proto::RemovePlacementGroupRequest, proto::RemovePlacementGroupReply>(
      proto::REMOVE_PLACEMENT_GROUP, rpc::kCoreWorkers,
      [=](const rpc::Peer&, const proto::RemovePlacementGroupRequest& request,
          proto::RemovePlacementGroupReply*) {
        auto id = RequiredId<PlacementGroupId>(request.placement_group_id(), "placement_group_id");
        if (!id.ok()) return id.status();
        return RemovePlacementGroup(groups, scheduler, actor_loop, *id,
                                    " (ray::RemovePlacementGroup)");
      });
  service->Sync<proto::GetPlacementGroupRequest, proto::GetPlacementGroupReply>(
      proto::GET_PLACEMENT_GROUP, rpc::kAnyMember,
      [=](const rpc::Peer&, const proto::GetPlacementGroupRequest& request,
          proto::GetPlacementGroupReply* reply) {
        absl::StatusOr<proto::PlacementGroupInfo> group;
        if (!request.placement_group_id().empty()) {
          auto id =
              RequiredId<PlacementGroupId>(request.placement_group_id(), "placement_group_id");
          if (!id.ok()) return id.status();
          group = groups->Get(*id);
        } else {
          group = groups->GetNamed(request.name(), request.ray_namespace());
        }
        if (!group.ok()) return group.status();
        *reply->mutable_group() = *std::move(group);
        return absl::OkStatus();
      });
  service->Sync<proto::GetPlacementGroupsRequest, proto::GetPlacementGroupsReply>(
      proto::GET_PLACEMENT_GROUPS, rpc::kAnyMember,
      [=](const rpc::Peer&, const proto::GetPlacementGroupsRequest& request,
          proto::GetPlacementGroupsReply* reply) {
        auto list = groups->List(request);
        if (!list.ok()) return list.status();
        *reply = *std::move(list);
        return absl::OkStatus();
      });
  service->Unary<proto::WaitPlacementGroupRequest, proto::WaitPlacementGroupReply>(
      proto::WAIT_PLACEMENT_GROUP, rpc::kAnyMember,
      [=](const rpc::Peer&, proto::WaitPlacementGroupRequest&& request,
          rpc::Responder<proto::WaitPlacementGroupReply> respond) {
        auto id = RequiredId<PlacementGroupId>(request.placement_group_id(), "placement_group_id");
        if (!id.ok()) {
          respond.Fail(id.status());
          return;
        }
        const absl::Duration timeout =
            absl::Milliseconds(std::max<int64_t>(0, request.timeout_ms()));
        actor_loop->Post([scheduler, id = *id, timeout, respond = std::move(respond)]() mutable {
          scheduler->Wait(id, timeout, std::move(respond));
        });
      });
}

}  // namespace moray::gcs
