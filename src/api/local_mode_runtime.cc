#include "api/local_mode_runtime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <utility>

#include "api/task_error.h"
#include "common/id.h"
#include "ray/api/function_manager.h"
#include "ray/api/ray_exception.h"
#include "ray/api/util.h"
#include "spdlog/spdlog.h"

namespace moray::api {
namespace {

using ray::internal::ArgView;
using ray::internal::Buffer;
using ray::internal::StringBuffer;

constexpr char kOwnerAddress[] = "local-mode";

size_t DefaultThreads(size_t requested) {
  if (requested > 0) return requested;
  return std::max<size_t>(2, std::thread::hardware_concurrency());
}

std::string Hex(const std::string& id) { return ray::internal::BinaryToHex(id); }

}  // namespace

LocalModeRuntime::LocalModeRuntime(Options options)
    : job_id_(JobIdFromInt(1)),
      driver_task_id_(NewTaskId(job_id_)),
      pool_(DefaultThreads(options.num_threads)) {}

LocalModeRuntime::~LocalModeRuntime() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  ready_cv_.notify_all();
  pool_.Stop();
}

void LocalModeRuntime::ThrowIfShuttingDownLocked() const {
  if (shutting_down_) throw ray::internal::RayException("Moray (local mode) is shutting down");
}

std::string LocalModeRuntime::Put(std::string data) {
  std::lock_guard<std::mutex> lock(mu_);
  ThrowIfShuttingDownLocked();
  std::string id = ObjectIdForPut(driver_task_id_, next_put_index_++);
  Object& object = objects_[id];
  object.ready = true;
  object.value = std::make_shared<StringBuffer>(std::move(data));
  return id;
}

std::vector<std::shared_ptr<Buffer>> LocalModeRuntime::Get(const std::vector<std::string>& ids,
                                                           int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  auto all_ready = [&] {
    return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
      auto it = objects_.find(id);
      return it == objects_.end() || it->second.ready;  // unknown ids fail below
    });
  };
  if (!shutting_down_ && !all_ready()) {
    BlockingScope blocking(pool_);
    auto done = [&] { return shutting_down_ || all_ready(); };
    if (timeout_ms < 0) {
      ready_cv_.wait(lock, done);
    } else if (!ready_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done)) {
      for (const std::string& id : ids) {
        auto it = objects_.find(id);
        if (it != objects_.end() && !it->second.ready) {
          throw ray::internal::RayTimeoutException("Get timed out after " +
                                                   std::to_string(timeout_ms) + " ms: object " +
                                                   Hex(id) + " is not ready");
        }
      }
    }
  }
  ThrowIfShuttingDownLocked();
  std::vector<std::shared_ptr<Buffer>> values;
  values.reserve(ids.size());
  std::exception_ptr first_error;
  for (const std::string& id : ids) {
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      throw ray::internal::UnreconstructableException(
          "Object " + Hex(id) + " is unknown to this runtime or was already freed");
    }
    it->second.fetched = true;
    if (it->second.error && !first_error) first_error = it->second.error;
    values.push_back(it->second.value);
  }
  if (first_error) std::rethrow_exception(first_error);
  return values;
}

std::vector<bool> LocalModeRuntime::Wait(const std::vector<std::string>& ids, int num_objects,
                                         int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<bool> ready(ids.size(), false);
  auto enough_ready = [&] {
    int count = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = objects_.find(ids[i]);
      ready[i] = it == objects_.end() || it->second.ready;  // unknown: Get fails at once
      count += ready[i] ? 1 : 0;
    }
    return count >= num_objects;
  };
  if (!enough_ready()) {
    BlockingScope blocking(pool_);
    auto done = [&] { return shutting_down_ || enough_ready(); };
    if (timeout_ms < 0) {
      ready_cv_.wait(lock, done);
    } else {
      ready_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done);
    }
  }
  ThrowIfShuttingDownLocked();
  return ready;
}

std::string LocalModeRuntime::SubmitTask(const std::string& function_name,
                                         std::vector<ray::internal::TaskArgument> args,
                                         const ray::internal::TaskOptions& options) {
  auto task = std::make_shared<Task>();
  task->function_name = function_name;
  task->args = std::move(args);
  task->options = options;
  task->return_id = ObjectIdForReturn(NewTaskId(job_id_), 1);
  // One count per unresolved argument plus one for this function; whoever drops it to zero posts.
  auto unresolved = std::make_shared<std::atomic<int>>(1);
  auto post_when_resolved = [this, task, unresolved] {
    if (unresolved->fetch_sub(1) == 1) pool_.Post([this, task] { Execute(*task); });
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    ThrowIfShuttingDownLocked();
    objects_[task->return_id];
    for (const auto& arg : task->args) {
      if (!arg.is_ref) continue;
      auto it = objects_.find(arg.object_id);
      if (it == objects_.end()) continue;  // Execute reports it
      ++it->second.references;             // pinned until the task ran
      if (!it->second.ready) {
        unresolved->fetch_add(1);
        it->second.on_ready.push_back(post_when_resolved);
      }
    }
  }
  post_when_resolved();
  return task->return_id;
}

void LocalModeRuntime::Execute(const Task& task) {
  std::vector<std::shared_ptr<Buffer>> held;  // keeps argument values alive during the call
  std::vector<ArgView> views;
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& arg : task.args) {
      if (!arg.is_ref) {
        views.push_back({arg.value.data(), arg.value.size()});
        continue;
      }
      auto it = objects_.find(arg.object_id);
      if (it == objects_.end()) {
        error = std::make_exception_ptr(ray::internal::UnreconstructableException(
            "Argument object " + Hex(arg.object_id) + " of " + task.function_name +
            " is unknown to this runtime or was already freed"));
        break;
      }
      if (it->second.error) {
        error = it->second.error;  // the upstream failure becomes this task's result
        break;
      }
      held.push_back(it->second.value);
      views.push_back({held.back()->Data(), held.back()->Size()});
    }
  }
  std::string result;
  if (!error) error = Run(task, views, result);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& arg : task.args) {
      if (arg.is_ref) ReleaseLocked(arg.object_id);
    }
  }
  Seal(task.return_id, error ? nullptr : std::make_shared<StringBuffer>(std::move(result)), error);
}

std::exception_ptr LocalModeRuntime::Run(const Task& task, const std::vector<ArgView>& args,
                                         std::string& result) {
  const ray::internal::RemoteFunction* function =
      ray::internal::FunctionManager::Instance().GetFunction(task.function_name);
  if (function == nullptr) {
    return std::make_exception_ptr(ray::internal::RayFunctionNotFound(
        "Function " + task.function_name + " is not registered with RAY_REMOTE"));
  }
  for (int attempt = 0;; ++attempt) {
    try {
      result = (*function)(args);
      return nullptr;
    } catch (...) {
      const int max_retries = task.options.max_retries;
      bool retry = task.options.retry_exceptions && (max_retries < 0 || attempt < max_retries);
      if (!retry) {
        return std::make_exception_ptr(ray::internal::RayTaskException(
            FormatTaskError(task.function_name, std::current_exception())));
      }
    }
  }
}

void LocalModeRuntime::Seal(const std::string& id, std::shared_ptr<Buffer> value,
                            std::exception_ptr error) {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return;  // every reference was dropped before it finished
    Object& object = it->second;
    object.ready = true;
    object.value = std::move(value);
    object.error = error;
    callbacks.swap(object.on_ready);
  }
  ready_cv_.notify_all();
  for (auto& callback : callbacks) callback();
}

void LocalModeRuntime::AddLocalReference(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  if (it != objects_.end()) ++it->second.references;
}

void LocalModeRuntime::RemoveLocalReference(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseLocked(id);
}

void LocalModeRuntime::ReleaseLocked(const std::string& id) {
  auto it = objects_.find(id);
  if (it == objects_.end() || --it->second.references > 0 || it->second.escaped) return;
  if (it->second.error && !it->second.fetched) {
    try {
      std::rethrow_exception(it->second.error);
    } catch (const std::exception& e) {
      spdlog::warn("An error in object {} was never retrieved: {}", Hex(id), e.what());
    } catch (...) {
      spdlog::warn("An error in object {} was never retrieved", Hex(id));
    }
  }
  objects_.erase(it);
}

std::string LocalModeRuntime::GetOwnerAddress(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  if (it != objects_.end()) it->second.escaped = true;
  return kOwnerAddress;
}

void LocalModeRuntime::RegisterBorrowedReference(const std::string& /*id*/,
                                                 const std::string& /*owner_address*/) {
  // One process owns everything in local mode.
}

size_t LocalModeRuntime::NumObjects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace moray::api
