// A synchronous client of the GCS: one method per GCS method (proto/gcs.proto), each with a
// deadline, over the framed channel (docs/wire.md). Raylets, drivers and the state CLI use it.
//
//   auto client = GcsClient::Connect("127.0.0.1:6379", absl::Seconds(5));
//   if (!client.ok()) { ...client.status().message() says what failed and where... }
//   auto nodes = (*client)->GetAllNodes();
//   (*client)->KvPut("ns", "key", "value", /*overwrite=*/true);
//
// Errors keep the GCS's canonical code (an error reply's status) with a message naming the method
// and the address: Unavailable when the GCS cannot be reached or the connection closed before the
// reply (a call in flight is not retried: it may have been applied), DeadlineExceeded when it did
// not answer in time, Unauthenticated when the GCS refused this process's token (the message says
// what was missing or wrong), PermissionDenied for a method this process's role may not call.
// After the connection closes, the next call reconnects; while connects keep failing, calls fail
// at once until the back-off (rpc::Backoff) allows the next attempt.
//
// Thread model: thread-safe; calls block the calling thread (never call from an event loop) and
// share one connection, whose I/O runs on the client's own event-loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "rpc/connection_pool.h"
#include "rpc/event_loop.h"

namespace google::protobuf {
class MessageLite;
}

namespace moray::gcs {

struct GcsClientOptions {
  absl::Duration rpc_timeout = absl::Seconds(10);     // deadline of every call
  absl::Duration connect_timeout = absl::Seconds(5);  // of each reconnect
  rpc::Backoff::Options reconnect_backoff;            // spacing of failed reconnects
};

class GcsClient {
 public:
  // Resolves the host of `address` ("host:port"; on the calling thread), connects and checks with
  // a cheap call that a GCS answers. Fails within about `timeout`: Unavailable with a message such
  // as "could not connect to the Moray GCS at 127.0.0.1:1234: connection refused. Is a cluster
  // running there?"; the handshake's code (Unauthenticated, PermissionDenied, FailedPrecondition)
  // when the GCS refused this process, with the GCS's reason; InvalidArgument for a malformed
  // address.
  static absl::StatusOr<std::unique_ptr<GcsClient>> Connect(
      const std::string& address, absl::Duration timeout = absl::Seconds(5),
      GcsClientOptions options = {});
  ~GcsClient();
  GcsClient(const GcsClient&) = delete;
  GcsClient& operator=(const GcsClient&) = delete;

  const std::string& address() const { return address_; }
  // The GCS's address resolved (its name, if it had one, is resolved once at Connect).
  const rpc::Endpoint& endpoint() const { return endpoint_; }

  // Nodes (RegisterNode, UnregisterNode, ReportResources: raylets only).
  absl::Status RegisterNode(const proto::NodeInfo& node);
  absl::Status UnregisterNode(const NodeId& node_id, std::string_view reason);
  // `cluster` (if given) receives the GCS's view of every node after the report.
  absl::Status ReportResources(const proto::NodeResourceReport& report,
                               proto::GetClusterStatusReply* cluster = nullptr);
  absl::StatusOr<std::vector<proto::NodeInfo>> GetAllNodes();

  // Jobs (AddJob, MarkJobFinished: raylets only). AddJob returns the id the GCS assigned
  // (JobIdFromInt(n), n = 1, 2, ...).
  absl::StatusOr<JobId> AddJob(const proto::JobInfo& job);
  absl::Status MarkJobFinished(const JobId& job_id);
  absl::StatusOr<std::vector<proto::JobInfo>> GetAllJobs();

  // Internal KV. KvPut returns whether the key was new; KvGet nullopt when absent; KvDel the
  // number of keys deleted.
  absl::StatusOr<bool> KvPut(std::string_view ns, std::string_view key, std::string_view value,
                             bool overwrite);
  absl::StatusOr<std::optional<std::string>> KvGet(std::string_view ns, std::string_view key);
  absl::StatusOr<int64_t> KvDel(std::string_view ns, std::string_view key, bool by_prefix);
  absl::StatusOr<std::vector<std::string>> KvKeys(std::string_view ns, std::string_view prefix);

  // Task events (REPORT_TASK_EVENTS as a call: core workers and raylets). `dropped` counts events
  // the caller had to drop.
  absl::Status ReportTaskEvents(std::vector<proto::TaskEvent> events, int64_t dropped = 0);
  // Filtered at the GCS, the first `offset` matches skipped, then limited (limit <= 0: all).
  // InvalidArgument for a bad filter.
  absl::StatusOr<proto::GetTasksReply> GetTasks(const std::vector<proto::StateFilter>& filters,
                                                int64_t limit, int64_t offset = 0);
  // Every task record counted at the GCS by function and state (`moray summary tasks`).
  absl::StatusOr<proto::SummarizeTasksReply> SummarizeTasks();

  absl::StatusOr<proto::GetClusterStatusReply> GetClusterStatus();

  // Object snapshots (raylets only): each replaces its worker's previous one; then
  // `dead_worker_ids` are dropped.
  absl::Status ReportObjects(const std::vector<proto::WorkerObjects>& snapshots,
                             const std::vector<WorkerId>& dead_worker_ids);
  // Filtered at the GCS, then limited (limit <= 0: all). InvalidArgument for a bad filter.
  absl::StatusOr<proto::GetObjectsReply> GetObjects(const std::vector<proto::StateFilter>& filters,
                                                    int64_t limit);

  // Actors, read only (core workers create and kill them on their own connection). NotFound when
  // unknown (or, by name, DEAD).
  absl::StatusOr<proto::ActorInfo> GetActor(const ActorId& actor_id);
  absl::StatusOr<proto::ActorInfo> GetNamedActor(std::string_view name,
                                                 std::string_view ray_namespace);
  // Filtered at the GCS, then limited (limit <= 0: all). InvalidArgument for a bad filter.
  absl::StatusOr<proto::GetActorsReply> GetActors(const std::vector<proto::StateFilter>& filters,
                                                  int64_t limit);

  // Placement groups (docs/scheduling.md; create and remove: core workers). `group` carries the
  // id the caller chose; the reply is the group as recorded. AlreadyExists for a name taken in
  // the namespace. Removing is idempotent. The reads answer NotFound when there is no such group.
  absl::StatusOr<proto::PlacementGroupInfo> CreatePlacementGroup(
      const proto::PlacementGroupInfo& group);
  absl::Status RemovePlacementGroup(const PlacementGroupId& group_id);
  absl::StatusOr<proto::PlacementGroupInfo> GetPlacementGroup(const PlacementGroupId& group_id);
  absl::StatusOr<proto::PlacementGroupInfo> GetNamedPlacementGroup(std::string_view name,
                                                                   std::string_view ray_namespace);
  // Filtered at the GCS, then limited (limit <= 0: all), in creation order.
  absl::StatusOr<proto::GetPlacementGroupsReply> GetPlacementGroups(
      const std::vector<proto::StateFilter>& filters, int64_t limit);
  // Answered when the group is CREATED (ready) or REMOVED, or at `timeout`, whichever is first.
  // The call's own deadline is kWaitSlack past `timeout` (for a GCS that does not keep its word:
  // DeadlineExceeded), not the client's rpc_timeout.
  static constexpr absl::Duration kWaitSlack = absl::Seconds(1);
  absl::StatusOr<proto::WaitPlacementGroupReply> WaitPlacementGroup(
      const PlacementGroupId& group_id, absl::Duration timeout);

 private:
  struct Link;  // the connection and its reconnect state, shared with the loop's callbacks

  GcsClient(std::string address, rpc::Endpoint endpoint, GcsClientOptions options);
  // One call: `reply` parsed from the answer; the status says why not. `name` is the method's
  // name for messages.
  absl::Status Call(uint16_t method, const char* name, const google::protobuf::MessageLite& request,
                    google::protobuf::MessageLite* reply, absl::Duration timeout);
  absl::Status Call(uint16_t method, const char* name, const google::protobuf::MessageLite& request,
                    google::protobuf::MessageLite* reply) {
    return Call(method, name, request, reply, options_.rpc_timeout);
  }

  const std::string address_;     // as given, for messages
  const rpc::Endpoint endpoint_;  // resolved
  const GcsClientOptions options_;
  rpc::EventLoop loop_;
  std::shared_ptr<Link> link_;
};

}  // namespace moray::gcs
