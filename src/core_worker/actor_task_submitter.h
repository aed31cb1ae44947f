// ActorTaskSubmitter: the caller's side of actors (docs/actors.md). It talks to the GCS's actor
// channel (create, find by name, kill, and subscribe to each actor it calls), and sends method
// calls straight to the actor's worker over one connection per actor, in submission order:
// a call waits for its locally owned arguments, and later calls wait behind it. Replies come
// back on the same connection.
//
// While an actor is pending or restarting, calls queue here and go out once the GCS says it is
// ALIVE. When the actor's connection drops, the calls in flight wait for the GCS's verdict: a
// restart resubmits them within max_task_retries (or fails them), death fails them with the
// cause (RayActorException).
//
// The connection to an actor's worker comes from the context's pool (non-blocking; the pool says
// when it closes). Calls sent on a connection that never opened never reached the actor: they are
// queued again and the submitter reconnects after a pause.
//
// Thread model: CreateActor/GetNamedActor block the calling (non-loop) thread; Submit/Kill post;
// everything else runs on the I/O loop.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/id.h"
#include "core_worker/context.h"
#include "worker.pb.h"

namespace moray::core {

class ActorTaskSubmitter {
 public:
  // `gcs`: the GCS port core workers create and watch actors on (empty: actors are unavailable).
  ActorTaskSubmitter(CoreContext* context, rpc::Endpoint gcs);
  ~ActorTaskSubmitter();

  // Registers the actor with the GCS, which schedules its creation task `spec`. Returns the
  // registered record (with get_if_exists, maybe another live actor of that name).
  // AlreadyExists with the GCS's message for a taken name; Unavailable without a GCS.
  absl::StatusOr<proto::ActorInfo> CreateActor(const proto::TaskSpec& spec,
                                               const proto::ActorInfo& info, bool get_if_exists);
  // The live actor named `name` in `ray_namespace`, or nullopt.
  absl::StatusOr<std::optional<proto::ActorInfo>> GetNamedActor(const std::string& name,
                                                                const std::string& ray_namespace);
  void KillActor(const ActorId& actor_id, bool no_restart, proto::ActorDeathReason reason);
  // Keeps the creation task's arguments held until the actor is DEAD (a restart runs the factory
  // again with them).
  void HoldCreationArgs(const proto::TaskSpec& creation_spec);
  // Takes an ACTOR_TASK whose ids are filled in and whose return ids are tracked.
  void Submit(proto::TaskSpec spec);
  // Cancel (loop thread; Ray's semantics for actor calls): a call not sent yet leaves the queue
  // and its returns hold TASK_CANCELLED; one sent is sent WORKER_CANCEL_TASK, which the actor
  // honours only while the call is queued there (a running call is not interrupted). A cancelled
  // call is never retried. NotFound if `task_id` is no call pending here; InvalidArgument with
  // `force` (an actor's process is not killed for one call: use KillActor).
  absl::Status Cancel(const TaskId& task_id, bool force, bool recursive);
  // Cancels the calls pending here that `parent` submitted (loop thread).
  void CancelChildren(const TaskId& parent);
  // Fails every pending call (loop thread; shutdown).
  void FailAll(const std::string& reason);
  // The connection to the GCS's worker channel, connected on first use (loop thread); nullptr
  // if it cannot be reached (then tried again at most once a second).
  std::shared_ptr<rpc::Connection> GcsChannel() { return Gcs(); }
  // Other users of the GCS channel (loop thread; set before the channel's first use):
  // `on_connected` runs for each new connection (e.g. to subscribe on it), `on_message` gets
  // the frames that are not ACTOR_UPDATE.
  void SetGcsChannelHooks(std::function<void(const std::shared_ptr<rpc::Connection>&)> on_connected,
                          std::function<void(rpc::Frame&&)> on_message) {
    on_gcs_connected_ = std::move(on_connected);
    on_gcs_message_ = std::move(on_message);
  }
  // WORKER_TASK_REPLIES that came on `peer.conn` (loop thread): handled, and true, when that is
  // the connection to an actor called from here; false (frame untouched) otherwise.
  bool OnTaskReplies(const rpc::Peer& peer, rpc::Frame& frame);

 private:
  struct Call {
    proto::TaskSpec spec;
    bool resolved = false;
    proto::ErrorInfo dependency_error;
    int retries_left = 0;  // -1: unlimited
    bool cancelled = false;  // never retried; a failure is reported as TASK_CANCELLED
  };
  struct Actor {
    proto::ActorInfo info;  // the latest the GCS published; state DEPENDENCIES_UNREADY until then
    bool known = false;
    bool subscribed = false;
    std::shared_ptr<rpc::Connection> conn;  // to the actor's current worker (pooled)
    rpc::Endpoint endpoint;                 // where conn goes
    uint64_t close_id = 0;                  // the pool's OnClose registration for conn
    int connect_failures = 0;               // in a row; the first is logged
    WorkerId conn_worker_id;
    int64_t next_seq = 0;
    std::unordered_map<TaskId, Call> calls;  // every call not finished yet
    std::deque<TaskId> queue;                // not sent yet, in submission order
    std::map<int64_t, TaskId> in_flight;     // sent, by sequence number
    std::map<int64_t, TaskId> lost;          // in flight when the connection dropped
    uint64_t lost_timer = 0;
    uint64_t connect_timer = 0;
    bool flush_scheduled = false;
  };

  // The GCS actor channel, connected on first use (loop thread); nullptr if unreachable.
  std::shared_ptr<rpc::Connection> Gcs();
  // Sends `request` to the GCS from the loop and waits for the reply (non-loop threads).
  absl::StatusOr<rpc::Frame> CallGcs(uint16_t method,
                                     std::shared_ptr<const google::protobuf::MessageLite> request);
  void SubmitOnLoop(proto::TaskSpec spec);
  void Subscribe(const ActorId& actor_id, Actor& actor);
  void OnGcsMessage(rpc::Frame&& frame);
  void OnActorUpdate(const proto::ActorInfo& info);
  void Connect(const ActorId& actor_id, Actor& actor);
  void ScheduleFlush(const ActorId& actor_id, Actor& actor);
  void Flush(const ActorId& actor_id, Actor& actor);
  // Reconnects after a pause (loop thread).
  void ScheduleConnect(const ActorId& actor_id, Actor& actor);
  void OnReplies(Actor& actor, const proto::TaskRepliesRequest& replies);
  // The actor's connection `conn` closed (`why`), or is given up (a new incarnation, or death):
  // calls in flight on it are lost (or, if it never opened, queued again). It stays pooled.
  void OnDisconnected(const ActorId& actor_id, std::shared_ptr<rpc::Connection> conn,
                      const absl::Status& why);
  // Calls lost with a dropped connection: resubmitted if the actor comes back and retries allow,
  // failed otherwise.
  void SettleLost(const ActorId& actor_id, Actor& actor, bool restarted);
  void Fail(Actor& actor, const TaskId& task_id, const std::string& message);
  void FailPending(Actor& actor, const std::string& message);
  void CompleteCancelled(Actor& actor, const TaskId& task_id);
  void Complete(Actor& actor, const TaskId& task_id, const proto::TaskReply* reply,
                const proto::ErrorInfo* error);
  std::string DeathMessage(const ActorId& actor_id, const Actor& actor) const;

  CoreContext* const context_;  // not owned; outlives this
  const rpc::Endpoint gcs_endpoint_;
  std::function<void(const std::shared_ptr<rpc::Connection>&)> on_gcs_connected_;
  std::function<void(rpc::Frame&&)> on_gcs_message_;
  std::shared_ptr<rpc::Connection> gcs_;  // loop thread
  absl::Time gcs_retry_after_ = absl::InfinitePast();  // loop thread
  bool gcs_error_logged_ = false;                      // loop thread
  std::unordered_map<ActorId, Actor> actors_;          // loop thread
  std::unordered_map<ActorId, proto::TaskSpec> creation_specs_;  // loop thread
  std::unordered_map<rpc::Connection*, ActorId> by_conn_;        // loop thread: actor by conn
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace moray::core
