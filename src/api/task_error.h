// The message of a RayTaskException, shared by local mode and the cluster worker so both report a
// failed task identically.
#pragma once

#include <exception>
#include <string>

namespace moray::api {

// "An exception was thrown while executing function(<function_name>): <demangled type>: <what>".
// For an exception not derived from std::exception, <what> is "(not a std::exception)".
// `error` must not be null.
std::string FormatTaskError(const std::string& function_name, std::exception_ptr error);

}  // namespace moray::api
