// ActorService: the actor methods of the GCS port (docs/actors.md) — creating actors
// (CREATE_ACTOR), following their state (SUBSCRIBE_ACTOR -> ACTOR_UPDATE now and on every
// change), killing them (KILL_ACTOR). Updates are pushed, never polled.
//
// The connection that created an actor is its owner's: when it closes, the owner is gone and its
// non-detached actors die (OWNER_DIED).
//
//   ActorService actors(&actor_loop, &actor_manager, &scheduler);
//   actors.Register(&service);      // before the GCS port serves
//   actors.Publish(info);           // from the ActorManager listener, on the actor loop
//   actors.OnClosed(conn);          // the GCS port's close handler
//
// Thread model: the methods' handlers run on the GCS port's loop (the service loop) and hand
// their work to the actor loop, which owns every subscription, every owner's record and the
// scheduler: one thread for actor state, and no handler of the service loop waits for it.
// Publish and Shutdown run on the actor loop; OnClosed on any thread.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/id.h"
#include "gcs.pb.h"
#include "gcs/actor_manager.h"
#include "gcs/actor_scheduler.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"

namespace moray::gcs {

class ActorService {
 public:
  // Everything must outlive the service.
  ActorService(rpc::EventLoop* actor_loop, ActorManager* actors, ActorScheduler* scheduler);
  ~ActorService();

  // Adds CREATE_ACTOR, SUBSCRIBE_ACTOR and KILL_ACTOR (core workers only) to `service`.
  void Register(rpc::Service* service);
  // Sends `info` to every subscriber of the actor (actor loop).
  void Publish(const proto::ActorInfo& info);
  // The connection closed: its subscriptions go, and the actors it owns die (any thread).
  void OnClosed(const std::shared_ptr<rpc::Connection>& conn);
  // Forgets every connection (actor loop, before it stops).
  void Shutdown();

 private:
  struct Client {
    std::shared_ptr<rpc::Connection> conn;
    std::unordered_set<ActorId> owned;  // non-detached actors it created
  };

  // Actor loop.
  void Create(const std::shared_ptr<rpc::Connection>& conn, proto::CreateActorRequest request,
              const rpc::Responder<proto::CreateActorReply>& respond);
  void Subscribe(const std::shared_ptr<rpc::Connection>& conn, const ActorId& actor_id);
  Client& ClientOf(const std::shared_ptr<rpc::Connection>& conn);
  void Closed(rpc::Connection* key);
  // Runs `fn` on the actor loop unless the service has shut down.
  template <typename F>
  void OnActorLoop(F fn) {
    loop_->Post([alive = alive_, fn = std::move(fn)]() mutable {
      if (*alive) fn();
    });
  }

  rpc::EventLoop* const loop_;
  ActorManager* const actors_;
  ActorScheduler* const scheduler_;
  // Actor loop. A Client holds its connection, so a key is never reused while present.
  std::unordered_map<rpc::Connection*, Client> clients_;
  std::unordered_map<ActorId, std::unordered_set<rpc::Connection*>> subscribers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // read on the actor loop
};

}  // namespace moray::gcs
