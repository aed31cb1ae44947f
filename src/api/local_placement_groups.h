// LocalPlacementGroups: the placement groups of local mode (LocalModeRuntime). There is no
// cluster to place them on, so a group is CREATED as soon as it is created, Wait answers at once,
// and removal only marks it REMOVED (it stays readable by id, and its name becomes free). Names
// are unique per namespace among the groups not removed. Tasks and actors in a group run as any
// other in local mode: the reservation is not enforced.
//
//   LocalPlacementGroups groups(job_id, "my_namespace");
//   ray::PlacementGroup pg = groups.Create({"pg", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK});
//
// Options and ids come checked by the public functions (src/api/placement_group.cc). Errors are
// RayException. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/id.h"
#include "ray/api/placement_group.h"

namespace moray::api {

class LocalPlacementGroups {
 public:
  // Groups get ids of `job_id`; an empty ray_namespace in the options means `job_namespace`.
  LocalPlacementGroups(JobId job_id, std::string job_namespace)
      : job_id_(job_id), job_namespace_(std::move(job_namespace)) {}

  // RayException when the name is taken in its namespace.
  ray::PlacementGroup Create(const ray::PlacementGroupCreationOptions& options);
  void Remove(const std::string& id);
  ray::PlacementGroup GetById(const std::string& id) const;
  ray::PlacementGroup GetByName(const std::string& name, const std::string& ray_namespace) const;
  std::vector<ray::PlacementGroup> GetAll() const;  // creation order
  // The state of the group (it never waits: there is nothing to wait for); RayException for an
  // unknown id.
  ray::PlacementGroupState Wait(const std::string& id) const;
  bool IsRemoved(const std::string& id) const;

 private:
  const JobId job_id_;
  const std::string job_namespace_;
  mutable std::mutex mu_;
  std::vector<ray::PlacementGroup> groups_;  // creation order; guarded by mu_
  std::map<std::string, size_t> by_id_;      // hex id -> index in groups_; guarded by mu_
  // (namespace, name) -> index of the group holding the name; guarded by mu_
  std::map<std::pair<std::string, std::string>, size_t> by_name_;
};

}  // namespace moray::api
