// Calling Python from C++ (Ray's names; docs/python.md, "Across languages"):
//
//   // tasks.py, in a directory on the job's code_search_path:  def add(a, b): return a + b
//   ray::ObjectRef<int> sum = ray::Task(ray::PyFunction<int>{"tasks", "add"}).Remote(1, 2);
//
//   // class Counter: def __init__(self, start): ...   def add(self, n): ...
//   ray::ActorHandleXlang counter = ray::Actor(ray::PyActorClass{"tasks", "Counter"}).Remote(10);
//   ray::ObjectRef<int> total = counter.Task(ray::PyActorMethod<int>{"add"}).Remote(5);
//
// The Python worker imports the module (from the job's code_search_path directories, its
// PYTHONPATH or its installed packages) and calls the function, class or method by name.
// Arguments and results cross as msgpack: any argument the C++ API can serialize (numbers,
// strings, vectors, maps, MSGPACK_DEFINE structs) arrives as the matching Python value (list,
// dict, ...), and the Python result is read as R (a Python value with no msgpack form fails the
// call). Arguments are not checked against Python's parameters: a mismatch, and any exception
// the Python code raises, reaches Get as RayTaskException carrying the Python traceback. A task
// that cannot start a Python worker (no interpreter: see docs/python.md) fails with a
// RayRuntimeEnvException or RayException that says so. Local mode refuses these calls.
#pragma once

#include <string>
#include <tuple>
#include <type_traits>

#include "ray/api/function_traits.h"

namespace ray {

// A Python function `function_name` of module `module_name` returning an R (msgpack).
template <typename R>
struct PyFunction {
  bool IsPython() { return true; }
  R operator()() { return {}; }
  std::string module_name;
  std::string function_name;
};

// A Python class `class_name` of module `module_name`, created with ray::Actor(...).Remote(args).
struct PyActorClass {
  bool IsPython() { return true; }
  void operator()() {}
  std::string module_name;
  std::string class_name;
  std::string function_name = "__init__";
};

// A method of a Python actor, called on an ActorHandleXlang; returns an R (msgpack).
template <typename R>
struct PyActorMethod {
  bool IsPython() { return true; }
  R operator()() { return {}; }
  std::string function_name;
};

namespace internal {

// What an ActorHandle of a Python actor is a handle of (ray::ActorHandleXlang).
struct XlangActor {};

template <typename F>
struct IsXlang : std::false_type {};
template <typename R>
struct IsXlang<PyFunction<R>> : std::true_type {};
template <>
struct IsXlang<PyActorClass> : std::true_type {};
template <typename R>
struct IsXlang<PyActorMethod<R>> : std::true_type {};
template <typename F>
inline constexpr bool kIsXlang = IsXlang<F>::value;

// The callers' view of a Python callable: its result type; parameters are not known (any
// arguments are accepted and sent as msgpack).
template <typename R>
struct FunctionTraits<PyFunction<R>> {
  using ReturnType = R;
  using Class = void;
  using ArgsTuple = std::tuple<>;
  using ValuesTuple = std::tuple<>;
  static constexpr size_t kArity = 0;
  static constexpr bool kIsMember = false;
};
template <>
struct FunctionTraits<PyActorClass> : FunctionTraits<PyFunction<XlangActor*>> {};
template <typename R>
struct FunctionTraits<PyActorMethod<R>> : FunctionTraits<PyFunction<R>> {};

}  // namespace internal
}  // namespace ray
