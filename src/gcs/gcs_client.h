// A synchronous client of the GCS: one method per GcsService RPC, each with a deadline. Raylets,
// drivers and the state CLI use it.
//
//   auto client = GcsClient::Connect("127.0.0.1:6379", absl::Seconds(5));
//   if (!client.ok()) { ...client.status().message() says what failed and where... }
//   auto nodes = (*client)->GetAllNodes();
//   (*client)->KvPut("ns", "key", "value", /*overwrite=*/true);
//
// Errors: gRPC failures come back as absl::Status with the same canonical code (Unavailable when
// the GCS is gone, DeadlineExceeded when it did not answer in time) and a message naming the RPC.
// Thread model: thread-safe; concurrent calls share one HTTP/2 connection.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gcs.grpc.pb.h"

namespace moray::gcs {

struct GcsClientOptions {
  absl::Duration rpc_timeout = absl::Seconds(10);  // deadline of every call
};

class GcsClient {
 public:
  // Connects to `address` ("host:port") and checks with a cheap RPC that a GCS answers. Fails
  // within about `timeout` with Unavailable and a message such as "could not connect to the Moray
  // GCS at 127.0.0.1:1234: connection refused. Is a cluster running there?".
  static absl::StatusOr<std::unique_ptr<GcsClient>> Connect(
      const std::string& address, absl::Duration timeout = absl::Seconds(5),
      GcsClientOptions options = {});

  const std::string& address() const { return address_; }

  // Nodes.
  // `actor_port` (if given) receives the port of the GCS's actor channel.
  absl::Status RegisterNode(const proto::NodeInfo& node, int* actor_port = nullptr);
  absl::Status UnregisterNode(std::string_view node_id, std::string_view reason);
  // `cluster` (if given) receives the GCS's view of every node after the report.
  absl::Status ReportResources(const proto::NodeResourceReport& report,
                               proto::GetClusterStatusReply* cluster = nullptr);
  absl::StatusOr<std::vector<proto::NodeInfo>> GetAllNodes();

  // Jobs. AddJob returns the id the GCS assigned (JobIdFromInt(n), n = 1, 2, ...).
  absl::StatusOr<std::string> AddJob(const proto::JobInfo& job);
  absl::Status MarkJobFinished(std::string_view job_id);
  absl::StatusOr<std::vector<proto::JobInfo>> GetAllJobs();

  // Internal KV. KvPut returns whether the key was new; KvGet nullopt when absent; KvDel the
  // number of keys deleted.
  absl::StatusOr<bool> KvPut(std::string_view ns, std::string_view key, std::string_view value,
                             bool overwrite);
  absl::StatusOr<std::optional<std::string>> KvGet(std::string_view ns, std::string_view key);
  absl::StatusOr<int64_t> KvDel(std::string_view ns, std::string_view key, bool by_prefix);
  absl::StatusOr<std::vector<std::string>> KvKeys(std::string_view ns, std::string_view prefix);

  // Task events. `dropped` counts events the caller had to drop.
  absl::Status AddTaskEvents(std::vector<proto::TaskEvent> events, int64_t dropped = 0);
  // Filtered at the GCS, then limited (limit <= 0: all). InvalidArgument for a bad filter.
  absl::StatusOr<proto::GetTasksReply> GetTasks(const std::vector<proto::StateFilter>& filters,
                                                int64_t limit);

  absl::StatusOr<proto::GetClusterStatusReply> GetClusterStatus();

  // Object snapshots: each replaces its worker's previous one; then `dead_worker_ids` are dropped.
  absl::Status ReportObjects(const std::vector<proto::WorkerObjects>& snapshots,
                             const std::vector<std::string>& dead_worker_ids);
  // Filtered at the GCS, then limited (limit <= 0: all). InvalidArgument for a bad filter.
  absl::StatusOr<proto::GetObjectsReply> GetObjects(const std::vector<proto::StateFilter>& filters,
                                                    int64_t limit);

  // Actors. RegisterActor: AlreadyExists for a duplicate id or a name taken in its namespace.
  // UpdateActor: FailedPrecondition for a transition the actor state machine refuses; returns the
  // updated record. GetActor / GetNamedActor: NotFound when unknown (or, by name, DEAD).
  absl::Status RegisterActor(const proto::ActorInfo& actor);
  absl::StatusOr<proto::ActorInfo> UpdateActor(const proto::UpdateActorRequest& request);
  absl::StatusOr<proto::ActorInfo> GetActor(std::string_view actor_id);
  absl::StatusOr<proto::ActorInfo> GetNamedActor(std::string_view name,
                                                 std::string_view ray_namespace);
  // Filtered at the GCS, then limited (limit <= 0: all). InvalidArgument for a bad filter.
  absl::StatusOr<proto::GetActorsReply> GetActors(const std::vector<proto::StateFilter>& filters,
                                                  int64_t limit);

 private:
  GcsClient(std::string address, std::unique_ptr<proto::GcsService::Stub> stub,
            GcsClientOptions options);

  std::string address_;
  std::unique_ptr<proto::GcsService::Stub> stub_;
  GcsClientOptions options_;
};

}  // namespace moray::gcs
