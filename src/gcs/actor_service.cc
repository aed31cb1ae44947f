#include "gcs/actor_service.h"

#include "absl/strings/str_cat.h"
#include "common/id_status.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {

ActorService::ActorService(rpc::EventLoop* actor_loop, ActorManager* actors,
                           ActorScheduler* scheduler)
    : loop_(actor_loop), actors_(actors), scheduler_(scheduler) {}

ActorService::~ActorService() { *alive_ = false; }

void ActorService::Register(rpc::Service* service) {
  service->Unary<proto::CreateActorRequest, proto::CreateActorReply>(
      proto::CREATE_ACTOR, rpc::kCoreWorkers,
      [this](const rpc::Peer& peer, proto::CreateActorRequest&& request,
             rpc::Responder<proto::CreateActorReply> respond) {
        OnActorLoop([this, conn = peer.conn, request = std::move(request),
                     respond = std::move(respond)]() mutable {
          Create(conn, std::move(request), respond);
        });
      });
  service->OneWay<proto::SubscribeActorRequest>(
      proto::SUBSCRIBE_ACTOR, rpc::kCoreWorkers,
      [this](const rpc::Peer& peer, proto::SubscribeActorRequest&& request) {
        auto actor_id = RequiredId<ActorId>(request.actor_id(), "actor_id");
        if (!actor_id.ok()) {  // a one-way message has no reply to carry the error
          spdlog::warn("SubscribeActor from {} dropped: {}", peer.conn->peer(),
                       actor_id.status().ToString());
          return;
        }
        OnActorLoop([this, conn = peer.conn, actor_id = *actor_id] { Subscribe(conn, actor_id); });
      });
  service->OneWay<proto::KillActorRequest>(
      proto::KILL_ACTOR, rpc::kCoreWorkers,
      [this](const rpc::Peer& peer, proto::KillActorRequest&& request) {
        auto actor_id = RequiredId<ActorId>(request.actor_id(), "actor_id");
        if (!actor_id.ok()) {
          spdlog::warn("KillActor from {} dropped: {}", peer.conn->peer(),
                       actor_id.status().ToString());
          return;
        }
        OnActorLoop([this, actor_id = *actor_id, request = std::move(request)] {
          proto::ActorDeathReason reason = request.reason() == proto::ACTOR_DEATH_UNSPECIFIED
                                               ? proto::ACTOR_DEATH_KILLED
                                               : request.reason();
          scheduler_->Kill(actor_id, request.no_restart(), reason);
        });
      });
}

void ActorService::Shutdown() {
  *alive_ = false;
  clients_.clear();
  subscribers_.clear();
}

ActorService::Client& ActorService::ClientOf(const std::shared_ptr<rpc::Connection>& conn) {
  Client& client = clients_[conn.get()];
  if (!client.conn) client.conn = conn;
  return client;
}

void ActorService::Create(const std::shared_ptr<rpc::Connection>& conn,
                          proto::CreateActorRequest request,
                          const rpc::Responder<proto::CreateActorReply>& respond) {
  if (conn->closed()) return;  // its owner is gone already: nothing to create for it
  auto parsed = RequiredId<ActorId>(request.spec().actor_id(), "spec.actor_id");
  if (!parsed.ok()) {
    respond.Fail(parsed.status());
    return;
  }
  const ActorId actor_id = *parsed;
  proto::ActorInfo info = request.actor();
  info.set_actor_id(actor_id.Binary());
  proto::CreateActorReply reply;
  absl::Status registered = actors_->Register(info);
  if (!registered.ok()) {
    if (absl::IsAlreadyExists(registered) && request.get_if_exists() && !info.name().empty()) {
      auto existing = actors_->GetNamed(info.name(), info.ray_namespace());
      if (existing.ok()) {
        Subscribe(conn, ActorId::FromBinary(existing->actor_id()));
        *reply.mutable_actor() = *std::move(existing);
        respond(reply);
        return;
      }
    }
    respond.Fail(registered);
    return;
  }
  Client& client = ClientOf(conn);
  if (!info.is_detached()) client.owned.insert(actor_id);
  auto stored = actors_->Get(actor_id);
  if (stored.ok()) *reply.mutable_actor() = *stored;
  respond(reply);
  // The registration's own update is published after this (the listener posts it behind us),
  // so the owner gets every change from PENDING_CREATION on.
  subscribers_[actor_id].insert(conn.get());
  scheduler_->Schedule(std::move(*request.mutable_spec()));
}

void ActorService::Subscribe(const std::shared_ptr<rpc::Connection>& conn,
                             const ActorId& actor_id) {
  ClientOf(conn);
  subscribers_[actor_id].insert(conn.get());
  auto info = actors_->Get(actor_id);
  if (info.ok()) {
    conn->Send(proto::ACTOR_UPDATE, *info);
    return;
  }
  proto::ActorInfo unknown;
  unknown.set_actor_id(actor_id.Binary());
  unknown.set_state(proto::DEAD);
  unknown.mutable_death_cause()->set_message(
      absl::StrCat("The actor ", actor_id.Hex(), " is unknown to the GCS."));
  conn->Send(proto::ACTOR_UPDATE, unknown);
}

void ActorService::Publish(const proto::ActorInfo& info) {
  auto it = subscribers_.find(ActorId::FromBinary(info.actor_id()));
  if (it == subscribers_.end()) return;
  for (rpc::Connection* key : it->second) {
    auto client = clients_.find(key);
    if (client != clients_.end()) client->second.conn->Send(proto::ACTOR_UPDATE, info);
  }
  if (info.state() == proto::DEAD) subscribers_.erase(it);  // final
}

void ActorService::OnClosed(const std::shared_ptr<rpc::Connection>& conn) {
  // Behind every request of the connection posted before it closed, so an actor it created
  // just before is owned (and dies) too.
  OnActorLoop([this, conn] { Closed(conn.get()); });
}

void ActorService::Closed(rpc::Connection* key) {
  auto it = clients_.find(key);
  if (it == clients_.end()) return;
  Client client = std::move(it->second);
  clients_.erase(it);
  for (auto sub = subscribers_.begin(); sub != subscribers_.end();) {
    sub->second.erase(key);
    sub = sub->second.empty() ? subscribers_.erase(sub) : std::next(sub);
  }
  // The owner is gone: its actors go with it.
  for (const ActorId& actor_id : client.owned) {
    auto info = actors_->Get(actor_id);
    if (!info.ok() || info->state() == proto::DEAD) continue;
    proto::UpdateActorRequest update;
    update.set_actor_id(actor_id.Binary());
    update.set_state(proto::DEAD);
    update.mutable_death_cause()->set_reason(proto::ACTOR_DEATH_OWNER_DIED);
    update.mutable_death_cause()->set_message(absl::StrCat(
        "The actor's owner (", info->owner_address().ip(), ":", info->owner_address().port(),
        ") exited, and the actor is not detached."));
    (void)actors_->Update(update);  // the listener tells the scheduler
  }
}

}  // namespace moray::gcs
