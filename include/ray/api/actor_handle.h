// ActorHandle<T>: a reference to a live actor of class T (what ray::Actor(factory).Remote(...) and
// ray::GetActor<T>(name) return). Copyable and cheap; copies refer to the same actor. Handles can be
// passed to and returned from tasks and actor methods (they serialize as the actor's id and its
// owner's address). Handles are counted like ObjectRefs, in every process that holds one: when
// none remains anywhere (and no call is pending), a non-detached actor is killed.
//
//   ray::ActorHandle<Counter> counter = ray::Actor(CreateCounter).Remote(0);
//   counter.Task(&Counter::Add).Remote(1);
//   int value = *counter.Task(&Counter::Get).Remote().Get();
//   counter.Kill();  // later calls fail with RayActorException
//
// Task(&Base::Method) works for methods of any (accessible, unambiguous) base class of T and
// dispatches virtually: the call reaches the Base subobject of the actor's T.
#pragma once

#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "ray/api/actor_task_caller.h"
#include "ray/api/function_manager.h"
#include "ray/api/function_traits.h"
#include "ray/api/ray_exception.h"
#include "ray/api/ray_runtime.h"
#include "ray/api/serializer.h"
#include "ray/api/util.h"

namespace ray {
namespace internal {

// Converts the actor's instance (a T*, type-erased) to its Base subobject.
template <typename T, typename Base>
void* AdjustInstance(void* instance) {
  Base* base = static_cast<T*>(instance);  // derived-to-base: offsets and virtual bases handled
  return base;
}

template <typename T, typename Base>
std::string AdjusterKey() {
  return std::string(typeid(T).name()) + ">" + typeid(Base).name();
}

// Registers AdjustInstance<T, Base> under its key when the program (or library) starts, in every
// process that runs it — so the actor's process knows the conversion a caller names.
template <typename T, typename Base>
struct AdjusterRegistration {
  static inline const bool registered = [] {
    FunctionManager::Instance().RegisterAdjuster(AdjusterKey<T, Base>(), &AdjustInstance<T, Base>);
    return true;
  }();
};

template <typename T, typename Base>
InstanceAdjuster MakeInstanceAdjuster() {
  InstanceAdjuster adjuster;
  if constexpr (!std::is_same_v<T, Base>) {
    (void)AdjusterRegistration<T, Base>::registered;
    adjuster.adjust = &AdjustInstance<T, Base>;
    adjuster.key = AdjusterKey<T, Base>();
  }
  return adjuster;
}

}  // namespace internal

template <typename T>
class ActorHandle {
 public:
  // An empty handle (no actor); what deserialization fills in.
  ActorHandle() = default;
  // A handle to the actor with binary id `actor_id`.
  explicit ActorHandle(std::string actor_id) : id_(std::move(actor_id)) { Acquire(); }
  ActorHandle(const ActorHandle& other) : id_(other.id_) { Acquire(); }
  ActorHandle(ActorHandle&& other) noexcept : id_(std::move(other.id_)) { other.id_.clear(); }
  ActorHandle& operator=(const ActorHandle& other) {
    if (this != &other) {
      ActorHandle copy(other);
      *this = std::move(copy);
    }
    return *this;
  }
  ActorHandle& operator=(ActorHandle&& other) noexcept {
    if (this != &other) {
      Release();
      id_ = std::move(other.id_);
      other.id_.clear();
    }
    return *this;
  }
  ~ActorHandle() { Release(); }

  // The actor's id as lower-case hex.
  std::string ID() const { return internal::BinaryToHex(id_); }
  // The id as raw bytes (what the runtime uses).
  const std::string& BinaryID() const { return id_; }

  // Starts building a call of `method`, a member function of T or of a base class of T,
  // registered with RAY_REMOTE. Throws RayException("Function not found. ...") otherwise.
  template <typename F>
  internal::ActorTaskCaller<F> Task(F method) const {
    static_assert(std::is_member_function_pointer_v<F>,
                  "ActorHandle<T>::Task takes a member function (&Class::Method)");
    using Base = typename internal::FunctionTraits<F>::Class;
    static_assert(std::is_base_of_v<Base, T>,
                  "ActorHandle<T>::Task(&Class::Method): Class must be T or a base class of T");
    static_assert(std::is_convertible_v<T*, Base*>,
                  "ActorHandle<T>::Task(&Class::Method): Class must be a public, unambiguous base "
                  "class of T");
    std::string name =
        internal::FunctionManager::Instance().GetFunctionName(internal::FunctionKey(method));
    if (name.empty()) {
      throw RayException("Function not found. Please use RAY_REMOTE to register this function.");
    }
    return internal::ActorTaskCaller<F>(id_, std::move(name),
                                        internal::MakeInstanceAdjuster<T, Base>());
  }
  // A call of a Python actor's method (ray::PyActorMethod<R>{"name"}); only on an
  // ActorHandleXlang (ray/api/xlang_function.h).
  template <typename R>
  internal::ActorTaskCaller<PyActorMethod<R>> Task(PyActorMethod<R> method) const {
    static_assert(std::is_same_v<T, internal::XlangActor>,
                  "PyActorMethod calls a Python actor: use it on an ActorHandleXlang");
    if (method.function_name.empty()) throw RayException("PyActorMethod: the method name is empty");
    return internal::ActorTaskCaller<PyActorMethod<R>>(id_, std::move(method.function_name), {});
  }

  // Kills the actor without restarting it; calls made afterwards fail with RayActorException.
  void Kill() { Kill(true); }
  // Kills the actor; with `no_restart` false it restarts if it has restarts left.
  void Kill(bool no_restart) { internal::GetRuntime().KillActor(id_, no_restart); }

  // The handle whose serialized form (Serializer::Serialize(handle)) is `serialized`. Throws
  // RayException for bytes that are not a serialized handle.
  static ActorHandle FromBytes(const std::string& serialized) {
    try {
      return internal::Serializer::Deserialize<ActorHandle>(serialized.data(), serialized.size());
    } catch (const RayException&) {
      throw;
    } catch (const std::exception& e) {
      throw RayException(std::string("ActorHandle::FromBytes: not a serialized actor handle (") +
                         e.what() + ")");
    }
  }
  // Beyond Ray: the bytes FromBytes accepts.
  std::string ToBytes() const { return internal::Serializer::Serialize(*this); }

  bool operator==(const ActorHandle& other) const { return id_ == other.id_; }
  bool operator!=(const ActorHandle& other) const { return id_ != other.id_; }

 private:
  void Acquire() {
    if (id_.empty()) return;
    if (internal::RayRuntime* runtime = internal::GetRuntimeOrNull()) {
      runtime->AddLocalReference(id_);
    }
  }
  void Release() noexcept {
    if (id_.empty()) return;
    try {
      if (internal::RayRuntime* runtime = internal::GetRuntimeOrNull()) {
        runtime->RemoveLocalReference(id_);
      }
    } catch (...) {
      // A destructor must not throw; the runtime is going away anyway.
    }
  }

  std::string id_;
};

// A handle to a Python actor (ray::Actor(PyActorClass{...}).Remote(...)); its methods are called
// with Task(PyActorMethod<R>{"name"}).
using ActorHandleXlang = ActorHandle<internal::XlangActor>;

}  // namespace ray

// A handle inside a value travels as [bin actor id, bin owner address] (like an ObjectRef: the
// receiver registers as a borrower with the owner).
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <typename T>
struct pack<ray::ActorHandle<T>> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, const ray::ActorHandle<T>& handle) const {
    const std::string& id = handle.BinaryID();
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
struct convert<ray::ActorHandle<T>> {
  const msgpack::object& operator()(const msgpack::object& o, ray::ActorHandle<T>& handle) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
    std::string id = o.via.array.ptr[0].as<std::string>();
    std::string owner = o.via.array.ptr[1].as<std::string>();
    if (!id.empty() && !owner.empty()) {
      ray::internal::GetRuntime().RegisterBorrowedReference(id, owner);
    }
    handle = ray::ActorHandle<T>(std::move(id));
    return o;
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
