// FakeRayRuntime: an in-memory RayRuntime for unit tests of the header templates. It records what
// the templates ask of the runtime (submitted tasks, reference counts, borrowed refs) and serves
// Put objects back from a map. Not thread-safe; tasks are recorded, never run.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ray/api/ray_exception.h"
#include "ray/api/ray_runtime.h"

namespace moray::api {

class FakeRayRuntime final : public ray::internal::RayRuntime {
 public:
  struct SubmittedTask {
    std::string function_name;
    std::vector<ray::internal::TaskArgument> args;
    ray::internal::TaskOptions options;
  };

  std::string Put(std::string data) override {
    std::string id = "object" + std::to_string(objects.size());
    objects[id] = std::move(data);
    return id;
  }

  std::vector<std::shared_ptr<ray::internal::Buffer>> Get(const std::vector<std::string>& ids,
                                                          int /*timeout_ms*/) override {
    std::vector<std::shared_ptr<ray::internal::Buffer>> values;
    for (const std::string& id : ids) {
      auto it = objects.find(id);
      if (it == objects.end()) throw ray::internal::RayTimeoutException("fake: no object " + id);
      values.push_back(std::make_shared<ray::internal::StringBuffer>(it->second));
    }
    return values;
  }

  std::vector<bool> Wait(const std::vector<std::string>& ids, int /*num_objects*/,
                         int /*timeout_ms*/) override {
    std::vector<bool> ready;
    for (const std::string& id : ids) ready.push_back(objects.count(id) > 0);
    return ready;
  }

  std::string SubmitTask(const std::string& function_name,
                         std::vector<ray::internal::TaskArgument> args,
                         const ray::internal::TaskOptions& options) override {
    tasks.push_back({function_name, std::move(args), options});
    return "task" + std::to_string(tasks.size());
  }

  void AddLocalReference(const std::string& id) override { ++references[id]; }
  void RemoveLocalReference(const std::string& id) override { --references[id]; }

  std::string GetOwnerAddress(const std::string& id) override { return "owner-of-" + id; }
  void RegisterBorrowedReference(const std::string& id, const std::string& owner) override {
    borrowed.emplace_back(id, owner);
  }

  std::map<std::string, std::string> objects;
  std::vector<SubmittedTask> tasks;
  std::map<std::string, int> references;
  std::vector<std::pair<std::string, std::string>> borrowed;
};

}  // namespace moray::api
