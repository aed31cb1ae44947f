#include "gcs/worker_channel.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "common/id.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {

WorkerChannel::WorkerChannel(rpc::EventLoop* loop, ActorManager* actors, ActorScheduler* scheduler,
                             TaskEventStore* task_events)
    : loop_(loop), actors_(actors), scheduler_(scheduler), task_events_(task_events) {}

WorkerChannel::~WorkerChannel() { *alive_ = false; }

absl::Status WorkerChannel::Listen(const std::string& host) {
  auto server = rpc::Server::Listen(loop_, host, 0, [this, alive = alive_](
                                                         std::shared_ptr<rpc::Connection> conn) {
    if (*alive) {
      OnAccept(std::move(conn));
    } else {
      conn->Close();
    }
  });
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  return absl::OkStatus();
}

void WorkerChannel::Shutdown() {
  *alive_ = false;
  server_.reset();
  for (auto& [key, client] : clients_) client.conn->Close();
  clients_.clear();
  subscribers_.clear();
}

void WorkerChannel::OnAccept(std::shared_ptr<rpc::Connection> conn) {
  rpc::Connection* key = conn.get();
  clients_[key] = Client{conn, {}};
  conn->SetHandlers(
      [this, alive = alive_](const std::shared_ptr<rpc::Connection>& c, rpc::Frame&& frame) {
        if (!*alive) return;
        auto it = clients_.find(c.get());
        if (it != clients_.end()) OnMessage(it->second, std::move(frame));
      },
      [this, alive = alive_](const std::shared_ptr<rpc::Connection>& c) {
        if (*alive) OnClose(c.get());
      });
}

void WorkerChannel::OnMessage(Client& client, rpc::Frame&& frame) {
  switch (frame.method) {
    case proto::RAYLET_REPORT_TASK_EVENTS: {
      // Parsed on an arena: thousands of events per batch, freed at once.
      google::protobuf::Arena arena;
      auto* request = google::protobuf::Arena::CreateMessage<proto::ReportTaskEventsRequest>(&arena);
      if (!frame.ParseBody(request).ok()) {
        spdlog::warn("malformed task events from {}", client.conn->peer());
        return;
      }
      task_events_->AddEvents(request->events(), request->dropped());
      return;
    }
    case proto::CREATE_ACTOR:
      HandleCreate(client, frame);
      return;
    case proto::SUBSCRIBE_ACTOR: {
      proto::SubscribeActorRequest request;
      if (frame.ParseBody(&request).ok()) Subscribe(client, request.actor_id());
      return;
    }
    case proto::KILL_ACTOR: {
      proto::KillActorRequest request;
      if (!frame.ParseBody(&request).ok()) return;
      proto::ActorDeathReason reason = request.reason() == proto::ACTOR_DEATH_UNSPECIFIED
                                           ? proto::ACTOR_DEATH_KILLED
                                           : request.reason();
      scheduler_->Kill(request.actor_id(), request.no_restart(), reason);
      return;
    }
    case proto::GET_NAMED_ACTOR: {
      proto::GetNamedActorRequest request;
      proto::GetNamedActorReply reply;
      if (frame.ParseBody(&request).ok()) {
        auto actor = actors_->GetNamed(request.name(), request.ray_namespace());
        if (actor.ok()) *reply.mutable_actor() = *std::move(actor);
      }
      client.conn->Reply(frame, reply);
      return;
    }
    default:
      spdlog::warn("unexpected method {} on the actor channel from {}", frame.method,
                   client.conn->peer());
  }
}

void WorkerChannel::HandleCreate(Client& client, const rpc::Frame& frame) {
  proto::CreateActorRequest request;
  proto::CreateActorReply reply;
  if (auto parsed = frame.ParseBody(&request); !parsed.ok()) {
    reply.set_error(std::string(parsed.message()));
    client.conn->Reply(frame, reply);
    return;
  }
  proto::ActorInfo info = request.actor();
  const std::string actor_id = request.spec().actor_id();
  info.set_actor_id(actor_id);
  absl::Status registered = actors_->Register(info);
  if (!registered.ok()) {
    if (absl::IsAlreadyExists(registered) && request.get_if_exists() && !info.name().empty()) {
      auto existing = actors_->GetNamed(info.name(), info.ray_namespace());
      if (existing.ok()) {
        Subscribe(client, existing->actor_id());
        *reply.mutable_actor() = *std::move(existing);
        client.conn->Reply(frame, reply);
        return;
      }
    }
    reply.set_error(std::string(registered.message()));
    client.conn->Reply(frame, reply);
    return;
  }
  if (!info.is_detached()) client.owned.insert(actor_id);
  auto stored = actors_->Get(actor_id);
  if (stored.ok()) *reply.mutable_actor() = *stored;
  client.conn->Reply(frame, reply);
  subscribers_[actor_id].insert(client.conn.get());
  scheduler_->Schedule(std::move(*request.mutable_spec()));
}

void WorkerChannel::Subscribe(Client& client, const std::string& actor_id) {
  subscribers_[actor_id].insert(client.conn.get());
  auto info = actors_->Get(actor_id);
  if (info.ok()) {
    client.conn->Send(proto::ACTOR_UPDATE, *info);
    return;
  }
  proto::ActorInfo unknown;
  unknown.set_actor_id(actor_id);
  unknown.set_state(proto::DEAD);
  unknown.mutable_death_cause()->set_message(
      absl::StrCat("The actor ", ToHex(actor_id), " is unknown to the GCS."));
  client.conn->Send(proto::ACTOR_UPDATE, unknown);
}

void WorkerChannel::Publish(const proto::ActorInfo& info) {
  auto it = subscribers_.find(info.actor_id());
  if (it == subscribers_.end()) return;
  for (rpc::Connection* key : it->second) {
    auto client = clients_.find(key);
    if (client != clients_.end()) client->second.conn->Send(proto::ACTOR_UPDATE, info);
  }
  if (info.state() == proto::DEAD) subscribers_.erase(it);  // final
}

void WorkerChannel::PublishNodeDead(const proto::NodeInfo& node) {
  for (auto& [key, client] : clients_) client.conn->Send(proto::WORKER_NODE_DIED, node);
}

void WorkerChannel::OnClose(rpc::Connection* key) {
  auto it = clients_.find(key);
  if (it == clients_.end()) return;
  Client client = std::move(it->second);
  clients_.erase(it);
  for (auto sub = subscribers_.begin(); sub != subscribers_.end();) {
    sub->second.erase(key);
    sub = sub->second.empty() ? subscribers_.erase(sub) : std::next(sub);
  }
  // The owner is gone: its actors go with it.
  for (const std::string& actor_id : client.owned) {
    auto info = actors_->Get(actor_id);
    if (!info.ok() || info->state() == proto::DEAD) continue;
    proto::UpdateActorRequest update;
    update.set_actor_id(actor_id);
    update.set_state(proto::DEAD);
    update.mutable_death_cause()->set_reason(proto::ACTOR_DEATH_OWNER_DIED);
    update.mutable_death_cause()->set_message(absl::StrCat(
        "The actor's owner (", info->owner_address().ip(), ":", info->owner_address().port(),
        ") exited, and the actor is not detached."));
    (void)actors_->Update(update);  // the listener tells the scheduler
  }
}

}  // namespace moray::gcs
