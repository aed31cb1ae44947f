// WorkerChannel: the GCS's framed-protocol port for core workers (gRPC serves everyone else).
// Actors (docs/actors.md): creating them (CREATE_ACTOR), following their state (SUBSCRIBE_ACTOR
// -> ACTOR_UPDATE now and on every change), killing them (KILL_ACTOR) and finding named ones
// (GET_NAMED_ACTOR); updates are pushed, never polled. Task events (REPORT_TASK_EVENTS): each
// core worker's batches come straight here, without a hop through its raylet.
//
// The connection that created an actor is its owner's: when it closes, the owner is gone and its
// non-detached actors die (OWNER_DIED).
//
//   WorkerChannel channel(&loop, &actors, &scheduler);
//   channel.Listen("127.0.0.1");    // any free port: channel.port()
//   channel.Publish(info);          // from the ActorManager listener, on the loop
//
// Thread model: the given event loop's thread only.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "absl/status/status.h"
#include "gcs/actor_manager.h"
#include "gcs/actor_scheduler.h"
#include "gcs/task_event_store.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"

namespace moray::gcs {

class WorkerChannel {
 public:
  WorkerChannel(rpc::EventLoop* loop, ActorManager* actors, ActorScheduler* scheduler,
                TaskEventStore* task_events);
  ~WorkerChannel();

  absl::Status Listen(const std::string& host);
  int port() const { return server_ ? server_->port() : 0; }
  // Sends `info` to every subscriber of the actor.
  void Publish(const proto::ActorInfo& info);
  // Tells every connected core worker that `node` is DEAD (NODE_DIED).
  void PublishNodeDead(const proto::NodeInfo& node);
  void Shutdown();

 private:
  struct Client {
    std::shared_ptr<rpc::Connection> conn;
    std::unordered_set<std::string> owned;  // non-detached actors it created
  };

  void OnAccept(std::shared_ptr<rpc::Connection> conn);
  void OnMessage(Client& client, rpc::Frame&& frame);
  void HandleCreate(Client& client, const rpc::Frame& frame);
  void Subscribe(Client& client, const std::string& actor_id);
  void OnClose(rpc::Connection* key);

  rpc::EventLoop* const loop_;
  ActorManager* const actors_;
  ActorScheduler* const scheduler_;
  TaskEventStore* const task_events_;
  std::unique_ptr<rpc::Server> server_;
  std::unordered_map<rpc::Connection*, Client> clients_;
  std::unordered_map<std::string, std::unordered_set<rpc::Connection*>> subscribers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace moray::gcs
