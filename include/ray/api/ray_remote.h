// RAY_REMOTE registers functions so that tasks (and later actors) can call them by name in any
// process running the same code. Use it once per function, at namespace scope, in a .cc file:
//
//   int Plus(int a, int b) { return a + b; }
//   int Twice(int a) { return 2 * a; }
//   double Twice(double a) { return 2 * a; }
//   RAY_REMOTE(Plus, RAY_FUNC(Twice, int), &Counter::Add, Counter::FactoryCreate);
//
// Each entry is registered under the exact text written (whitespace as the preprocessor
// normalizes it): "Plus", "RAY_FUNC(Twice, int)", "&Counter::Add", "Counter::FactoryCreate".
// RAY_FUNC(f, Ts...) selects the overload of f taking parameters Ts. Registering a name twice throws
// RayException("Duplicate RAY_REMOTE function: <name>"), which at static-initialization time
// terminates the program.
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "ray/api/function_manager.h"
#include "ray/api/function_traits.h"
#include "ray/api/invoker.h"
#include "ray/api/ray_exception.h"

namespace ray::internal {

// Splits the stringized RAY_REMOTE arguments at top-level commas (not inside (), <>, [] or {}) and
// trims spaces. Defined in libmoray.
std::vector<std::string> SplitRemoteNames(const std::string& text);

template <typename F>
void RegisterRemoteFunction(const std::string& name, F f) {
  constexpr bool kIsFunctionPointer =
      std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>;
  static_assert(kIsFunctionPointer || std::is_member_function_pointer_v<F>,
                "RAY_REMOTE takes functions, static member functions and member functions "
                "(&Class::Method); use RAY_FUNC(f, ParamTypes...) to pick one overload");
  using Traits = FunctionTraits<F>;
  using R = typename Traits::ReturnType;
  FunctionManager::Entry entry;
  if constexpr (Traits::kIsMember) {
    entry.member_function = [name, f](void* instance, const std::vector<ArgView>& args) {
      return Invoker<F>::CallMember(name, f, instance, args);
    };
  } else if constexpr (std::is_pointer_v<R>) {
    static_assert(std::is_class_v<std::remove_pointer_t<R>>,
                  "a remote function returning a pointer must return a pointer to a class (an "
                  "actor factory)");
    entry.actor_factory = [name, f](const std::vector<ArgView>& args) {
      return Invoker<F>::Create(name, f, args);
    };
  } else {
    entry.function = [name, f](const std::vector<ArgView>& args) {
      return Invoker<F>::Call(name, f, args);
    };
  }
  FunctionManager::Instance().Register(name, FunctionKey(f), std::move(entry));
}

// What RAY_REMOTE expands to: `names_text` is the stringized argument list.
template <typename... Fs>
bool RegisterRemoteFunctions(const std::string& names_text, Fs... fs) {
  std::vector<std::string> names = SplitRemoteNames(names_text);
  if (names.size() != sizeof...(Fs)) {
    throw RayException("RAY_REMOTE(" + names_text + "): found " + std::to_string(names.size()) +
                       " names for " + std::to_string(sizeof...(Fs)) + " functions");
  }
  size_t index = 0;
  (RegisterRemoteFunction(names[index++], fs), ...);
  return true;
}

}  // namespace ray::internal

#define RAY_INTERNAL_CONCAT_IMPL(a, b) a##b
#define RAY_INTERNAL_CONCAT(a, b) RAY_INTERNAL_CONCAT_IMPL(a, b)

#define RAY_REMOTE(...)                                                                   \
  [[maybe_unused]] static const bool RAY_INTERNAL_CONCAT(ray_remote_registered_,          \
                                                         __COUNTER__) =                   \
      ::ray::internal::RegisterRemoteFunctions(#__VA_ARGS__, __VA_ARGS__)

#define RAY_FUNC(f, ...) ::ray::internal::OverloadSelector<__VA_ARGS__>()(f)
