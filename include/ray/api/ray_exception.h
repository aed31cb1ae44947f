// The exceptions the public API throws. Every error a user can see from Moray is a RayException or
// one of its subclasses; the subclass says what failed, the message says why.
//
//   try {
//     auto value = ray::Get(ref, /*timeout_ms=*/1000);
//   } catch (const ray::internal::RayTimeoutException& e) {
//     // not ready within a second
//   } catch (const ray::internal::RayTaskException& e) {
//     std::cerr << e.what();  // "An exception was thrown while executing function(Plus): ..."
//   }
#pragma once

#include <exception>
#include <string>
#include <utility>

namespace ray::internal {

class RayException : public std::exception {
 public:
  RayException() = default;
  explicit RayException(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// The actor died (its process exited, its factory threw, or it was killed).
class RayActorException : public RayException {
 public:
  using RayException::RayException;
};

// User code threw while executing a task; the message names the function, the exception type and
// its what().
class RayTaskException : public RayException {
 public:
  using RayException::RayException;
};

// The worker process running the task died.
class RayWorkerException : public RayException {
 public:
  using RayException::RayException;
};

// The object is lost and cannot be rebuilt (e.g. its owner died, or it was a lost Put).
class UnreconstructableException : public RayException {
 public:
  using RayException::RayException;
};

// A task or actor refers to a function no process has registered with RAY_REMOTE.
class RayFunctionNotFound : public RayException {
 public:
  using RayException::RayException;
};

// A RuntimeEnv field is missing, holds the wrong type, or the JSON is malformed; or setting up the
// environment failed.
class RayRuntimeEnvException : public RayException {
 public:
  using RayException::RayException;
};

// Beyond Ray's C++ API: the task was cancelled (ray::Cancel). Get of its return throws this;
// inside a task that was cancelled while it ran, the next runtime call (Get, Wait, Put, a
// Remote) throws it, so the task stops unless it catches it.
class TaskCancelledException : public RayException {
 public:
  using RayException::RayException;
};

// Get did not finish within its timeout.
class RayTimeoutException : public RayException {
 public:
  using RayException::RayException;
};

}  // namespace ray::internal

namespace ray {
using internal::RayActorException;
using internal::RayException;
using internal::RayFunctionNotFound;
using internal::RayRuntimeEnvException;
using internal::RayTaskException;
using internal::RayTimeoutException;
using internal::RayWorkerException;
using internal::TaskCancelledException;
using internal::UnreconstructableException;
}  // namespace ray
