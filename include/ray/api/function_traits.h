// FunctionTraits<F>: the return type, parameter types and class of a function pointer or member
// function pointer, used to register and call remote functions.
//
//   using Traits = ray::internal::FunctionTraits<decltype(&Plus)>;  // int Plus(int, int)
//   static_assert(std::is_same_v<Traits::ReturnType, int>);
//   static_assert(Traits::kArity == 2);
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>

namespace ray::internal {

template <typename F>
struct FunctionTraits;  // only function pointers and member function pointers

template <typename R, typename... Args>
struct FunctionTraits<R (*)(Args...)> {
  using ReturnType = R;
  using Class = void;  // a free (or static member) function
  using ArgsTuple = std::tuple<Args...>;
  // Parameter types with cv and references stripped: what the arguments are deserialized into.
  using ValuesTuple = std::tuple<std::decay_t<Args>...>;
  static constexpr size_t kArity = sizeof...(Args);
  static constexpr bool kIsMember = false;
};

template <typename R, typename... Args>
struct FunctionTraits<R (*)(Args...) noexcept> : FunctionTraits<R (*)(Args...)> {};

template <typename R, typename C, typename... Args>
struct FunctionTraits<R (C::*)(Args...)> : FunctionTraits<R (*)(Args...)> {
  using Class = C;
  static constexpr bool kIsMember = true;
};

template <typename R, typename C, typename... Args>
struct FunctionTraits<R (C::*)(Args...) const> : FunctionTraits<R (C::*)(Args...)> {};

template <typename R, typename C, typename... Args>
struct FunctionTraits<R (C::*)(Args...) noexcept> : FunctionTraits<R (C::*)(Args...)> {};

template <typename R, typename C, typename... Args>
struct FunctionTraits<R (C::*)(Args...) const noexcept> : FunctionTraits<R (C::*)(Args...)> {};

// Selects one overload by its parameter types: RAY_FUNC(f, int, double).
template <typename... Args>
struct OverloadSelector {
  template <typename R>
  constexpr auto operator()(R (*f)(Args...)) const {
    return f;
  }
  template <typename R, typename C>
  constexpr auto operator()(R (C::*f)(Args...)) const {
    return f;
  }
  template <typename R, typename C>
  constexpr auto operator()(R (C::*f)(Args...) const) const {
    return f;
  }
};

}  // namespace ray::internal
