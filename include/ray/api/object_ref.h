// ObjectRef<T>: a reference to an immutable object in Moray (the result of Put or of a task), and
// WaitResult<T>, the answer of ray::Wait.
//
//   ray::ObjectRef<int> ref = ray::Put(42);
//   std::shared_ptr<int> value = ref.Get();           // blocks until available
//   auto maybe = ref.Get(/*timeout_ms=*/100);         // RayTimeoutException if not ready in time
//   std::string id = ref.ID();                        // lower-case hex
//
// Reference counting: every live ObjectRef holding an id counts one local reference with the
// runtime (AddLocalReference on creation and copy, RemoveLocalReference on destruction; a moved-
// from ref holds nothing). Without a runtime (after Shutdown) these are no-ops; destruction never
// throws. An ObjectRef inside a value (a container, a struct, a parameter declared ObjectRef<T>)
// serializes as its id plus its owner's address, and the receiver registers as a borrower.
// Thread-safety: distinct ObjectRefs can be used from any threads; one ObjectRef is like an int.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ray/api/ray_exception.h"
#include "ray/api/ray_runtime.h"
#include "ray/api/serializer.h"
#include "ray/api/util.h"

namespace ray {
namespace internal {

// The id and its local reference; the untyped part of ObjectRef<T>.
class ObjectRefBase {
 public:
  ObjectRefBase() = default;
  explicit ObjectRefBase(std::string binary_id) : id_(std::move(binary_id)) { Acquire(); }
  ObjectRefBase(const ObjectRefBase& other) : id_(other.id_) { Acquire(); }
  ObjectRefBase(ObjectRefBase&& other) noexcept : id_(std::move(other.id_)) { other.id_.clear(); }
  ObjectRefBase& operator=(ObjectRefBase other) noexcept {
    std::swap(id_, other.id_);
    return *this;
  }
  ~ObjectRefBase() { Release(); }

  // The id as lower-case hex; empty for a default-constructed ref.
  std::string ID() const { return BinaryToHex(id_); }
  // The id as raw bytes (what the runtime uses).
  const std::string& BinaryID() const { return id_; }

 private:
  void Acquire() {
    if (id_.empty()) return;
    if (RayRuntime* runtime = GetRuntimeOrNull()) runtime->AddLocalReference(id_);
  }
  void Release() noexcept {
    if (id_.empty()) return;
    try {
      if (RayRuntime* runtime = GetRuntimeOrNull()) runtime->RemoveLocalReference(id_);
    } catch (...) {
      // A destructor must not throw; the runtime is going away anyway.
    }
  }

  std::string id_;
};

template <typename T>
std::shared_ptr<T> DeserializeObject(const std::string& id, const Buffer& buffer) {
  try {
    return Serializer::DeserializeShared<T>(buffer.Data(), buffer.Size());
  } catch (const RayException&) {
    throw;
  } catch (const std::exception& e) {
    throw RayException("Failed to deserialize object " + BinaryToHex(id) + " as " + TypeName<T>() +
                       ": " + e.what());
  }
}

// How Get turns an object's bytes into a T. The default deserializes (a copy); a type may
// specialize it to read in place (moray::ByteView, include/moray/byte_view.h).
template <typename T>
struct ObjectReader {
  static std::shared_ptr<T> Read(const std::string& id, const std::shared_ptr<Buffer>& buffer) {
    return DeserializeObject<T>(id, *buffer);
  }
};

}  // namespace internal

template <typename T>
class ObjectRef : public internal::ObjectRefBase {
 public:
  ObjectRef() = default;
  // Takes a new local reference on `binary_id`.
  explicit ObjectRef(std::string binary_id) : ObjectRefBase(std::move(binary_id)) {}

  // Blocks until the value is available. Throws the error the object holds (RayTaskException, ...),
  // or RayException if the value is not a T.
  std::shared_ptr<T> Get() const { return Get(-1); }
  // As Get(), but throws RayTimeoutException after `timeout_ms` (-1: wait forever).
  std::shared_ptr<T> Get(const int& timeout_ms) const {
    auto buffers = internal::GetRuntime().Get({BinaryID()}, timeout_ms);
    return internal::ObjectReader<T>::Read(BinaryID(), buffers.at(0));
  }

  bool operator==(const ObjectRef& other) const { return BinaryID() == other.BinaryID(); }
  bool operator!=(const ObjectRef& other) const { return !(*this == other); }
};

// The result of a void task: Get only waits and rethrows the task's error.
template <>
class ObjectRef<void> : public internal::ObjectRefBase {
 public:
  ObjectRef() = default;
  explicit ObjectRef(std::string binary_id) : ObjectRefBase(std::move(binary_id)) {}

  void Get() const { Get(-1); }
  void Get(const int& timeout_ms) const { internal::GetRuntime().Get({BinaryID()}, timeout_ms); }

  bool operator==(const ObjectRef& other) const { return BinaryID() == other.BinaryID(); }
  bool operator!=(const ObjectRef& other) const { return !(*this == other); }
};

// Which of the refs given to ray::Wait are ready; both lists keep the input order.
template <typename T>
class WaitResult {
 public:
  WaitResult() = default;
  WaitResult(std::list<ObjectRef<T>> ready_refs, std::list<ObjectRef<T>> unready_refs)
      : ready(std::move(ready_refs)), unready(std::move(unready_refs)) {}

  std::list<ObjectRef<T>> ready;
  std::list<ObjectRef<T>> unready;
};

}  // namespace ray

namespace std {
template <typename T>
struct hash<ray::ObjectRef<T>> {
  size_t operator()(const ray::ObjectRef<T>& ref) const {
    return std::hash<std::string>()(ref.BinaryID());
  }
};
}  // namespace std

// An ObjectRef inside a value travels as [bin id, bin owner address].
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <typename T>
struct pack<ray::ObjectRef<T>> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, const ray::ObjectRef<T>& ref) const {
    const std::string& id = ref.BinaryID();
    std::string owner = id.empty() ? "" : ray::internal::GetRuntime().GetOwnerAddress(id);
    o.pack_array(2);
    o.pack_bin(static_cast<uint32_t>(id.size()));
    o.pack_bin_body(id.data(), static_cast<uint32_t>(id.size()));
    o.pack_bin(static_cast<uint32_t>(owner.size()));
    o.pack_bin_body(owner.data(), static_cast<uint32_t>(owner.size()));
    return o;
  }
};

template <typename T>
struct convert<ray::ObjectRef<T>> {
  const msgpack::object& operator()(const msgpack::object& o, ray::ObjectRef<T>& ref) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
    std::string id = o.via.array.ptr[0].as<std::string>();
    std::string owner = o.via.array.ptr[1].as<std::string>();
    if (!id.empty()) ray::internal::GetRuntime().RegisterBorrowedReference(id, owner);
    ref = ray::ObjectRef<T>(std::move(id));
    return o;
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
