// The boundary between the header-only public API (templates in include/ray/) and the runtime in
// libmoray. Everything the templates need from a running Moray goes through RayRuntime; there are
// two implementations: the cluster runtime (src/api/cluster_runtime.*, over the core worker) and the
// local-mode runtime (src/api/local_mode_runtime.*, a thread pool in the driver).
//
// Object ids cross this boundary as opaque binary strings. Values cross it as msgpack bytes.
// Errors: methods throw the exceptions of ray/api/ray_exception.h (this is the public-API side of
// the runtime; nothing inside src/ except src/api throws).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ray::internal {

// Read-only bytes of one object. Kept alive by the shared_ptr that holds it; for large objects a
// view into shared memory that pins the object while alive.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual const char* Data() const = 0;
  virtual size_t Size() const = 0;
};

// A Buffer that owns a std::string.
class StringBuffer final : public Buffer {
 public:
  explicit StringBuffer(std::string data) : data_(std::move(data)) {}
  const char* Data() const override { return data_.data(); }
  size_t Size() const override { return data_.size(); }
  const std::string& str() const { return data_; }

 private:
  std::string data_;
};

// One task argument: a msgpack value, or a reference resolved (to its value) before the task runs.
struct TaskArgument {
  bool is_ref = false;
  std::string value;      // msgpack bytes, when !is_ref
  std::string object_id;  // binary object id, when is_ref
};

// Options of one task submission (TaskCaller setters).
struct TaskOptions {
  std::string name;  // empty: the function name
  std::unordered_map<std::string, double> resources;  // empty: {"CPU": 1}
  int max_retries = 3;  // -1: infinite
  bool retry_exceptions = false;
};

class RayRuntime {
 public:
  virtual ~RayRuntime() = default;

  // Stores `data` (msgpack bytes) as a new object owned by this process; returns its id.
  virtual std::string Put(std::string data) = 0;

  // Blocks until every object is available, or `timeout_ms` passed (-1: forever). Returns the
  // values in input order. Throws RayTimeoutException on expiry, and the exception an object holds
  // (RayTaskException, RayWorkerException, UnreconstructableException, ...) when it is an error.
  virtual std::vector<std::shared_ptr<Buffer>> Get(const std::vector<std::string>& ids,
                                                   int timeout_ms) = 0;

  // Returns, in input order, which objects are ready once `num_objects` of them are or the time is
  // up (`timeout_ms` -1: forever). An object holding an error counts as ready.
  virtual std::vector<bool> Wait(const std::vector<std::string>& ids, int num_objects,
                                 int timeout_ms) = 0;

  // Submits a call of the registered function `function_name`; returns the id of its return
  // object. Throws RayException for invalid options.
  virtual std::string SubmitTask(const std::string& function_name, std::vector<TaskArgument> args,
                                 const TaskOptions& options) = 0;

  // Counting of ObjectRef handles held by this process. Add on copy/creation, Remove on destruction.
  virtual void AddLocalReference(const std::string& id) = 0;
  virtual void RemoveLocalReference(const std::string& id) = 0;

  // An ObjectRef serialized inside a value carries its owner's address so that the process that
  // deserializes it can reach the owner. Both are opaque strings.
  virtual std::string GetOwnerAddress(const std::string& id) = 0;
  virtual void RegisterBorrowedReference(const std::string& id,
                                         const std::string& owner_address) = 0;

  // Stores an object of `size` serialized bytes written by `write` into memory the runtime
  // provides — in shared memory for large objects, so the bytes are copied once.
  virtual std::string PutWith(size_t size, const std::function<void(char*)>& write) {
    std::string data(size, '\0');
    write(data.data());
    return Put(std::move(data));
  }

  // Objects this process tracks, for moray::GetLocalObjectStats (include/moray/objects.h):
  // {owned, borrowed, values held in memory, bytes used in the node's object store}. Runtimes
  // without the notion report zeros.
  virtual std::vector<size_t> LocalObjectCounts() { return {0, 0, 0, 0}; }
  // This process's mapping of its node's shared-memory object store: {base, size}; {nullptr, 0}
  // when there is none.
  virtual std::pair<const char*, size_t> ObjectStoreMapping() { return {nullptr, 0}; }
};

// The runtime of this process, or nullptr before Init / after Shutdown.
RayRuntime* GetRuntimeOrNull();

// The runtime of this process; throws RayException("Ray has not been initialized...") if none.
RayRuntime& GetRuntime();

}  // namespace ray::internal
