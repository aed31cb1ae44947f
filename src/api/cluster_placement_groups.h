// ClusterPlacementGroups: the cluster runtime's placement groups, kept by the GCS
// (docs/scheduling.md). It turns the public types (ray/api/placement_group.h) into the GCS's
// (proto::PlacementGroupInfo) and back, and makes the calls through a GcsClient.
//
//   ClusterPlacementGroups groups([&]() -> gcs::GcsClient& { return client; }, job_id, "ns");
//   ray::PlacementGroup pg = groups.Create({"pg", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK});
//   bool ready = groups.Wait(pg.GetID(), 10) == ray::CREATED;
//
// Ids are chosen here (NewPlacementGroupId of the job) and come in as checked hex (the public
// functions check them). Errors are RayException naming the call. Thread-safe: the GcsClient is,
// and the set of groups removed from this process is guarded.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/id.h"
#include "gcs.pb.h"
#include "gcs/gcs_client.h"
#include "ray/api/placement_group.h"

namespace moray::api {

// The public form of a group the GCS sent (bundles by index, id in hex).
ray::PlacementGroup PlacementGroupFromProto(const proto::PlacementGroupInfo& info);

class ClusterPlacementGroups {
 public:
  // `gcs` gives the client to call (connecting on first use; it throws RayException when it
  // cannot); it must outlive this. Groups belong to `job_id`; `job_namespace` is where names go
  // when the options give no namespace.
  ClusterPlacementGroups(std::function<gcs::GcsClient&()> gcs, JobId job_id,
                         std::string job_namespace)
      : gcs_(std::move(gcs)), job_id_(job_id), job_namespace_(std::move(job_namespace)) {}

  ray::PlacementGroup Create(const ray::PlacementGroupCreationOptions& options);
  void Remove(const std::string& id);
  ray::PlacementGroup GetById(const std::string& id);
  ray::PlacementGroup GetByName(const std::string& name, const std::string& ray_namespace);
  std::vector<ray::PlacementGroup> GetAll();
  // The group's state once it is CREATED or REMOVED, or after `timeout_seconds`: never much
  // later (GcsClient::kWaitSlack when the GCS does not answer; then UNRECOGNIZED: unknown).
  ray::PlacementGroupState Wait(const std::string& id, int timeout_seconds);
  // Removed through this process (no call to the GCS).
  bool IsRemoved(const std::string& id) const;

 private:
  std::function<gcs::GcsClient&()> gcs_;
  const JobId job_id_;
  const std::string job_namespace_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> removed_;  // hex ids; guarded by mu_
};

}  // namespace moray::api
