// FunctionManager: the process's registry of remote functions (filled by RAY_REMOTE at static-
// initialization time, also from dlopen'ed user libraries) and the execution contract the worker
// uses to run them.
//
//   // Worker side: run a task.
//   const ray::internal::RemoteFunction* fn =
//       ray::internal::FunctionManager::Instance().GetFunction("Plus");
//   std::vector<ray::internal::ArgView> args = {{a.data(), a.size()}, {b.data(), b.size()}};
//   std::string result = (*fn)(args);  // msgpack bytes of the return value (nil for void)
//
//   // Caller side: the name a function was registered under.
//   std::string name = FunctionManager::Instance().GetFunctionName(FunctionKey(&Plus));  // "Plus"
//
// The registry lives in libmoray (src/api/function_manager.cc): exactly one per process. It is
// thread-safe; registered entries are never removed, so returned pointers stay valid for the life
// of the process (as long as the library that registered them stays loaded).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

namespace ray::internal {

// One msgpack-encoded argument; borrowed, valid for the duration of the call.
struct ArgView {
  const char* data;
  size_t size;
};

// Calls the function with the given arguments and returns the msgpack bytes of its result (msgpack
// nil for void). Throws whatever user code throws; throws std::invalid_argument with a clear
// message ("function Plus takes 2 arguments but the caller passed 3", "argument 1 of Plus: cannot
// convert the value to int (msgpack: ...)") on an arity/type mismatch.
using RemoteFunction = std::function<std::string(const std::vector<ArgView>& args)>;

// As RemoteFunction, for a member function (&Class::Method): `instance` points to the Class
// object to call it on (the actor layer adjusts pointers for methods of base classes).
using RemoteMemberFunction =
    std::function<std::string(void* instance, const std::vector<ArgView>& args)>;

// For a registered function returning `T*` (an actor factory): calls it and returns the new
// instance, owned by the shared_ptr (whose deleter deletes it as a T). Errors as RemoteFunction.
using ActorFactory = std::function<std::shared_ptr<void>(const std::vector<ArgView>& args)>;

// Identifies a function by its address and type, so that ray::Task(Plus) finds "Plus".
template <typename F>
std::string FunctionKey(F f) {
  std::string key(reinterpret_cast<const char*>(&f), sizeof(F));
  key += typeid(F).name();
  return key;
}

class FunctionManager {
 public:
  // What one registered name can do; the callables that do not apply are empty.
  struct Entry {
    RemoteFunction function;              // free and static member functions
    RemoteMemberFunction member_function;  // &Class::Method
    ActorFactory actor_factory;            // functions returning a pointer to a class
  };

  static FunctionManager& Instance();

  // The callables registered under `name`; nullptr if unknown (or not of that kind).
  const RemoteFunction* GetFunction(const std::string& name) const;
  const RemoteMemberFunction* GetMemberFunction(const std::string& name) const;
  const ActorFactory* GetActorFactory(const std::string& name) const;

  // The name the function with `key` (FunctionKey(f)) was first registered under; "" if none.
  std::string GetFunctionName(const std::string& key) const;

  // Every registered name, sorted.
  std::vector<std::string> GetFunctionNames() const;

  // Conversions of an actor's instance to a base-class subobject, by InstanceAdjuster key
  // ("T>Base"), so a process that runs the actor can call methods of T's bases. Registered at
  // static initialization for every (T, Base) pair some handle calls (actor_handle.h).
  using AdjustFn = void* (*)(void* instance);
  void RegisterAdjuster(const std::string& key, AdjustFn adjust);
  AdjustFn GetAdjuster(const std::string& key) const;  // nullptr if unknown

  // Registers `entry` under `name` for the function identified by `key`. Throws
  // RayException("Duplicate RAY_REMOTE function: <name>") if `name` is taken.
  void Register(const std::string& name, const std::string& key, Entry entry);

  FunctionManager(const FunctionManager&) = delete;
  FunctionManager& operator=(const FunctionManager&) = delete;

 private:
  FunctionManager();
  ~FunctionManager();

  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ray::internal
