// Invoker<F>: turns msgpack arguments into a call of F and its result into msgpack bytes. This is
// what RAY_REMOTE stores in the FunctionManager for each registered function.
//
//   std::string result = ray::internal::Invoker<int (*)(int, int)>::Call("Plus", &Plus, args);
//
// Arguments are converted to the declared parameter types with cv and references stripped (so the
// types need a default constructor). A wrong argument count or a value of the wrong type throws
// std::invalid_argument naming the function and the (1-based) argument.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "ray/api/function_manager.h"
#include "ray/api/function_traits.h"
#include "ray/api/ray_exception.h"
#include "ray/api/serializer.h"
#include "ray/api/util.h"

namespace ray::internal {

template <typename F>
class Invoker {
  using Traits = FunctionTraits<F>;
  using R = typename Traits::ReturnType;
  using ArgsTuple = typename Traits::ArgsTuple;
  using ValuesTuple = typename Traits::ValuesTuple;
  using Indices = std::make_index_sequence<Traits::kArity>;

 public:
  // Free and static member functions.
  static std::string Call(const std::string& name, F f, const std::vector<ArgView>& args) {
    static_assert(!std::is_pointer_v<R>,
                  "a function returning a pointer is an actor factory: call it with ray::Actor");
    ValuesTuple values = Unpack(name, args);
    auto call = [&](auto&&... a) -> R { return f(std::forward<decltype(a)>(a)...); };
    return SerializeResult(call, values);
  }

  // Member functions; `instance` points to a Traits::Class.
  static std::string CallMember(const std::string& name, F f, void* instance,
                                const std::vector<ArgView>& args) {
    using C = typename Traits::Class;
    ValuesTuple values = Unpack(name, args);
    C* object = static_cast<C*>(instance);
    auto call = [&](auto&&... a) -> R { return (object->*f)(std::forward<decltype(a)>(a)...); };
    return SerializeResult(call, values);
  }

  // Functions returning T*: the new T, owned by the result.
  static std::shared_ptr<void> Create(const std::string& name, F f,
                                      const std::vector<ArgView>& args) {
    using T = std::remove_pointer_t<R>;
    ValuesTuple values = Unpack(name, args);
    auto call = [&](auto&&... a) -> R { return f(std::forward<decltype(a)>(a)...); };
    T* instance = Apply(call, values, Indices{});
    return std::shared_ptr<void>(instance, [](void* p) { delete static_cast<T*>(p); });
  }

 private:
  static ValuesTuple Unpack(const std::string& name, const std::vector<ArgView>& args) {
    if (args.size() != Traits::kArity) {
      throw std::invalid_argument("function " + name + " takes " + std::to_string(Traits::kArity) +
                                  " argument" + (Traits::kArity == 1 ? "" : "s") +
                                  " but the caller passed " + std::to_string(args.size()));
    }
    ValuesTuple values;
    UnpackAll(name, args, values, Indices{});
    return values;
  }

  template <size_t... I>
  static void UnpackAll([[maybe_unused]] const std::string& name,
                        [[maybe_unused]] const std::vector<ArgView>& args,
                        [[maybe_unused]] ValuesTuple& values, std::index_sequence<I...>) {
    (UnpackOne(name, I, args[I], std::get<I>(values)), ...);
  }

  template <typename T>
  static void UnpackOne(const std::string& name, size_t index, ArgView arg, T& value) {
    try {
      Serializer::DeserializeInto(arg.data, arg.size, value);
    } catch (const RayException&) {
      throw;  // the runtime failed (e.g. registering a borrowed ref), not a mismatch
    } catch (const std::exception& e) {
      throw std::invalid_argument("argument " + std::to_string(index + 1) + " of " + name +
                                  ": cannot convert the value to " + TypeName<T>() +
                                  " (msgpack: " + e.what() + ")");
    }
  }

  template <typename Callable>
  static std::string SerializeResult(Callable& call, ValuesTuple& values) {
    if constexpr (std::is_void_v<R>) {
      Apply(call, values, Indices{});
      return Serializer::SerializeNil();
    } else {
      return Serializer::Serialize(Apply(call, values, Indices{}));
    }
  }

  // Passes each value as the declared parameter type (moved into by-value and rvalue parameters).
  template <typename Callable, size_t... I>
  static R Apply(Callable& call, ValuesTuple& values, std::index_sequence<I...>) {
    return call(static_cast<std::tuple_element_t<I, ArgsTuple>&&>(std::get<I>(values))...);
  }
};

}  // namespace ray::internal
